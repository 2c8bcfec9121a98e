// PostgreSQL as a CloudNativePG Cluster: the operator runs the primary, the standbys, failover and
// the backups; the layer declares what it wants. The database's schemas and extensions and the
// CDC publication are declarative objects too (Database, Publication), which the operator applies
// to whichever Cluster they name, a new one, an existing one or one restored from a backup.
import { Cluster, type ICluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { Database } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Database";
import { Publication } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Publication";
import type { Environment, PostgresCloudNativePg, PostgresFailover } from "../../config/types.ts";
import { holdsData, recommendedLabels, role } from "../../lib/labels.ts";
import { apiServerAddresses, networkPolicy, type PolicySpec, type Pods, toAddresses } from "../../lib/network.ts";
import type { KubeObject } from "../../lib/objects.ts";
import { cloudNativePgOperator } from "../../lib/operator-pods.ts";
import { resources } from "../../lib/pod.ts";
import { type SecretRef, serviceHost } from "../../lib/topology.ts";
import type { PostgresContract } from "../contracts.ts";
import { backupSecrets, objectStore, recoverySource, scheduledBackup, walArchiver } from "./backup.ts";
import { checkPostgres, postgresPort, replicaIdentityStatements, replicaIdentityTrigger } from "./model.ts";

export function cloudNativePgOf(env: Environment): PostgresCloudNativePg {
  const cluster = env.postgres.cluster;
  if (cluster.kind !== "cloudnative-pg") throw new Error(`postgres.cluster is ${cluster.kind}, not cloudnative-pg`);
  return cluster;
}

/** The instance manager's REST API (status, backups), which the operator and the other instances call. */
const statusPort = 8000;

/**
 * The pods CloudNativePG runs as PostgreSQL servers, of any Cluster in the namespace: the policies
 * follow a Cluster the environment does not name yet (one being restored by `npm run pitr`).
 */
const instances: Pods = { matchLabels: { "cnpg.io/podRole": "instance" } };
/** The one-off Jobs of a Cluster (initdb, join, full-recovery, ...): labelled with their role, not as instances. */
const clusterJobs: Pods = { matchExpressions: [{ key: "cnpg.io/jobRole", operator: "Exists" }] };
/** Every pod CloudNativePG runs for a Cluster but its poolers' (which carry cnpg.io/cluster too). */
const clusterPods: Pods = {
  matchExpressions: [
    { key: "cnpg.io/cluster", operator: "Exists" },
    { key: "cnpg.io/podRole", operator: "NotIn", values: ["pooler"] },
  ],
};

/** A Secret of `username` and `password`, the type CloudNativePG requires of a role's password. */
function loginSecret(name: string, user: string, what: string): { username: SecretRef; password: SecretRef } {
  const secret = { name, type: "kubernetes.io/basic-auth", labels: { "cnpg.io/reload": "true" } };
  return {
    username: { ...secret, key: "username", holds: `the user name ${user}` },
    password: { ...secret, key: "password", holds: `password of ${what} ${user}` },
  };
}

function secrets(env: Environment) {
  const { app, debezium } = env.postgres.users;
  return {
    // Named after the role, not the Cluster: a Cluster restored under a new name keeps them.
    app: loginSecret("nx-postgresql-app", app, "the application user"),
    debezium: loginSecret("nx-postgresql-debezium", debezium, "the Debezium user"),
  };
}

/**
 * What CloudNativePG's readiness probe, shutdown and Lease add up to when a primary's PostgreSQL
 * or pod fails (docs/postgresql.md, "Failover"). A failing primary is seen after at most
 * failureThreshold probes a period apart, the last one timing out. If its instance manager still
 * runs, it is stopped (a fast shutdown, cut off at switchoverDelay) and releases the Lease, which a
 * standby takes within a retry period; if the pod is gone, the standby waits a full lease duration.
 */
export function failoverSeconds(failover: PostgresFailover): { detect: number; stop: number; handOver: number; lost: number; promote: number; worst: number } {
  const { readiness, switchoverDelaySeconds, primaryLease } = failover;
  const detect = readiness.failureThreshold * readiness.periodSeconds + readiness.timeoutSeconds;
  const handOver = primaryLease.retryPeriodSeconds;
  const lost = primaryLease.leaseDurationSeconds;
  // An estimate, not a setting: the promotion of a streaming standby, and the -rw Service following
  // the primary's label.
  const promote = 3;
  return { detect, stop: switchoverDelaySeconds, handOver, lost, promote, worst: Math.max(detect + switchoverDelaySeconds + handOver, lost) + promote };
}

/** Logical slots follow the primary to a promoted standby (replicationSlots.highAvailability). */
const synchronizesLogicalSlots = true;

// Parameters the layer sets for what it needs, which the config must leave to it.
const layerParameters: Readonly<Record<string, string>> = {
  // Logical slots follow the primary to a promoted standby (PostgreSQL 17; CloudNativePG's webhook
  // requires both with synchronizeLogicalDecoding).
  hot_standby_feedback: "on",
  sync_replication_slots: "on",
  // Any pg_stat_statements.* parameter makes CloudNativePG preload the library (PostgreSQL's default
  // value, set only for that).
  "pg_stat_statements.track": "top",
};

export function layerParameterNames(): string[] {
  return Object.keys(layerParameters);
}

/**
 * Parameters CloudNativePG sets itself and its webhook refuses in `postgresql.parameters`
 * (FixedConfigurationParameters in pkg/postgres/configuration.go, v1.30.0).
 */
export const operatorParameters: readonly string[] = [
  "allow_system_table_mods", "archive_mode", "bonjour", "bonjour_name", "cluster_name", "config_file", "data_directory",
  "data_sync_retry", "event_source", "external_pid_file", "hba_file", "hot_standby", "ident_file", "jit_provider",
  "listen_addresses", "logging_collector", "port", "primary_conninfo", "primary_slot_name", "recovery_target",
  "recovery_target_action", "recovery_target_inclusive", "recovery_target_lsn", "recovery_target_name", "recovery_target_time",
  "recovery_target_timeline", "recovery_target_xid", "restore_command", "shared_preload_libraries", "temp_tablespaces",
  "unix_socket_directories", "unix_socket_group", "unix_socket_permissions", "archive_cleanup_command", "archive_command",
  "log_destination", "log_directory", "log_file_mode", "log_filename", "log_rotation_age", "log_rotation_size",
  "log_truncate_on_rotation", "pg_failover_slots.primary_dsn", "pg_failover_slots.standby_slot_names", "promote_trigger_file",
  "recovery_end_command", "recovery_min_apply_delay", "restart_after_crash", "ssl", "ssl_ca_file", "ssl_cert_file",
  "ssl_crl_file", "ssl_dh_params_file", "ssl_ecdh_curve", "ssl_key_file", "ssl_passphrase_command",
  "ssl_passphrase_command_supports_reload", "ssl_prefer_server_ciphers", "stats_temp_directory", "synchronous_standby_names",
  "synchronized_standby_slots", "syslog_facility", "syslog_ident", "syslog_sequence_numbers", "syslog_split_messages",
];

/**
 * `primaryLease` is in CloudNativePG 1.30's CRD but not in the model's types, which track 1.29
 * (@kubernetes-models/cloudnative-pg 2.0.0): the spec type is extended here, and the strict schema
 * of `npm run validate` checks the field the model's validate() cannot.
 */
type ClusterSpec = ICluster["spec"] & {
  readonly primaryLease?: { leaseDurationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number };
};

/** The Cluster of the environment, or (with `recovery`) the one a point-in-time recovery makes. */
export function cloudNativePgCluster(env: Environment, cfg: PostgresCloudNativePg = cloudNativePgOf(env)): Cluster {
  const { database, users } = env.postgres;
  const namespace = env.common.namespaces.persistent;
  const s = secrets(env);
  const storage = (size: string) => ({ storageClass: env.common.storageClassName, size });
  const { readiness, switchoverDelaySeconds, primaryLease } = cfg.failover;
  checkPostgres(env, `Cluster ${namespace}/${cfg.name}`);
  const initdb = {
    database,
    owner: users.app,
    secret: { name: s.app.password.name },
    // Checksums show a corrupted page instead of reading it; only initdb can turn them on.
    dataChecksums: true,
    encoding: "UTF8",
    localeProvider: "builtin",
    builtinLocale: "C.UTF-8",
    // The schemas and extensions come from the Database; this runs once, and the event trigger it
    // makes is data from then on, in every backup and every Cluster restored from one.
    postInitApplicationSQL: [...replicaIdentityStatements(env.debezium.publicationName), `${replicaIdentityTrigger.create};`],
  };
  const source = cfg.recovery ? recoverySource(cfg.recovery.source) : undefined;
  const spec: ClusterSpec = {
    instances: cfg.instances,
    imageName: env.common.images.cloudnativePgPostgres,
    // Rolling updates move the primary by switchover (seconds of writes paused), not by restart.
    primaryUpdateStrategy: "unsupervised",
    primaryUpdateMethod: "switchover",
    enablePDB: true,
    failoverDelay: 0,
    switchoverDelay: switchoverDelaySeconds,
    primaryLease,
    probes: { readiness },
    affinity: {
      enablePodAntiAffinity: true,
      topologyKey: "kubernetes.io/hostname",
      podAntiAffinityType: "required",
      nodeSelector: { "node.kubernetes.io/pool": env.common.nodePools.stateful },
    },
    // Nodes are required apart (above); zones are spread where the cluster has them.
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { "cnpg.io/cluster": cfg.name, "cnpg.io/podRole": "instance" } },
      },
    ],
    storage: storage(cfg.storage),
    walStorage: storage(cfg.walStorage),
    resources: resources(cfg.resources),
    postgresql: {
      parameters: { ...Object.fromEntries(cfg.settings), ...layerParameters },
      ...(cfg.synchronous ? { synchronous: { method: "any", ...cfg.synchronous } } : {}),
    },
    replicationSlots: { highAvailability: { enabled: true, synchronizeLogicalDecoding: synchronizesLogicalSlots } },
    bootstrap: cfg.recovery && source
      ? { recovery: { source: source.name, recoveryTarget: { targetTime: cfg.recovery.targetTime } } }
      : { initdb },
    ...(source ? { externalClusters: [source] } : {}),
    managed: {
      roles: [
        {
          name: users.app,
          ensure: "present",
          login: true,
          passwordSecret: { name: s.app.password.name },
        },
        {
          // Reads every table (the snapshot) and streams the WAL; owns nothing.
          name: users.debezium,
          ensure: "present",
          login: true,
          replication: true,
          inRoles: ["pg_read_all_data"],
          passwordSecret: { name: s.debezium.password.name },
        },
      ],
    },
    plugins: [walArchiver],
  };
  return new Cluster({
    metadata: {
      name: cfg.name,
      namespace,
      labels: recommendedLabels(env, role({ app: "postgresql", component: "database" }, cfg.name, env.common.images.cloudnativePgPostgres)),
      annotations: holdsData,
    },
    spec,
  });
}

/** What each object of the Cluster is, for its labels. */
const objectRole = (component: string, instance: string) => role({ app: "postgresql", component }, instance);

/**
 * The database's schemas (owned by the application user) and extensions, applied by the operator to
 * the Cluster's primary and re-applied whenever it reconciles: a schema added to the config reaches
 * the running Cluster, and a restored one gets them again. Deleting the object leaves the database.
 */
function database(env: Environment, cluster: string): Database {
  const { database: name, users, schemas } = env.postgres;
  const objectName = `${cluster}-${name.replaceAll("_", "-")}`;
  return new Database({
    // Retained on delete, but marked: one `databaseReclaimPolicy: delete` would make a prune a DROP DATABASE.
    metadata: { name: objectName, namespace: env.common.namespaces.persistent, labels: recommendedLabels(env, objectRole("database", objectName)), annotations: holdsData },
    spec: {
      cluster: { name: cluster },
      name,
      owner: users.app,
      databaseReclaimPolicy: "retain",
      schemas: schemas.filter((schema) => schema !== "public").map((schema) => ({ name: schema, owner: users.app, ensure: "present" })),
      extensions: ["pg_stat_statements", "pgcrypto"].map((extension) => ({ name: extension, ensure: "present" })),
    },
  });
}

/**
 * The publication Debezium streams: the tables of the schemas it reads, now and later. Its CREATE
 * and every ALTER the operator runs fire the event trigger, which gives the tables it covers a
 * usable replica identity, so it cannot make an application's UPDATE or DELETE fail.
 */
function publication(env: Environment, cluster: string): Publication {
  const { publicationName, schemas } = env.debezium;
  const objectName = `${cluster}-${publicationName.replaceAll("_", "-")}`;
  return new Publication({
    metadata: { name: objectName, namespace: env.common.namespaces.persistent, labels: recommendedLabels(env, objectRole("publication", objectName)) },
    spec: {
      cluster: { name: cluster },
      dbname: env.postgres.database,
      name: publicationName,
      publicationReclaimPolicy: "retain",
      target: { objects: schemas.map((schema) => ({ tablesInSchema: schema })) },
    },
  });
}

/**
 * The flows CloudNativePG needs around its own pods (docs/src/networking.md, security.md): the
 * operator to every instance's status API and PostgreSQL, the instances to each other (streaming,
 * and the status API the primary isolation check calls), a joining instance's Job to the primary,
 * and every instance and Job to the API server and the object store, the only place outside the
 * cluster they reach.
 */
function ownPolicies(env: Environment, cfg: PostgresCloudNativePg): PolicySpec[] {
  const namespace = env.common.namespaces.persistent;
  const api = apiServerAddresses(env);
  const peers = { instances: { namespace, pods: instances }, jobs: { namespace, pods: clusterJobs } };
  return [
    {
      name: "allow-cnpg-instances",
      namespace,
      pods: instances,
      ingress: [
        // The operator calls every instance's status API and PostgreSQL (CloudNativePG docs/src/networking.md).
        { peers: [peers.instances, cloudNativePgOperator(env)], ports: [postgresPort, statusPort] },
        { peers: [peers.jobs], ports: [postgresPort] },
      ],
      egress: [{ peers: [peers.instances], ports: [postgresPort, statusPort] }],
    },
    { name: "allow-cnpg-jobs", namespace, pods: clusterJobs, egress: [{ peers: [peers.instances], ports: [postgresPort] }] },
    { name: `allow-postgresql-to-${api.name}`, namespace, pods: clusterPods, egress: [toAddresses(api)] },
    { name: `allow-postgresql-to-${cfg.backup.objectStorage.name}`, namespace, pods: clusterPods, egress: [toAddresses(cfg.backup.objectStorage)] },
  ];
}

export function cloudNativePgPostgres(env: Environment): KubeObject[] {
  const cfg = cloudNativePgOf(env);
  return [
    cloudNativePgCluster(env, cfg),
    database(env, cfg.name),
    publication(env, cfg.name),
    objectStore(env, cfg.backup),
    scheduledBackup(env, cfg.name, cfg.backup),
    ...ownPolicies(env, cfg).map((spec) => networkPolicy(env, spec)),
  ];
}

export function cloudNativePgContract(env: Environment): PostgresContract {
  const cfg = cloudNativePgOf(env);
  const s = secrets(env);
  const { app, debezium } = env.postgres.users;
  const maxConnections = cfg.settings.find(([k]) => k === "max_connections")?.[1];
  const { accessKeyId, secretAccessKey } = backupSecrets();
  return {
    namespace: env.common.namespaces.persistent,
    // The read-write Service CloudNativePG keeps pointed at the current primary.
    host: serviceHost(`${cfg.name}-rw`, env.common.namespaces.persistent, env.common.clusterDomain),
    port: postgresPort,
    database: env.postgres.database,
    schemas: env.postgres.schemas,
    app: { user: app, password: s.app.password },
    debezium: { user: debezium, password: s.debezium.password },
    maxConnections: Number(maxConnections ?? 100),
    pods: { primary: { matchLabels: { ...instances.matchLabels, "cnpg.io/instanceRole": "primary" } }, servers: instances },
    // The standbys keep a copy of every failover slot (synchronizeLogicalDecoding above).
    failoverSlots: synchronizesLogicalSlots,
    cluster: cfg.name,
    secrets: [s.app.username, s.app.password, s.debezium.username, s.debezium.password, accessKeyId, secretAccessKey],
  };
}
