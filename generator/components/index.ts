import type { Environment } from "../config/types.ts";
import type { KubeObject } from "../lib/objects.ts";
import { debezium } from "./debezium.ts";
import { kafka } from "./kafka.ts";
import { namespaces } from "./namespaces.ts";
import { networkPolicies } from "./network-policies.ts";
import { pgbouncer } from "./pgbouncer.ts";
import { postgres } from "./postgres.ts";
import { redis } from "./redis.ts";
import { typesense } from "./typesense.ts";

/** A component: a pure function from an environment's config to the typed objects it runs. */
export type Component = (env: Environment) => KubeObject[];

/** Every component of the layer, by name. */
export const components: Readonly<Record<string, Component>> = {
  namespaces,
  "network-policies": networkPolicies,
  postgres,
  pgbouncer,
  redis,
  kafka,
  typesense,
  debezium,
};
