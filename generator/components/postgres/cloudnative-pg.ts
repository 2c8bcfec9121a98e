// PostgreSQL as a CloudNativePG Cluster: the operator runs the primary, the standbys, failover and
// the backups; the layer declares what it wants.
import type { Environment, PostgresCloudNativePg } from "../../config/types.ts";
import type { KubeObject } from "../../lib/objects.ts";
import { serviceHost } from "../../lib/topology.ts";
import type { PostgresContract } from "../contracts.ts";
import { checkPostgres, postgresPort } from "./model.ts";

/** The Cluster's name: CloudNativePG names its Services, pods and Secrets after it. */
export const clusterName = "nx-postgresql";

export function cloudNativePgOf(env: Environment): PostgresCloudNativePg {
  const cluster = env.postgres.cluster;
  if (cluster.kind !== "cloudnative-pg") throw new Error(`postgres.cluster is ${cluster.kind}, not cloudnative-pg`);
  return cluster;
}

// The pods CloudNativePG labels as instances of this Cluster (a Pooler's pods carry cnpg.io/cluster too).
const instances = { matchLabels: { "cnpg.io/cluster": clusterName, "cnpg.io/podRole": "instance" } };

const secret = (name: string, key: string, holds: string) => ({ name, key, holds });

function secrets(env: Environment) {
  const { app, debezium } = env.postgres.users;
  return {
    app: secret(`${clusterName}-app`, "password", `password of the application user ${app} (with username: ${app})`),
    debezium: secret(`${clusterName}-debezium`, "password", `password of the Debezium user ${debezium} (with username: ${debezium})`),
  };
}

export function cloudNativePgPostgres(env: Environment): KubeObject[] {
  cloudNativePgOf(env);
  checkPostgres(env, `Cluster ${env.common.namespaces.persistent}/${clusterName}`);
  return [];
}

export function cloudNativePgContract(env: Environment): PostgresContract {
  const s = secrets(env);
  const { app, debezium } = env.postgres.users;
  const maxConnections = cloudNativePgOf(env).settings.find(([k]) => k === "max_connections")?.[1];
  return {
    namespace: env.common.namespaces.persistent,
    // The read-write Service CloudNativePG keeps pointed at the current primary.
    host: serviceHost(`${clusterName}-rw`, env.common.namespaces.persistent, env.common.clusterDomain),
    port: postgresPort,
    database: env.postgres.database,
    schemas: env.postgres.schemas,
    app: { user: app, password: s.app },
    debezium: { user: debezium, password: s.debezium },
    maxConnections: Number(maxConnections ?? 100),
    pods: { primary: { matchLabels: { ...instances.matchLabels, "cnpg.io/instanceRole": "primary" } }, servers: instances },
    secrets: Object.values(s),
  };
}
