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

/** Every component of the layer, by name; each is a pure function of the environment's config. */
export const components: Record<string, (env: Environment) => KubeObject[]> = {
  namespaces,
  "network-policies": networkPolicies,
  postgres,
  pgbouncer,
  redis,
  kafka,
  typesense,
  debezium,
};
