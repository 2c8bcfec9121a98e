import type { Environment } from "../config/types.ts";
import { contentHash } from "../lib/hash.ts";
import { role } from "../lib/labels.ts";
import { configMap, deployment, type KubeObject, service } from "../lib/objects.ts";
import { container, livenessTiming, readinessTiming, resources, secretEnv, tcpProbe } from "../lib/pod.ts";
import { pgbouncerNames, podRoles, ports, postgresNames } from "../lib/topology.ts";
import { primaryHost } from "./postgres.ts";

const uid = 70; // the postgres user of the image
const configDir = "/etc/pgbouncer/config";
const authDir = "/etc/pgbouncer/auth";

export function pgbouncerIni(env: Environment): string {
  const cfg = env.pgbouncer;
  const db = env.postgres.database;
  return `[databases]
${db} = host=${primaryHost(env)} port=${ports.postgres} dbname=${db}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = ${ports.pgbouncer}
auth_type = scram-sha-256
auth_file = ${authDir}/userlist.txt
admin_users = ${env.postgres.users.superuser}
pool_mode = ${cfg.poolMode}
max_client_conn = ${cfg.maxClientConn}
default_pool_size = ${cfg.defaultPoolSize}
min_pool_size = ${cfg.minPoolSize}
reserve_pool_size = ${cfg.reservePoolSize}
max_db_connections = ${cfg.maxDbConnections}
; Drivers send these at connect time; transaction pooling must accept them (search_path: 7 schemas).
ignore_startup_parameters = extra_float_digits
track_extra_parameters = IntervalStyle, search_path
`;
}

// userlist.txt holds `"user" "password"` lines; a double quote inside a value is doubled.
function userlistScript(env: Environment): string {
  const { app, superuser } = env.postgres.users;
  return `set -eu
umask 077
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
{
  printf '%s %s\\n' "$(quote ${app})" "$(quote "$APP_PASSWORD")"
  printf '%s %s\\n' "$(quote ${superuser})" "$(quote "$SUPERUSER_PASSWORD")"
} > ${authDir}/userlist.txt
`;
}

/** PgBouncer in transaction pooling mode in front of the primary; clients use port 5432. */
export function pgbouncer(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.persistent;
  const pooler = role(podRoles.pgbouncer, pgbouncerNames.deployment, env.common.images.pgbouncer);
  const ini = pgbouncerIni(env);
  const pool = deployment(env, {
    name: pgbouncerNames.deployment,
    namespace,
    role: pooler,
    replicas: env.pgbouncer.replicas,
    uid,
    // PgBouncer does not re-read a mounted file on its own: a changed pgbouncer.ini rolls the pods.
    podAnnotations: { "checksum/config": contentHash(ini) },
    pod: {
      initContainers: [
        container({
          name: "generate-userlist",
          image: env.common.images.pgbouncer,
          command: ["sh", "-c", userlistScript(env)],
          env: [
            secretEnv("APP_PASSWORD", postgresNames.secrets.app),
            secretEnv("SUPERUSER_PASSWORD", postgresNames.secrets.superuser),
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
          ports: [{ containerPort: ports.pgbouncer, name: "pgbouncer" }],
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
        { name: "config", configMap: { name: pgbouncerNames.config } },
        // Passwords stay in memory, never on the node's disk.
        { name: "auth", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      ],
    },
  });
  return [
    configMap(env, { name: pgbouncerNames.config, namespace, role: pooler, data: { "pgbouncer.ini": ini } }),
    service(env, {
      name: pgbouncerNames.service,
      namespace,
      role: pooler,
      ports: [{ name: "postgresql", port: ports.postgres, targetPort: "pgbouncer" }],
    }),
    pool,
  ];
}
