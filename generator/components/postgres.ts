import type { Environment, PostgresSettings } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { role } from "../lib/labels.ts";
import { dataVolume, type KubeObject, service, statefulSet } from "../lib/objects.ts";
import {
  container,
  execProbe,
  livenessTiming,
  plainEnv,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
} from "../lib/pod.ts";
import { waitUntil } from "../lib/shell.ts";
import { ordinals, podRoles, ports, postgresNames, serviceHost } from "../lib/topology.ts";

const uid = 70; // the postgres user of the alpine image
const dataMount = "/var/lib/postgresql/data";
// A subdirectory: initdb and pg_basebackup refuse the volume root, which holds lost+found.
const pgdata = `${dataMount}/pgdata`;

const identifier = /^[a-z_][a-z0-9_]*$/;

const replicaSlotPrefix = postgresNames.replica.replaceAll("-", "_");

/** Physical replication slot of replica pod N, created by the primary so WAL is kept for it. */
export function replicaSlot(ordinal: number): string {
  return `${replicaSlotPrefix}_${ordinal}`;
}

export function primaryHost(env: Environment): string {
  return serviceHost(postgresNames.primary, env.common.namespaces.persistent, env.common.clusterDomain);
}

function serverArgs(settings: PostgresSettings): string[] {
  return settings.flatMap(([name, value]) => ["-c", `${name}=${value}`]);
}

// Server start-up (crash recovery, a first base backup) can take minutes; liveness waits for it.
const ready = `pg_isready -h 127.0.0.1 -p ${ports.postgres} -q`;
const startupProbe = execProbe(ready, { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 });

function checkIdentifiers(env: Environment, object: string): void {
  const { users, database, schemas } = env.postgres;
  const names: [string, string][] = [
    ...Object.entries(users).map(([k, v]): [string, string] => [`postgres.users.${k}`, v]),
    ["postgres.database", database],
    ...schemas.map((s, i): [string, string] => [`postgres.schemas[${i}]`, s]),
    ["debezium.slotName", env.debezium.slotName],
    ["debezium.publicationName", env.debezium.publicationName],
  ];
  for (const [field, value] of names) {
    if (!identifier.test(value)) {
      throw new InvalidConfig(object, field, `${JSON.stringify(value)} is not a plain SQL identifier (${identifier.source})`);
    }
  }
}

/**
 * First run: initdb with the superuser password from its Secret. Every run: rewrite pg_hba.conf
 * and ensure roles, database, schemas, extensions, the Debezium publication and the replicas'
 * slots with statements that do nothing when the work is already done. Passwords are read from
 * the environment by psql (\getenv), so they never appear on a command line, and are re-applied
 * on every start so a rotated Secret takes effect with a restart.
 */
function initPrimaryScript(env: Environment): string {
  const { users, database, schemas } = env.postgres;
  const slots = ordinals(env.postgres.replica.replicas).map(replicaSlot).join(" ");
  return `set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" --username=${users.superuser} --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \\
    --encoding=UTF8 --locale-provider=builtin --builtin-locale=C.UTF-8
  rm -f "$pwfile"
fi
cat > "$PGDATA/pg_hba.conf" <<'HBA'
# Written by the init-primary container on every start; edit generator/components/postgres.ts.
# TYPE  DATABASE     USER                ADDRESS  METHOD
local   all          ${users.superuser.padEnd(19)}          peer
local   all          all                          scram-sha-256
host    replication  ${users.replication.padEnd(19)} all      scram-sha-256
host    all          all                 all      scram-sha-256
HBA
pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c password_encryption=scram-sha-256" start
trap 'pg_ctl -D "$PGDATA" -w -m fast stop' EXIT
psql -v ON_ERROR_STOP=1 -U ${users.superuser} -d postgres <<'SQL'
\\getenv app_password APP_PASSWORD
\\getenv replication_password REPLICATION_PASSWORD
\\getenv debezium_password DEBEZIUM_PASSWORD
SELECT 'CREATE ROLE ${users.app}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${users.app}') \\gexec
ALTER ROLE ${users.app} WITH LOGIN CREATEDB PASSWORD :'app_password';
SELECT 'CREATE ROLE ${users.replication}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${users.replication}') \\gexec
ALTER ROLE ${users.replication} WITH LOGIN REPLICATION PASSWORD :'replication_password';
SELECT 'CREATE ROLE ${users.debezium}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${users.debezium}') \\gexec
ALTER ROLE ${users.debezium} WITH LOGIN REPLICATION PASSWORD :'debezium_password';
GRANT pg_read_all_data TO ${users.debezium};
SELECT 'CREATE DATABASE ${database} OWNER ${users.app}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${database}') \\gexec
SELECT pg_create_physical_replication_slot(slot) FROM unnest(string_to_array('${slots}', ' ')) AS slot
  WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = slot);
\\connect ${database}
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
${schemas
  .filter((s) => s !== "public")
  .map((s) => `CREATE SCHEMA IF NOT EXISTS ${s} AUTHORIZATION ${users.app};`)
  .join("\n")}
SELECT 'CREATE PUBLICATION ${env.debezium.publicationName} FOR ALL TABLES'
  WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = '${env.debezium.publicationName}') \\gexec
SQL
`;
}

/**
 * First run: clone the primary with pg_basebackup into a side directory that only becomes PGDATA
 * once complete (an interrupted clone is discarded, never started). Every run: make sure
 * standby.signal exists, so a replica can never come up as a second writable primary.
 */
function initReplicaScript(env: Environment): string {
  return `set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA.partial"
  ${waitUntil(`pg_isready -h "$PRIMARY_HOST" -p ${ports.postgres} -q`, {
    attempts: 180,
    seconds: 5,
    failure: '"primary $PRIMARY_HOST not ready"',
    indent: 2,
  })}
  slot="${replicaSlotPrefix}_\${POD_NAME##*-}"
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$PRIMARY_HOST" -p ${ports.postgres} -U ${env.postgres.users.replication} \\
    -D "$PGDATA.partial" -X stream -R -S "$slot" --checkpoint=fast
  mv "$PGDATA.partial" "$PGDATA"
fi
touch "$PGDATA/standby.signal"
`;
}

const pgdataEnv = plainEnv("PGDATA", pgdata);
const dataMountSpec = { name: dataVolume, mountPath: dataMount };

export function postgresPrimary(env: Environment) {
  const cfg = env.postgres;
  const s = postgresNames.secrets;
  checkIdentifiers(env, `StatefulSet ${env.common.namespaces.persistent}/${postgresNames.primary}`);
  return statefulSet(env, {
    name: postgresNames.primary,
    namespace: env.common.namespaces.persistent,
    role: role(podRoles.postgresPrimary, postgresNames.primary, env.common.images.postgres),
    serviceName: postgresNames.primaryHeadless,
    replicas: 1,
    uid,
    storage: cfg.primary.storage,
    pod: {
      initContainers: [
        container({
          name: "init-primary",
          image: env.common.images.postgres,
          command: ["sh", "-c", initPrimaryScript(env)],
          env: [
            pgdataEnv,
            secretEnv("POSTGRES_PASSWORD", s.superuser),
            secretEnv("APP_PASSWORD", s.app),
            secretEnv("REPLICATION_PASSWORD", s.replication),
            secretEnv("DEBEZIUM_PASSWORD", s.debezium),
          ],
          resources: resources(cfg.primary.resources),
          volumeMounts: [dataMountSpec],
        }),
      ],
      containers: [
        container({
          name: "postgresql",
          image: env.common.images.postgres,
          args: serverArgs(cfg.primary.settings),
          ports: [{ containerPort: ports.postgres, name: "postgresql" }],
          env: [pgdataEnv],
          resources: resources(cfg.primary.resources),
          startupProbe,
          readinessProbe: execProbe(ready, readinessTiming),
          livenessProbe: execProbe(ready, livenessTiming),
          volumeMounts: [dataMountSpec],
        }),
      ],
    },
  });
}

export function postgresReplica(env: Environment) {
  const cfg = env.postgres;
  return statefulSet(env, {
    name: postgresNames.replica,
    namespace: env.common.namespaces.persistent,
    role: role(podRoles.postgresReplica, postgresNames.replica, env.common.images.postgres),
    serviceName: postgresNames.replicaHeadless,
    replicas: cfg.replica.replicas,
    uid,
    storage: cfg.replica.storage,
    pod: {
      initContainers: [
        container({
          name: "init-replica",
          image: env.common.images.postgres,
          command: ["sh", "-c", initReplicaScript(env)],
          env: [
            pgdataEnv,
            plainEnv("PRIMARY_HOST", primaryHost(env)),
            podFieldEnv("POD_NAME", "metadata.name"),
            secretEnv("REPLICATION_PASSWORD", postgresNames.secrets.replication),
          ],
          resources: resources(cfg.replica.resources),
          volumeMounts: [dataMountSpec],
        }),
      ],
      containers: [
        container({
          name: "postgresql",
          image: env.common.images.postgres,
          args: serverArgs(cfg.replica.settings),
          ports: [{ containerPort: ports.postgres, name: "postgresql" }],
          env: [pgdataEnv],
          resources: resources(cfg.replica.resources),
          startupProbe,
          readinessProbe: execProbe(ready, readinessTiming),
          livenessProbe: execProbe(ready, livenessTiming),
          volumeMounts: [dataMountSpec],
        }),
      ],
    },
  });
}

function postgresServices(env: Environment) {
  const namespace = env.common.namespaces.persistent;
  const image = env.common.images.postgres;
  const servicePorts = [{ name: "postgresql", port: ports.postgres, targetPort: "postgresql" }];
  const primary = role(podRoles.postgresPrimary, postgresNames.primary, image);
  const replica = role(podRoles.postgresReplica, postgresNames.replica, image);
  return [
    service(env, { name: postgresNames.primary, namespace, role: primary, ports: servicePorts }),
    service(env, { name: postgresNames.primaryHeadless, namespace, role: primary, ports: servicePorts, headless: true }),
    service(env, { name: postgresNames.replica, namespace, role: replica, ports: servicePorts }),
    service(env, { name: postgresNames.replicaHeadless, namespace, role: replica, ports: servicePorts, headless: true }),
  ];
}

/** PostgreSQL primary + streaming hot-standby replica, with their four Services. */
export function postgres(env: Environment): KubeObject[] {
  return [...postgresServices(env), postgresPrimary(env), postgresReplica(env)];
}
