// PgBouncer as a Deployment of the layer's own, with one database per schema.
import type { Environment, PgBouncerDeployment } from "../../config/types.ts";
import { contentHash } from "../../lib/hash.ts";
import { InvalidConfig } from "../../lib/errors.ts";
import { role } from "../../lib/labels.ts";
import { podsOf } from "../../lib/network.ts";
import { configMap, deployment, type KubeObject, service } from "../../lib/objects.ts";
import { container, livenessTiming, readinessTiming, resources, secretEnv, tcpProbe } from "../../lib/pod.ts";
import { type PodRole, serviceHost } from "../../lib/topology.ts";
import type { PgBouncerContract } from "../contracts.ts";
import { postgresContract } from "../postgres/index.ts";

const podRole: PodRole = { app: "pgbouncer", component: "pooler" };

const names = { deployment: "nx-pgbouncer", service: "nx-pgbouncer", config: "nx-pgbouncer-config" } as const;

function adminSecret(env: Environment) {
  const { adminUser } = deploymentOf(env);
  return {
    name: "nx-pgbouncer-admin-secret",
    key: "password",
    holds: `password of PgBouncer's admin console user ${adminUser} (a PgBouncer user only, not a PostgreSQL role)`,
  };
}

/** PgBouncer listens here; the Service maps PostgreSQL's port onto it. */
const podPort = 6432;

export function deploymentOf(env: Environment): PgBouncerDeployment {
  const pooler = env.pgbouncer.pooler;
  if (pooler.kind !== "deployment") throw new Error(`pgbouncer.pooler is ${pooler.kind}, not deployment`);
  return pooler;
}

const uid = 70; // the postgres user of the image
const configDir = "/etc/pgbouncer/config";
const authDir = "/etc/pgbouncer/auth";

/** The Service port clients use, so they connect as they would to PostgreSQL itself. */
const clientPort = 5432;

/**
 * The PgBouncer database a client names to land in `schema`: the database itself for `public`,
 * `<database>_<schema>` for the others.
 */
export function schemaDatabase(env: Environment, schema: string): string {
  const db = env.postgres.database;
  return schema === "public" ? db : `${db}_${schema}`;
}

// PostgreSQL 17 does not report search_path to clients (GUC_REPORT only from 18), and PgBouncer
// can track only parameters the server reports: a search_path sent at connect time could never
// follow a client across transaction pooling. So each schema gets its own database, whose server
// connections set search_path once when opened (connect_query); a client sending search_path
// itself is refused ("unsupported startup parameter"), never silently ignored.
function databases(env: Environment): string {
  const pg = postgresContract(env);
  const db = pg.database;
  const server = `host=${pg.host} port=${pg.port} dbname=${db}`;
  return env.postgres.schemas
    .map((schema) =>
      schema === "public"
        ? `${db} = ${server}`
        : `${schemaDatabase(env, schema)} = ${server} connect_query='SET search_path = ${schema}, public'`,
    )
    .join("\n");
}

// Settings every PgBouncer from 1.18 (Debian's) to 1.24 (the image) knows: an unknown setting is
// fatal at start.
export function pgbouncerIni(env: Environment): string {
  const cfg = env.pgbouncer;
  return `[databases]
${databases(env)}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = ${podPort}
auth_type = scram-sha-256
auth_file = ${authDir}/userlist.txt
admin_users = ${deploymentOf(env).adminUser}
pool_mode = ${cfg.poolMode}
max_client_conn = ${cfg.maxClientConn}
default_pool_size = ${cfg.defaultPoolSize}
min_pool_size = ${cfg.minPoolSize}
reserve_pool_size = ${cfg.reservePoolSize}
max_db_connections = ${cfg.maxDbConnections}
; Every database above is a pool of its own: this caps the server connections of a user across all.
max_user_connections = ${cfg.maxUserConnections}
; Drivers send it at connect time; transaction pooling must accept it.
ignore_startup_parameters = extra_float_digits
`;
}

// userlist.txt holds `"user" "password"` lines; a double quote inside a value is doubled. The
// application user and the admin console's user, never the superuser: PgBouncer logs a client in
// to PostgreSQL with the password it holds for it, so any PostgreSQL user listed here could reach
// the database through the pooler.
function userlistScript(env: Environment): string {
  return `set -eu
umask 077
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
{
  printf '%s %s\\n' "$(quote ${postgresContract(env).app.user})" "$(quote "$APP_PASSWORD")"
  printf '%s %s\\n' "$(quote ${deploymentOf(env).adminUser})" "$(quote "$ADMIN_PASSWORD")"
} > ${authDir}/userlist.txt
`;
}

function checkConnectionCap(env: Environment): void {
  const { maxConnections } = postgresContract(env);
  // PostgreSQL keeps superuser_reserved_connections (3 by default) for the superuser alone.
  const usable = maxConnections - 3;
  const { maxUserConnections: cap, replicas } = env.pgbouncer;
  if (!Number.isInteger(cap) || cap < 1 || cap * replicas > usable) {
    throw new InvalidConfig(
      `ConfigMap ${env.common.namespaces.persistent}/${names.config}`,
      "pgbouncer.maxUserConnections",
      `${cap} per PgBouncer pod (${replicas} pods) must be at least 1 and together at most ${usable}: the primary's max_connections=${maxConnections} less 3 superuser-reserved, which the per-schema pools share`,
    );
  }
}

/** PgBouncer in transaction pooling mode in front of the primary; clients use port 5432. */
export function deploymentPgBouncer(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.persistent;
  const pooler = role(podRole, names.deployment, env.common.images.pgbouncer);
  checkConnectionCap(env);
  const ini = pgbouncerIni(env);
  const pool = deployment(env, {
    name: names.deployment,
    namespace,
    role: pooler,
    replicas: env.pgbouncer.replicas,
    uid,
    // PgBouncer does not re-read a mounted file on its own: a changed pgbouncer.ini rolls the pods,
    // and so does a rotated Secret (the userlist is written from the Secrets at start).
    podAnnotations: { "checksum/config": contentHash(ini) },
    followsSecretRotation: true,
    pod: {
      initContainers: [
        container({
          name: "generate-userlist",
          image: env.common.images.pgbouncer,
          command: ["sh", "-c", userlistScript(env)],
          env: [
            secretEnv("APP_PASSWORD", postgresContract(env).app.password),
            secretEnv("ADMIN_PASSWORD", adminSecret(env)),
          ],
          resources: resources(env.pgbouncer.resources),
          volumeMounts: [{ name: "auth", mountPath: authDir }],
        }),
      ],
      containers: [
        container({
          name: "pgbouncer",
          image: env.common.images.pgbouncer,
          command: ["pgbouncer", `${configDir}/pgbouncer.ini`],
          ports: [{ containerPort: podPort, name: "pgbouncer" }],
          resources: resources(env.pgbouncer.resources),
          readinessProbe: tcpProbe("pgbouncer", readinessTiming),
          livenessProbe: tcpProbe("pgbouncer", livenessTiming),
          volumeMounts: [
            { name: "config", mountPath: configDir, readOnly: true },
            { name: "auth", mountPath: authDir, readOnly: true },
          ],
        }),
      ],
      volumes: [
        { name: "config", configMap: { name: names.config } },
        // Passwords stay in memory, never on the node's disk.
        { name: "auth", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      ],
    },
  });
  return [
    configMap(env, { name: names.config, namespace, role: pooler, data: { "pgbouncer.ini": ini } }),
    service(env, {
      name: names.service,
      namespace,
      role: pooler,
      ports: [{ name: "postgresql", port: clientPort, targetPort: "pgbouncer" }],
    }),
    pool,
  ];
}

export function deploymentContract(env: Environment): PgBouncerContract {
  return {
    namespace: env.common.namespaces.persistent,
    host: serviceHost(names.service, env.common.namespaces.persistent, env.common.clusterDomain),
    port: clientPort,
    podPort,
    databases: Object.fromEntries(env.postgres.schemas.map((schema) => [schema, schemaDatabase(env, schema)])),
    pods: podsOf(podRole),
    secrets: [adminSecret(env)],
  };
}
