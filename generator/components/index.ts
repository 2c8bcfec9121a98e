import type { Environment } from "../config/types.ts";
import type { KubeObject } from "../lib/objects.ts";
import type { Reads } from "./contracts.ts";
import { debezium, debeziumContract } from "./debezium.ts";
import { externalSecrets } from "./external-secrets.ts";
import { kafka, kafkaContract } from "./kafka/index.ts";
import { namespaces } from "./namespaces.ts";
import { networkPolicies } from "./network-policies.ts";
import { pgbouncer, pgbouncerContract } from "./pgbouncer/index.ts";
import { postgres, postgresContract } from "./postgres/index.ts";
import { redis, redisContract } from "./redis/index.ts";
import { typesense, typesenseContract } from "./typesense.ts";

/** A component: a pure function from an environment's config to the typed objects it runs. */
export type Component = (env: Environment) => KubeObject[];

/** Every component of the layer, by name. */
export const components: Readonly<Record<string, Component>> = {
  namespaces,
  postgres,
  pgbouncer,
  redis,
  kafka,
  typesense,
  debezium,
  "external-secrets": (env) => externalSecrets(env, secretsRead(env)),
  // Last: it reads every other component's contract.
  "network-policies": networkPolicies,
};

/** The Secrets each component's objects read, by namespace, as their contracts declare them. */
export function secretsRead(env: Environment): Reads[] {
  return [postgresContract, pgbouncerContract, redisContract, kafkaContract, typesenseContract, debeziumContract].map((contract) => {
    const { namespace, secrets } = contract(env);
    return { namespace, secrets };
  });
}
