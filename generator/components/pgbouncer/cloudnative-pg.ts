// PgBouncer as CloudNativePG's Pooler in front of the Cluster's read-write Service.
import type { Environment } from "../../config/types.ts";
import type { KubeObject } from "../../lib/objects.ts";
import { serviceHost } from "../../lib/topology.ts";
import type { PgBouncerContract } from "../contracts.ts";

/** Named as the Deployment of the other environments: the backend's host stays the same. */
export const poolerName = "nx-pgbouncer";

/** CloudNativePG's PgBouncer listens on PostgreSQL's port, and its Service offers the same. */
const port = 5432;

export function cloudNativePgPooler(env: Environment): KubeObject[] {
  if (env.postgres.cluster.kind !== "cloudnative-pg") throw new Error("a CloudNativePG Pooler needs a CloudNativePG Cluster");
  return [];
}

export function cloudNativePgPoolerContract(env: Environment): PgBouncerContract {
  return {
    namespace: env.common.namespaces.persistent,
    host: serviceHost(poolerName, env.common.namespaces.persistent, env.common.clusterDomain),
    port,
    podPort: port,
    databases: Object.fromEntries(env.postgres.schemas.map((schema) => [schema, env.postgres.database])),
    pods: { matchLabels: { "cnpg.io/poolerName": poolerName } },
    secrets: [],
  };
}
