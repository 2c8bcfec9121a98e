// PgBouncer as CloudNativePG's Pooler in front of the Cluster's read-write Service. CloudNativePG
// writes pgbouncer.ini itself: one wildcard database (`* = host=<cluster>-rw`), users looked up in
// PostgreSQL with auth_query, and only the parameters its webhook allows. So it cannot offer the
// per-schema databases of the Deployment (`connect_query` is a [databases] setting): every schema is
// the one database here, and a service picks its schema per transaction (docs/postgresql.md).
import { Pooler } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Pooler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { Environment } from "../../config/types.ts";
import { InvalidConfig } from "../../lib/errors.ts";
import { recommendedLabels, role } from "../../lib/labels.ts";
import { apiServerAddresses, networkPolicy, type Pods, toAddresses } from "../../lib/network.ts";
import type { KubeObject } from "../../lib/objects.ts";
import { livenessTiming, readinessTiming, resources, tcpProbe } from "../../lib/pod.ts";
import { serviceHost } from "../../lib/topology.ts";
import type { PgBouncerContract } from "../contracts.ts";
import { postgresContract } from "../postgres/index.ts";

/** Named as the Deployment of the other environments: the backend's host stays the same. */
export const poolerName = "nx-pgbouncer";

/** CloudNativePG's PgBouncer listens on PostgreSQL's port, and its Service offers the same. */
const port = 5432;
const metricsPort = 9127;

/** The pooler's pods: CloudNativePG labels them with the Pooler's name. */
const pods: Pods = { matchLabels: { "cnpg.io/poolerName": poolerName } };

const object = (env: Environment) => `Pooler ${env.common.namespaces.persistent}/${poolerName}`;

/** The Cluster the Pooler sits in front of: PostgreSQL must run as a CloudNativePG Cluster. */
function clusterOf(env: Environment): string {
  const cluster = postgresContract(env).cluster;
  if (cluster === undefined) {
    throw new InvalidConfig(object(env), "pgbouncer.pooler.kind", `a CloudNativePG Pooler needs a CloudNativePG Cluster; postgres.cluster.kind is ${env.postgres.cluster.kind}`);
  }
  return cluster;
}

/**
 * The pool limits of every environment, as CloudNativePG's allow-list names them
 * (internal/webhook/v1/pooler_webhook.go); pool_mode is a field of its own.
 */
function parameters(env: Environment): Record<string, string> {
  const cfg = env.pgbouncer;
  return {
    max_client_conn: String(cfg.maxClientConn),
    default_pool_size: String(cfg.defaultPoolSize),
    min_pool_size: String(cfg.minPoolSize),
    reserve_pool_size: String(cfg.reservePoolSize),
    max_db_connections: String(cfg.maxDbConnections),
    max_user_connections: String(cfg.maxUserConnections),
  };
}

// What CloudNativePG sets on every pooler pod whatever the template says (pkg/specs/pgbouncer/
// deployments.go): the template states it too, so the pod it describes is the pod that runs.
const cloudNativePgUid = 998;
const cloudNativePgGid = 996;

function pooler(env: Environment, cluster: string): Pooler {
  const namespace = env.common.namespaces.persistent;
  const image = env.common.images.cloudnativePgPgbouncer;
  const podLabels = {
    ...recommendedLabels(env, role({ app: "postgresql", component: "pooler" }, cluster, image)),
    "app.kubernetes.io/managed-by": "cloudnative-pg",
    "cnpg.io/poolerName": poolerName,
    "cnpg.io/cluster": cluster,
    "cnpg.io/podRole": "pooler",
  };
  const selector = { matchLabels: { "cnpg.io/poolerName": poolerName } };
  return new Pooler({
    metadata: { name: poolerName, namespace, labels: recommendedLabels(env, role({ app: "pgbouncer", component: "pooler" }, poolerName, image)) },
    spec: {
      cluster: { name: cluster },
      instances: env.pgbouncer.replicas,
      type: "rw",
      pgbouncer: { poolMode: env.pgbouncer.poolMode as "session" | "transaction", parameters: parameters(env) },
      template: {
        metadata: { labels: podLabels },
        spec: {
          containers: [
            {
              // The image here wins over CloudNativePG's default (internal/controller/pooler_image.go).
              name: "pgbouncer",
              image,
              ports: [
                { name: "pgbouncer", containerPort: port },
                { name: "metrics", containerPort: metricsPort },
              ],
              resources: resources(env.pgbouncer.resources),
              // CloudNativePG adds a TCP readiness probe only; a PgBouncer that stops accepting is restarted too.
              readinessProbe: tcpProbe("pgbouncer", readinessTiming),
              livenessProbe: tcpProbe("pgbouncer", livenessTiming),
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                seccompProfile: { type: "RuntimeDefault" },
              },
            },
          ],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: cloudNativePgUid,
            runAsGroup: cloudNativePgGid,
            fsGroup: cloudNativePgGid,
            seccompProfile: { type: "RuntimeDefault" },
          },
          nodeSelector: { "node.kubernetes.io/pool": env.common.nodePools.stateful },
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: selector },
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector },
          ],
        },
      },
    },
  });
}

/** CloudNativePG makes none for a Pooler: a drain takes one pooler pod at a time. */
function disruptionBudget(env: Environment): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: {
      name: poolerName,
      namespace: env.common.namespaces.persistent,
      labels: recommendedLabels(env, role({ app: "pgbouncer", component: "pooler" }, poolerName)),
    },
    spec: { maxUnavailable: 1, selector: pods },
  });
}

/** The server connections one pooler pod may hold, times the pods, within what the primary accepts. */
function checkConnectionCap(env: Environment): void {
  const { maxConnections } = postgresContract(env);
  const { replicas, maxDbConnections, maxUserConnections } = env.pgbouncer;
  // The superuser's reserved connections (3), and each pooler's auth_query connection.
  const usable = maxConnections - 3 - replicas;
  const perPod = Math.min(...[maxDbConnections, maxUserConnections].filter((n) => n > 0));
  if (!Number.isFinite(perPod) || perPod * replicas > usable) {
    throw new InvalidConfig(
      object(env),
      "pgbouncer.maxDbConnections",
      `${Number.isFinite(perPod) ? perPod : "unlimited"} server connections per pooler pod (the lower of maxDbConnections and maxUserConnections, ${replicas} pods) must together be at most ${usable}: the primary's max_connections=${maxConnections} less 3 superuser-reserved and one auth_query connection per pod`,
    );
  }
}

export function cloudNativePgPooler(env: Environment): KubeObject[] {
  const cluster = clusterOf(env);
  checkConnectionCap(env);
  const api = apiServerAddresses(env);
  return [
    pooler(env, cluster),
    disruptionBudget(env),
    // The pooler's instance manager reads its Pooler and Secrets from the API server.
    networkPolicy(env, { name: `allow-pgbouncer-to-${api.name}`, namespace: env.common.namespaces.persistent, pods, egress: [toAddresses(api)] }),
  ];
}

export function cloudNativePgPoolerContract(env: Environment): PgBouncerContract {
  return {
    namespace: env.common.namespaces.persistent,
    host: serviceHost(poolerName, env.common.namespaces.persistent, env.common.clusterDomain),
    port,
    podPort: port,
    // One database for every schema (see the top of this file).
    databases: Object.fromEntries(env.postgres.schemas.map((schema) => [schema, env.postgres.database])),
    pods,
    secrets: [],
  };
}
