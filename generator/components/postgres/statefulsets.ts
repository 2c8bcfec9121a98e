// PostgreSQL as StatefulSets the layer writes itself: a primary, hot standbys streaming from it,
// and the setup (roles, database, schemas, publication) applied at the first start and by a Job.
import type { Environment, PostgresSettings, PostgresStatefulSets } from "../../config/types.ts";
import { InvalidConfig } from "../../lib/errors.ts";
import { contentHash } from "../../lib/hash.ts";
import { role } from "../../lib/labels.ts";
import { configMap, dataVolume, initJob, type KubeObject, service, statefulSet } from "../../lib/objects.ts";
import {
  container,
  execProbe,
  livenessTiming,
  plainEnv,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
} from "../../lib/pod.ts";
import { waitUntil } from "../../lib/shell.ts";
import { podsOf, type PolicySpec, networkPolicy } from "../../lib/network.ts";
import { type PodRole, type SecretRef, serviceHost } from "../../lib/topology.ts";
import type { PostgresContract } from "../contracts.ts";
import { checkPostgres, postgresPort, replicaIdentityStatements, replicaIdentityTrigger } from "./model.ts";

/** What the StatefulSets' pods are (`app.kubernetes.io/name` and `/component`). */
export const podRoles = {
  primary: { app: "postgresql", component: "primary" },
  replica: { app: "postgresql", component: "replica" },
  setup: { app: "postgresql", component: "setup" },
  // The one-off pod of the promotion runbook (docs/postgresql.md) that copies the promoted server
  // onto a new primary volume; the layer renders none.
  restore: { app: "postgresql", component: "restore" },
} as const satisfies Record<string, PodRole>;

const secret = (name: string, holds: string): SecretRef => ({ name, key: "password", holds });

export const names = {
  primary: "nx-postgresql-primary",
  primaryHeadless: "nx-postgresql-primary-headless",
  replica: "nx-postgresql-replica",
  replicaHeadless: "nx-postgresql-replica-headless",
  setupJob: "nx-postgresql-setup",
  setupConfig: "nx-postgresql-setup",
} as const;

/** The Secrets of the four roles; every pod reads its passwords from these. */
function secrets(env: Environment) {
  const { app, debezium } = env.postgres.users;
  const cluster = statefulSetsOf(env);
  return {
    superuser: secret("nx-postgresql-superuser-secret", `password of the ${cluster.superuser} superuser`),
    app: secret("nx-postgresql-app-secret", `password of the application user ${app}`),
    replication: secret("nx-postgresql-replication-secret", `password of the streaming replication user ${cluster.replicationUser}`),
    debezium: secret("nx-postgresql-debezium-secret", `password of the Debezium user ${debezium}`),
  };
}

/** The StatefulSets settings of the environment (this implementation runs only for them). */
export function statefulSetsOf(env: Environment): PostgresStatefulSets {
  const cluster = env.postgres.cluster;
  if (cluster.kind !== "statefulsets") throw new Error(`postgres.cluster is ${cluster.kind}, not statefulsets`);
  return cluster;
}

const uid = 70; // the postgres user of the alpine image
const dataMount = "/var/lib/postgresql/data";
// A subdirectory: initdb and pg_basebackup refuse the volume root, which holds lost+found.
const pgdata = `${dataMount}/pgdata`;
// The replica's password file for streaming, rewritten from its Secret at every pod start (in
// memory, never on a disk); the walreceiver reads it at every connection.
const authDir = "/etc/postgresql/auth";
const replicationPassfile = `${authDir}/replication.pgpass`;
// The setup SQL, from a ConfigMap: changing it runs the setup Job again, never restarts the primary.
const setupDir = "/etc/postgresql/setup";
const setupFile = `${setupDir}/setup.sql`;
const setupVolume = { name: "setup", configMap: { name: names.setupConfig } };
const setupMount = { name: "setup", mountPath: setupDir, readOnly: true };

// Replica pod N streams through the physical slot <prefix>_N, which its init container makes.
const replicaSlotPrefix = names.replica.replaceAll("-", "_");

export function primaryHost(env: Environment): string {
  return serviceHost(names.primary, env.common.namespaces.persistent, env.common.clusterDomain);
}

function serverArgs(settings: PostgresSettings): string[] {
  return settings.flatMap(([name, value]) => ["-c", `${name}=${value}`]);
}

// pg_isready exits 0 when the server accepts connections, 1 when it answers that it cannot yet
// (SQLSTATE 57P03: starting up, in crash recovery, a standby not yet consistent, shutting down),
// 2 when nothing answers, 3 when it made no attempt (internal_ping in libpq's fe-connect.c).
const ready = `pg_isready -h 127.0.0.1 -p ${postgresPort} -q`;
// Up or starting: a recovery, however long, is never killed; a server that does not answer is.
const upOrStarting = `${ready}; [ $? -le 1 ]`;
// Until the server answers at all, which it does within seconds of its start (the postmaster
// listens before recovery begins); 15 minutes leave room for a slow node, then it is restarted.
const startupProbe = execProbe(upOrStarting, { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 });

/**
 * Who may log in how. The superuser logs in locally as the OS user postgres (peer) or over TCP
 * with SCRAM (the setup Job); PgBouncer's admin console user is refused as a database login even
 * if a role of that name is ever created. Written by both init containers on every start, so a
 * promoted replica serves with the same rules.
 */
function pgHba(env: Environment): string {
  const { superuser, replicationUser } = statefulSetsOf(env);
  const pooler = env.pgbouncer.pooler;
  const rows = [
    ["local", "all", superuser, "", "peer"],
    ["local", "all", "all", "", "scram-sha-256"],
    ...(pooler.kind === "deployment" ? [["host", "all", pooler.adminUser, "all", "reject"]] : []),
    ["host", "replication", replicationUser, "all", "scram-sha-256"],
    ["host", "all", "all", "all", "scram-sha-256"],
  ];
  const widths = [8, 13, Math.max(...rows.map((r) => r[2]!.length)) + 2, 9];
  const line = (cells: string[]) => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join("").trimEnd();
  return [
    "# Written by the init containers on every start; edit generator/components/postgres/statefulsets.ts.",
    line(["# TYPE", "DATABASE", "USER", "ADDRESS", "METHOD"]),
    ...rows.map(line),
  ].join("\n");
}

function writeHba(env: Environment, dir: string): string {
  return `cat > "${dir}/pg_hba.conf" <<'HBA'\n${pgHba(env)}\nHBA`;
}

/**
 * Settings of the session that sets the passwords, so none of its statements is recorded whatever
 * the server, the database or the role is configured with (a session setting outranks them all):
 * ALTER ROLE ... PASSWORD carries the clear text, which the primary's log_statement=ddl would write
 * to the server log and pg_stat_statements would keep. SET changes them for this session only;
 * all but debug_print_* need a superuser (context "superuser" in PostgreSQL 17's pg_settings),
 * which the setup runs as. They cover every way PostgreSQL 17 records a statement's text: the
 * statement log (log_statement), duration logging (log_min_duration_statement, sampled with
 * log_min_duration_sample and log_transaction_sample_rate), the failing statement
 * (log_min_error_statement), parse tree dumps (debug_print_*), pg_stat_statements, and
 * pg_stat_activity's current query (track_activities).
 */
const unrecordedSession = `-- This session sets passwords: nothing it runs may be recorded (generator/components/postgres/statefulsets.ts).
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_duration_sample = -1;
SET log_transaction_sample_rate = 0;
SET log_min_error_statement = 'panic';
SET debug_print_parse = off;
SET debug_print_rewritten = off;
SET debug_print_plan = off;
SET pg_stat_statements.track = 'none';
SET track_activities = off;`;

/**
 * Every database object the layer needs, with statements that do nothing when the work is done,
 * so it runs again safely: at the first start (on the fresh cluster) and from the setup Job.
 * Passwords are read from the environment by psql (\getenv), never from a command line, and the
 * session that sets them first turns off everything that would record its statements (see
 * unrecordedSession). The replicas' slots are not made here: each replica makes its own.
 *
 * CDC: the publication covers only the schemas Debezium streams (`FOR ALL TABLES` made every
 * UPDATE and DELETE on a table without a primary key fail, for the application too). Tables it
 * publishes that have no usable replica identity get REPLICA IDENTITY FULL: those existing now,
 * and every later one through an event trigger after each DDL command, so no application write
 * can fail because of the publication.
 */
export function setupSql(env: Environment): string {
  const { users, database, schemas } = env.postgres;
  const { replicationUser } = statefulSetsOf(env);
  const { publicationName, schemas: published } = env.debezium;
  const publishedList = published.join(", ");
  return `${unrecordedSession}
\\getenv app_password APP_PASSWORD
\\getenv replication_password REPLICATION_PASSWORD
\\getenv debezium_password DEBEZIUM_PASSWORD
SELECT 'CREATE ROLE ${users.app}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${users.app}') \\gexec
ALTER ROLE ${users.app} WITH LOGIN CREATEDB PASSWORD :'app_password';
SELECT 'CREATE ROLE ${replicationUser}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${replicationUser}') \\gexec
ALTER ROLE ${replicationUser} WITH LOGIN REPLICATION PASSWORD :'replication_password';
SELECT 'CREATE ROLE ${users.debezium}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${users.debezium}') \\gexec
ALTER ROLE ${users.debezium} WITH LOGIN REPLICATION PASSWORD :'debezium_password';
GRANT pg_read_all_data TO ${users.debezium};
SELECT 'CREATE DATABASE ${database} OWNER ${users.app}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${database}') \\gexec
-- A new session, with the server's logging: no password below this line.
\\connect ${database}
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
${schemas
  .filter((s) => s !== "public")
  .map((s) => `CREATE SCHEMA IF NOT EXISTS ${s} AUTHORIZATION ${users.app};`)
  .join("\n")}
${replicaIdentityStatements(publicationName).join("\n")}
SELECT '${replicaIdentityTrigger.create}'
  WHERE NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = '${replicaIdentityTrigger.name}') \\gexec
ALTER EVENT TRIGGER ${replicaIdentityTrigger.name} ENABLE;
-- One transaction: a publication left FOR ALL TABLES by an older layer is replaced, and the
-- tables it now publishes get their replica identity before any writer sees the change.
DO $do$
BEGIN
  IF EXISTS (SELECT FROM pg_publication WHERE pubname = '${publicationName}' AND puballtables) THEN
    DROP PUBLICATION ${publicationName};
  END IF;
  IF EXISTS (SELECT FROM pg_publication WHERE pubname = '${publicationName}') THEN
    ALTER PUBLICATION ${publicationName} SET TABLES IN SCHEMA ${publishedList};
  ELSE
    CREATE PUBLICATION ${publicationName} FOR TABLES IN SCHEMA ${publishedList};
  END IF;
  PERFORM nx_cdc.ensure_replica_identity();
END
$do$;
`;
}

/** psql running the setup as the superuser; `options` say where (before -U). */
function runSetup(env: Environment, options = ""): string {
  return `psql -X -q -v ON_ERROR_STOP=1 ${options}-U ${statefulSetsOf(env).superuser} -d postgres -f ${setupFile}`;
}

/**
 * First start (empty volume): initdb and the setup, on a temporary server that listens on a
 * private socket only, in a side directory that becomes PGDATA once both are complete (an
 * interrupted first start begins again instead of serving a half-made cluster). A fresh cluster
 * has no WAL to replay, so pg_ctl's wait is short. Every later start only rewrites pg_hba.conf:
 * no server is started here, so crash recovery runs once, in the real server, under its startup
 * probe, and the setup is re-applied by the setup Job once the server is healthy.
 */
function initPrimaryScript(env: Environment): string {
  const { superuser } = statefulSetsOf(env);
  return `set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA.partial"
  pwfile=$(mktemp)
  printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA.partial" --username=${superuser} --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \\
    --encoding=UTF8 --locale-provider=builtin --builtin-locale=C.UTF-8
  rm -f "$pwfile"
  ${writeHba(env, "$PGDATA.partial")}
  socket=$(mktemp -d)
  pg_ctl -D "$PGDATA.partial" -w -o "-c listen_addresses='' -c unix_socket_directories='$socket'" start
  status=0
  ${runSetup(env, '-h "$socket" ')} || status=$?
  pg_ctl -D "$PGDATA.partial" -w -m fast stop
  rmdir "$socket"
  [ "$status" -eq 0 ] || exit "$status"
  mv "$PGDATA.partial" "$PGDATA"
fi
${writeHba(env, "$PGDATA")}
`;
}

/**
 * First start (empty volume): make sure the replica's slot exists on the primary, then clone the
 * primary with pg_basebackup into a side directory that only becomes PGDATA once complete (an
 * interrupted clone is discarded, never started); -R writes standby.signal there, once. Later
 * starts never write it again, so a promoted replica stays a primary across restarts. Every start
 * rewrites the password file the replica streams with, so a rotated replication password is
 * picked up by a restart.
 *
 * The slot is made here, as repl_user (REPLICATION may create and drop slots), not by the setup
 * Job: that Job runs only once every workload is healthy, and a new replica cannot be healthy
 * before it has cloned through its slot. A standby whose slot the primary invalidated (down
 * longer than max_slot_wal_keep_size allows: wal_status 'lost') can never catch up, the WAL it
 * needs is gone; its data is a copy of the primary's, so it is removed and cloned again. A
 * standby whose slot is missing gets it again. A standby that cannot ask the primary (down, or
 * a replication password not yet rotated there) starts as it is and serves reads meanwhile.
 */
function initReplicaScript(env: Environment): string {
  const user = statefulSetsOf(env).replicationUser;
  return `set -eu
umask 077
escaped=$(printf '%s' "$REPLICATION_PASSWORD" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/:/\\\\:/g')
printf '*:*:*:%s:%s\\n' ${user} "$escaped" > "$PGPASSFILE"
slot="${replicaSlotPrefix}_\${POD_NAME##*-}"
on_primary() {
  PGCONNECT_TIMEOUT=10 psql -X -q -At -w -v ON_ERROR_STOP=1 -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U ${user} -d postgres "$@"
}
# missing, or the slot's wal_status (reserved, extended, unreserved, lost; none: reserves no WAL).
slot_state() {
  on_primary -c "SELECT coalesce((SELECT coalesce(wal_status, 'none') FROM pg_replication_slots WHERE slot_name = '$slot'), 'missing')"
}
# Reserves WAL from now on, so the clone and the streaming after it find what they need.
create_slot() {
  on_primary -c "SELECT pg_create_physical_replication_slot('$slot', true)" > /dev/null
}
if [ -f "$PGDATA/standby.signal" ]; then
  state=$(slot_state) || state=unreachable
  case "$state" in
    lost)
      echo "the primary invalidated replication slot $slot (this standby was down longer than max_slot_wal_keep_size allows): cloning again" >&2
      rm -rf "$PGDATA" ;;
    missing) create_slot ;;
    unreachable) echo "cannot ask primary $PRIMARY_HOST about slot $slot; starting the standby as it is" >&2 ;;
  esac
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA.partial"
  ${waitUntil('pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -q', {
    attempts: 180,
    seconds: 5,
    failure: '"primary $PRIMARY_HOST not ready"',
    indent: 2,
  })}
  state=$(slot_state)
  case "$state" in
    lost)
      on_primary -c "SELECT pg_drop_replication_slot('$slot')" > /dev/null
      create_slot ;;
    missing) create_slot ;;
  esac
  pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U ${user} \\
    -D "$PGDATA.partial" -X stream -R -S "$slot" --checkpoint=fast
  mv "$PGDATA.partial" "$PGDATA"
fi
${writeHba(env, "$PGDATA")}
`;
}

const pgdataEnv = plainEnv("PGDATA", pgdata);
const dataMountSpec = { name: dataVolume, mountPath: dataMount };

export function postgresPrimary(env: Environment) {
  const cfg = statefulSetsOf(env);
  const s = secrets(env);
  checkPostgres(env, `StatefulSet ${env.common.namespaces.persistent}/${names.primary}`);
  return statefulSet(env, {
    name: names.primary,
    namespace: env.common.namespaces.persistent,
    role: role(podRoles.primary, names.primary, env.common.images.postgres),
    serviceName: names.primaryHeadless,
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
          volumeMounts: [dataMountSpec, setupMount],
        }),
      ],
      volumes: [setupVolume],
      containers: [
        container({
          name: "postgresql",
          image: env.common.images.postgres,
          args: serverArgs(cfg.primary.settings),
          ports: [{ containerPort: postgresPort, name: "postgresql" }],
          env: [pgdataEnv],
          resources: resources(cfg.primary.resources),
          startupProbe,
          readinessProbe: execProbe(ready, readinessTiming),
          livenessProbe: execProbe(upOrStarting, livenessTiming),
          volumeMounts: [dataMountSpec],
        }),
      ],
    },
  });
}

export function postgresReplica(env: Environment) {
  const cfg = statefulSetsOf(env);
  const authMount = { name: "auth", mountPath: authDir };
  // The command line outranks postgresql.auto.conf, so every replica streams with the password
  // file, whatever its clone wrote there.
  const primaryConninfo = `host=${primaryHost(env)} port=${postgresPort} user=${cfg.replicationUser} passfile=${replicationPassfile}`;
  return statefulSet(env, {
    name: names.replica,
    namespace: env.common.namespaces.persistent,
    role: role(podRoles.replica, names.replica, env.common.images.postgres),
    serviceName: names.replicaHeadless,
    replicas: cfg.replica.replicas,
    uid,
    storage: cfg.replica.storage,
    // A rotated replication password is written into the password file by a restart.
    followsSecretRotation: true,
    pod: {
      initContainers: [
        container({
          name: "init-replica",
          image: env.common.images.postgres,
          command: ["sh", "-c", initReplicaScript(env)],
          env: [
            pgdataEnv,
            plainEnv("PRIMARY_HOST", primaryHost(env)),
            plainEnv("PRIMARY_PORT", String(postgresPort)),
            plainEnv("PGPASSFILE", replicationPassfile),
            podFieldEnv("POD_NAME", "metadata.name"),
            secretEnv("REPLICATION_PASSWORD", secrets(env).replication),
          ],
          resources: resources(cfg.replica.resources),
          volumeMounts: [dataMountSpec, authMount],
        }),
      ],
      containers: [
        container({
          name: "postgresql",
          image: env.common.images.postgres,
          args: [...serverArgs(cfg.replica.settings), "-c", `primary_conninfo=${primaryConninfo}`],
          ports: [{ containerPort: postgresPort, name: "postgresql" }],
          env: [pgdataEnv],
          resources: resources(cfg.replica.resources),
          startupProbe,
          readinessProbe: execProbe(ready, readinessTiming),
          livenessProbe: execProbe(upOrStarting, livenessTiming),
          volumeMounts: [dataMountSpec, { ...authMount, readOnly: true }],
        }),
      ],
      volumes: [{ name: "auth", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }],
    },
  });
}

/**
 * Re-applies the setup once the primary is healthy: after a config change (new schema, published
 * schemas, replicas) and after a credential rotation (it follows the revisions of the Secrets it
 * reads, so a raised one makes a new Job). It logs in over TCP as the superuser; PgBouncer cannot (the
 * superuser is not in its userlist).
 */
export function postgresSetupJob(env: Environment) {
  const s = secrets(env);
  const script = `set -eu
${waitUntil("pg_isready -q", { attempts: 120, seconds: 5, failure: '"primary $PGHOST not ready"' })}
${runSetup(env)}
`;
  return initJob(env, {
    name: names.setupJob,
    namespace: env.common.namespaces.persistent,
    role: role(podRoles.setup, names.setupJob, env.common.images.postgres),
    uid,
    container: {
      name: "setup",
      image: env.common.images.postgres,
      command: ["sh", "-c", script],
      env: [
        plainEnv("PGHOST", primaryHost(env)),
        plainEnv("PGPORT", String(postgresPort)),
        secretEnv("PGPASSWORD", s.superuser),
        secretEnv("APP_PASSWORD", s.app),
        secretEnv("REPLICATION_PASSWORD", s.replication),
        secretEnv("DEBEZIUM_PASSWORD", s.debezium),
      ],
      volumeMounts: [setupMount],
    },
    volumes: [setupVolume],
    // A changed setup, or a rotated Secret it reads, makes a new Job (see initJob), which runs again.
    podAnnotations: { "checksum/setup": contentHash(setupSql(env)) },
    followsSecretRotation: true,
  });
}

function postgresServices(env: Environment) {
  const namespace = env.common.namespaces.persistent;
  const image = env.common.images.postgres;
  const servicePorts = [{ name: "postgresql", port: postgresPort, targetPort: "postgresql" }];
  const primary = role(podRoles.primary, names.primary, image);
  const replica = role(podRoles.replica, names.replica, image);
  return [
    service(env, { name: names.primary, namespace, role: primary, ports: servicePorts }),
    service(env, { name: names.primaryHeadless, namespace, role: primary, ports: servicePorts, headless: true }),
    service(env, { name: names.replica, namespace, role: replica, ports: servicePorts }),
    service(env, { name: names.replicaHeadless, namespace, role: replica, ports: servicePorts, headless: true }),
  ];
}

// The servers, and the restore pod of the promotion runbook; not the setup Job, which reaches the
// primary alone.
const servers = podsOf(podRoles.primary, podRoles.replica, podRoles.restore);

/** The flows inside PostgreSQL: streaming replication, and the setup Job to the primary. */
function ownPolicies(env: Environment): PolicySpec[] {
  const namespace = env.common.namespaces.persistent;
  return [
    {
      name: "allow-pg-replication",
      namespace,
      pods: servers,
      ingress: [{ peers: [{ namespace, pods: servers }], ports: [postgresPort] }],
      egress: [{ peers: [{ namespace, pods: servers }], ports: [postgresPort] }],
    },
    {
      // Fix: the setup Job (a superuser session) reaches the primary's 5432 and nothing else.
      name: "allow-setup-to-primary",
      namespace,
      pods: podsOf(podRoles.setup),
      egress: [{ peers: [{ namespace, pods: podsOf(podRoles.primary) }], ports: [postgresPort] }],
    },
    {
      name: "allow-primary-from-setup",
      namespace,
      pods: podsOf(podRoles.primary),
      ingress: [{ peers: [{ namespace, pods: podsOf(podRoles.setup) }], ports: [postgresPort] }],
    },
  ];
}

/** PostgreSQL primary + streaming hot-standby replicas, their four Services, the setup and its flows. */
export function statefulSetsPostgres(env: Environment): KubeObject[] {
  const setup = configMap(env, {
    name: names.setupConfig,
    namespace: env.common.namespaces.persistent,
    role: role(podRoles.setup, names.setupConfig, env.common.images.postgres),
    data: { "setup.sql": setupSql(env) },
  });
  return [
    ...postgresServices(env),
    setup,
    postgresPrimary(env),
    postgresReplica(env),
    postgresSetupJob(env),
    ...ownPolicies(env).map((spec) => networkPolicy(env, spec)),
  ];
}

export function statefulSetsContract(env: Environment): PostgresContract {
  const s = secrets(env);
  const { app, debezium } = env.postgres.users;
  const maxConnections = statefulSetsOf(env).primary.settings.find(([k]) => k === "max_connections")?.[1];
  return {
    namespace: env.common.namespaces.persistent,
    host: primaryHost(env),
    port: postgresPort,
    database: env.postgres.database,
    schemas: env.postgres.schemas,
    app: { user: app, password: s.app },
    debezium: { user: debezium, password: s.debezium },
    maxConnections: Number(maxConnections ?? 100),
    // A promoted replica has no copy of the primary's slots: Debezium re-creates its slot there.
    failoverSlots: false,
    pods: { primary: podsOf(podRoles.primary), servers },
    secrets: Object.values(s),
  };
}
