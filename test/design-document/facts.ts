// The design document's facts (shared/spec/data-layer.md, staging), in one place: every name,
// port, image, figure and setting the tests of test/design-document/ check the rendered staging
// overlay against. A deliberate change of a value the document states is an edit of the config
// (generator/config/) and of this file, nothing else; the section tests hold no value of their own.
//
// Each table names the document's section it is transcribed from. Where the layer deliberately
// departs from the document (docs/design-document-fixes.md) the fixed value is here, with the fix.

export const environment = "staging";
export const layerNamespaces = ["nx-persistent", "nx-broker", "nx-search"] as const;
export const serviceDns = (name: string, namespace: string) => `${name}.${namespace}.svc.cluster.local`;

// "Data Layer" (introduction) and "Volume Expansion".
export const storageClass = "csi-sc-vnpaycloud";
export const statefulPool = { "node.kubernetes.io/pool": "stateful" };
/** The init Jobs run on the default pool (the document's Redis cluster-init Job). */
export const jobPool = { "node.kubernetes.io/pool": "default" };

export const images = {
  postgres: "postgres:17-alpine",
  pgbouncer: "ghcr.io/icoretech/pgbouncer-docker:1.24.1",
  redis: "redis:7-alpine",
  kafka: "apache/kafka:4.1.1",
  typesense: "typesense/typesense:27.1",
  // Fix: the document's debezium/connect:3.0.0.Final moved to quay.io, 3.6.0.Final.
  debezium: "quay.io/debezium/connect:3.6.0.Final",
} as const;

export interface Figures {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}
const figures = (cpuReq: string, memReq: string, cpuLim: string, memLim: string): Figures => ({
  requests: { cpu: cpuReq, memory: memReq },
  limits: { cpu: cpuLim, memory: memLim },
});

export interface ComponentRow {
  readonly component: string;
  readonly kind: "StatefulSet" | "Deployment";
  readonly name: string;
  readonly namespace: string;
  /** Its pods: the Component Summary's replicas, the Resource Summary's Pods. */
  readonly replicas: number;
  readonly image: string;
  /** The container the figures are for. */
  readonly container: string;
  /**
   * One pod's requests and limits, as the component's YAML block gives them. The Resource
   * Summary's row is `replicas` times these (Redis 3 x 384Mi = 1.125Gi); its Total row prints
   * 7.67Gi requested where its rows add up to 7.625Gi (a misprint): the tests check each row.
   */
  readonly perPod: Figures;
  /** The data volume of each pod; null for the document's "-". */
  readonly storage: string | null;
}

// "Architecture Overview › Component Summary" with "Resource Summary › Staging (stateful node
// pool)". The workload names come from the component sections (StatefulSet YAML blocks; PgBouncer
// and Debezium are named by their Services).
export const components: readonly ComponentRow[] = [
  { component: "PostgreSQL primary", kind: "StatefulSet", name: "nx-postgresql-primary", namespace: "nx-persistent", replicas: 1, image: images.postgres,
    container: "postgresql", perPod: figures("500m", "1Gi", "2", "4Gi"), storage: "20Gi" },
  { component: "PostgreSQL replica", kind: "StatefulSet", name: "nx-postgresql-replica", namespace: "nx-persistent", replicas: 1, image: images.postgres,
    container: "postgresql", perPod: figures("250m", "512Mi", "1", "2Gi"), storage: "20Gi" },
  { component: "PgBouncer", kind: "Deployment", name: "nx-pgbouncer", namespace: "nx-persistent", replicas: 1, image: images.pgbouncer,
    container: "pgbouncer", perPod: figures("100m", "256Mi", "500m", "512Mi"), storage: null },
  { component: "Redis", kind: "StatefulSet", name: "nx-redis", namespace: "nx-broker", replicas: 3, image: images.redis,
    container: "redis", perPod: figures("100m", "384Mi", "1", "512Mi"), storage: "5Gi" },
  { component: "Kafka", kind: "StatefulSet", name: "nx-kafka", namespace: "nx-broker", replicas: 3, image: images.kafka,
    container: "kafka", perPod: figures("500m", "1280Mi", "1.5", "2Gi"), storage: "10Gi" },
  { component: "Typesense", kind: "StatefulSet", name: "nx-typesense", namespace: "nx-search", replicas: 1, image: images.typesense,
    container: "typesense", perPod: figures("200m", "512Mi", "1", "2Gi"), storage: "5Gi" },
  { component: "Debezium", kind: "Deployment", name: "nx-debezium", namespace: "nx-search", replicas: 1, image: images.debezium,
    container: "debezium", perPod: figures("250m", "512Mi", "1", "2Gi"), storage: null },
];

/** The init Jobs of the component sections (the Redis cluster-init, Kafka SCRAM user, Debezium connector; the PostgreSQL setup is a fix). */
export const initJobs = [
  { namespace: "nx-persistent", name: "nx-postgresql-setup" },
  { namespace: "nx-broker", name: "nx-redis-cluster-init" },
  { namespace: "nx-broker", name: "nx-kafka-scram-init" },
  { namespace: "nx-search", name: "nx-debezium-init" },
] as const;

/** The user, group and fsGroup each component's pods run as (the StatefulSet YAML blocks). */
export const runsAs = { postgres: 70, redis: 999, kafka: 1000, typesense: 1000 } as const;

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export const postgres = {
  namespace: "nx-persistent",
  primary: { name: "nx-postgresql-primary", serviceName: "nx-postgresql-primary-headless", init: "init-primary" },
  replica: { name: "nx-postgresql-replica", serviceName: "nx-postgresql-replica-headless", init: "init-replica" },
  port: 5432,
  database: "nx_seller_core",
  extensions: ["pg_stat_statements", "pgcrypto"],
  // "PostgreSQL › Primary StatefulSet": the `-c` args of the YAML block, in order.
  primarySettings: [
    ["wal_level", "logical"],
    ["max_wal_senders", "10"],
    ["max_replication_slots", "10"],
    ["hot_standby", "on"],
    ["shared_buffers", "512MB"],
    ["effective_cache_size", "1536MB"],
    ["work_mem", "8MB"],
    ["maintenance_work_mem", "128MB"],
    ["max_connections", "100"],
    ["random_page_cost", "1.1"],
    ["effective_io_concurrency", "200"],
    ["log_statement", "ddl"],
    ["log_min_duration_statement", "1000"],
    ["password_encryption", "scram-sha-256"],
    ["timezone", "Asia/Ho_Chi_Minh"],
  ],
  // "PostgreSQL › Replica StatefulSet": the `-c` args of the YAML block, in order.
  replicaSettings: [
    ["hot_standby", "on"],
    ["hot_standby_feedback", "on"],
    ["shared_buffers", "512MB"],
    ["max_connections", "100"],
  ],
  // Fix: pg_stat_statements only works when preloaded, and a replica that is down must not make
  // the primary keep WAL until its disk is full.
  addedPrimarySettings: ["shared_preload_libraries", "max_slot_wal_keep_size"],
  // Fix: a replica is a primary in waiting: a promoted one serves Debezium (wal_level=logical),
  // caps the WAL kept for a lost standby, and streams with a password file its init rewrites from
  // the Secret (primary_conninfo), so a rotated password reaches it.
  addedReplicaSettings: ["shared_preload_libraries", "wal_level", "max_slot_wal_keep_size", "primary_conninfo"],
  // "PostgreSQL › Users & Secrets".
  users: {
    superuser: { user: "postgres", purpose: "Superuser", secret: "nx-postgresql-superuser-secret" },
    app: { user: "nx_seller_operator", purpose: "Application user (CREATEDB)", secret: "nx-postgresql-app-secret" },
    replication: { user: "repl_user", purpose: "Streaming replication", secret: "nx-postgresql-replication-secret" },
  },
  // "PostgreSQL › Database Schemas" (public is built in).
  schemas: ["public", "pricing", "allocation", "inventory", "finance", "payment", "sale"],
} as const;

// "PostgreSQL › PgBouncer Connection Pooling" (the ConfigMap's pgbouncer.ini).
export const pgbouncer = {
  name: "nx-pgbouncer",
  container: "pgbouncer",
  listenPort: 6432,
  // Fix: the admin console has a user of its own, not the superuser.
  userlistSecrets: ["nx-pgbouncer-admin-secret", "nx-postgresql-app-secret"],
  ini: {
    databases: [["nx_seller_core", "host=nx-postgresql-primary.nx-persistent.svc.cluster.local port=5432 dbname=nx_seller_core"]],
    pgbouncer: [
      ["listen_addr", "0.0.0.0"],
      ["listen_port", "6432"],
      ["auth_type", "scram-sha-256"],
      ["pool_mode", "transaction"],
      ["max_client_conn", "200"],
      ["default_pool_size", "20"],
      ["min_pool_size", "5"],
      ["reserve_pool_size", "5"],
      ["max_db_connections", "50"],
    ],
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Services: "PostgreSQL › Services", "Redis › Services", "Kafka › Services", "Typesense ›
// Service", "Debezium › Service". Headless: "(pod DNS)"/"StatefulSet stable DNS" and "Headless";
// nx-redis and nx-kafka are "ClusterIP". Backends and container ports: the components' sections
// (PgBouncer: "port 5432 externally, mapping to 6432 internally").

export interface ServiceRow {
  readonly section: "PostgreSQL" | "Redis" | "Kafka" | "Typesense" | "Debezium";
  readonly name: string;
  readonly namespace: string;
  /** The document's DNS column; null for "(pod DNS)". */
  readonly dns: string | null;
  readonly ports: readonly number[];
  readonly headless: boolean;
  /** The workload whose pods the Service fronts, and the container port each Service port reaches. */
  readonly backend: string;
  readonly targetPorts: readonly number[];
  readonly publishNotReadyAddresses?: boolean;
}

export const services: readonly ServiceRow[] = [
  { section: "PostgreSQL", name: "nx-pgbouncer", namespace: "nx-persistent", dns: "nx-pgbouncer.nx-persistent.svc.cluster.local", ports: [5432], headless: false, backend: "Deployment nx-persistent/nx-pgbouncer", targetPorts: [6432] },
  { section: "PostgreSQL", name: "nx-postgresql-primary", namespace: "nx-persistent", dns: "nx-postgresql-primary.nx-persistent.svc.cluster.local", ports: [5432], headless: false, backend: "StatefulSet nx-persistent/nx-postgresql-primary", targetPorts: [5432] },
  { section: "PostgreSQL", name: "nx-postgresql-replica", namespace: "nx-persistent", dns: "nx-postgresql-replica.nx-persistent.svc.cluster.local", ports: [5432], headless: false, backend: "StatefulSet nx-persistent/nx-postgresql-replica", targetPorts: [5432] },
  { section: "PostgreSQL", name: "nx-postgresql-primary-headless", namespace: "nx-persistent", dns: null, ports: [5432], headless: true, backend: "StatefulSet nx-persistent/nx-postgresql-primary", targetPorts: [5432] },
  { section: "PostgreSQL", name: "nx-postgresql-replica-headless", namespace: "nx-persistent", dns: null, ports: [5432], headless: true, backend: "StatefulSet nx-persistent/nx-postgresql-replica", targetPorts: [5432] },
  { section: "Redis", name: "nx-redis-headless", namespace: "nx-broker", dns: "nx-redis-headless.nx-broker.svc.cluster.local", ports: [6379, 16379], headless: true, backend: "StatefulSet nx-broker/nx-redis", targetPorts: [6379, 16379] },
  { section: "Redis", name: "nx-redis", namespace: "nx-broker", dns: "nx-redis.nx-broker.svc.cluster.local", ports: [6379, 16379], headless: false, backend: "StatefulSet nx-broker/nx-redis", targetPorts: [6379, 16379] },
  // publishNotReadyAddresses: the brokers find each other before any is ready (KRaft bootstrap).
  { section: "Kafka", name: "nx-kafka-headless", namespace: "nx-broker", dns: "nx-kafka-headless.nx-broker.svc.cluster.local", ports: [29092, 9092, 9093], headless: true, backend: "StatefulSet nx-broker/nx-kafka", targetPorts: [29092, 9092, 9093], publishNotReadyAddresses: true },
  { section: "Kafka", name: "nx-kafka", namespace: "nx-broker", dns: "nx-kafka.nx-broker.svc.cluster.local", ports: [29092, 9092], headless: false, backend: "StatefulSet nx-broker/nx-kafka", targetPorts: [29092, 9092] },
  { section: "Typesense", name: "nx-typesense", namespace: "nx-search", dns: "nx-typesense.nx-search.svc.cluster.local", ports: [8108], headless: false, backend: "StatefulSet nx-search/nx-typesense", targetPorts: [8108] },
  { section: "Debezium", name: "nx-debezium", namespace: "nx-search", dns: "nx-debezium.nx-search.svc.cluster.local", ports: [8083], headless: false, backend: "Deployment nx-search/nx-debezium", targetPorts: [8083] },
];

// ---------------------------------------------------------------------------------------------
// Redis

export const redis = {
  namespace: "nx-broker",
  name: "nx-redis",
  serviceName: "nx-redis-headless",
  secret: { name: "nx-redis-secret", key: "REDIS_PASSWORD" },
  ports: [["redis", 6379], ["cluster-bus", 16379]],
  dataPath: "/data",
  // "Redis › StatefulSet": the redis-server flags of the YAML block, in order.
  flags: [
    ["--requirepass", "$(REDIS_PASSWORD)"],
    ["--masterauth", "$(REDIS_PASSWORD)"],
    ["--cluster-enabled", "yes"],
    ["--cluster-config-file", "/data/nodes.conf"],
    ["--cluster-node-timeout", "5000"],
    ["--appendonly", "yes"],
    ["--appendfsync", "everysec"],
    ["--maxmemory", "256mb"],
    ["--maxmemory-policy", "noeviction"],
  ],
  // Fix: each node announces its pod hostname (nodes.conf keeps peer IPs that change on restart).
  announce: {
    "--cluster-announce-hostname": "$(POD_NAME).nx-redis-headless.nx-broker.svc.cluster.local",
    "--cluster-preferred-endpoint-type": "hostname",
  },
  // "Redis › Services": the pod addresses backend services use.
  podAddresses: [
    "nx-redis-0.nx-redis-headless.nx-broker.svc.cluster.local:6379",
    "nx-redis-1.nx-redis-headless.nx-broker.svc.cluster.local:6379",
    "nx-redis-2.nx-redis-headless.nx-broker.svc.cluster.local:6379",
  ],
  // "Redis › Cluster Initialization".
  init: { name: "nx-redis-cluster-init", container: "cluster-init", backoffLimit: 3, restartPolicy: "OnFailure", clusterReplicas: 0 },
} as const;

// ---------------------------------------------------------------------------------------------
// Kafka

export const kafka = {
  namespace: "nx-broker",
  name: "nx-kafka",
  serviceName: "nx-kafka-headless",
  init: "kafka-init-config",
  command: ["/opt/kafka/bin/kafka-server-start.sh", "/config/server.properties"],
  kafkaOpts: "-Djava.security.auth.login.config=/etc/kafka-jaas/kafka_server_jaas.conf",
  jaasSecret: "nx-kafka-jaas",
  // "Kafka › StatefulSet": the volumeMounts of the YAML block, and its config emptyDir.
  mounts: [
    { volume: "data", mountPath: "/var/lib/kafka/data", readOnly: false },
    { volume: "config", mountPath: "/config", readOnly: false },
    { volume: "jaas", mountPath: "/etc/kafka-jaas", readOnly: true },
  ],
  configSizeLimit: "8Mi",
  // "Kafka › Listeners".
  listeners: [
    { listener: "INTERNAL", port: 29092, protocol: "PLAINTEXT", containerPortName: "internal" },
    { listener: "CLIENT", port: 9092, protocol: "SASL_PLAINTEXT", containerPortName: "client" },
    { listener: "CONTROLLER", port: 9093, protocol: "PLAINTEXT", containerPortName: "controller" },
  ],
  saslMechanism: "SCRAM-SHA-512",
  // "Kafka › Key Configuration (from generated server.properties)".
  keyConfiguration: [
    ["offsets.topic.replication.factor", "3"],
    ["transaction.state.log.replication.factor", "3"],
    ["transaction.state.log.min.isr", "2"],
    ["default.replication.factor", "3"],
    ["min.insync.replicas", "2"],
    ["num.partitions", "3"],
    // "Backup & Recovery": the retention, in hours and in bytes per partition.
    ["log.retention.hours", "168"],
    ["log.retention.bytes", "1073741824"],
    ["log.segment.bytes", "1073741824"],
    ["auto.create.topics.enable", "false"],
  ],
  // "Kafka › Backend Connection Config" (APP_ENV_KAFKA_BROKERS, APP_ENV_KAFKA_SASL_USERNAME).
  brokerAddresses: [
    "nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
    "nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
    "nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
  ],
  clientUser: "nx.staging",
  // "Kafka › SASL/SCRAM user initialization".
  scram: { job: "nx-kafka-scram-init", container: "scram-init", iterations: 8192 },
} as const;

// ---------------------------------------------------------------------------------------------
// Typesense and Debezium

// "Typesense › Single Instance".
export const typesense = {
  namespace: "nx-search",
  name: "nx-typesense",
  serviceName: "nx-typesense",
  args: ["--data-dir=/data", "--api-port=8108", "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors"],
  ports: [["http", 8108]],
  secret: { name: "nx-typesense-secret", key: "TYPESENSE_API_KEY" },
} as const;

// "Debezium › CDC Connector", "Debezium › Deployment".
export const debezium = {
  namespace: "nx-search",
  name: "nx-debezium",
  port: 8083,
  init: "nx-debezium-init",
  connector: {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "nx-postgresql-primary.nx-persistent.svc.cluster.local",
    "database.port": "5432",
    "database.dbname": "nx_seller_core",
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Network Policies

export interface AllowRow {
  readonly policy: string;
  readonly namespace: string;
  readonly direction: "Ingress" | "Egress" | "Both";
  /** The document's From/To column. */
  readonly fromTo: string;
  /** Namespaces of the peers the From/To column names. */
  readonly peerNamespaces: readonly string[];
  readonly ports: readonly number[];
  /** Workloads the policy applies to, where the From/To column names them. */
  readonly appliesTo?: readonly string[];
  /** Workloads the peers select, where the From/To column names them. */
  readonly peers?: readonly string[];
  /** Where the layer deliberately corrects the row: what it renders instead. */
  readonly fixed?: { readonly why: string; readonly peerNamespaces: readonly string[]; readonly ports: readonly number[]; readonly appliesTo?: readonly string[] };
}

// "Network Policies › Allow Rules": the rows of the layer's three namespaces (the nx-backend rows
// belong to the backend's repository).
export const allowRules: readonly AllowRow[] = [
  { policy: "allow-from-backend", namespace: "nx-broker", direction: "Ingress", fromTo: "nx-backend + nx-broker", peerNamespaces: ["nx-backend", "nx-broker"], ports: [6379, 16379, 9092, 29092, 9093],
    fixed: { why: "clients get Redis 6379 and Kafka CLIENT 9092 only; nx-broker's own traffic moves to allow-redis-cluster / allow-kafka-cluster", peerNamespaces: ["nx-backend"], ports: [6379, 9092] } },
  { policy: "allow-broker-internal", namespace: "nx-broker", direction: "Egress", fromTo: "nx-broker", peerNamespaces: ["nx-broker"], ports: [6379, 16379, 9092, 29092, 9093] },
  { policy: "allow-pg-replication", namespace: "nx-persistent", direction: "Both", fromTo: "PG pods within nx-persistent", peerNamespaces: ["nx-persistent"], ports: [5432],
    appliesTo: ["StatefulSet nx-persistent/nx-postgresql-primary", "StatefulSet nx-persistent/nx-postgresql-replica"],
    peers: ["StatefulSet nx-persistent/nx-postgresql-primary", "StatefulSet nx-persistent/nx-postgresql-replica"] },
  { policy: "allow-pgbouncer-to-primary", namespace: "nx-persistent", direction: "Egress", fromTo: "PgBouncer → PG primary", peerNamespaces: ["nx-persistent"], ports: [5432],
    appliesTo: ["Deployment nx-persistent/nx-pgbouncer"], peers: ["StatefulSet nx-persistent/nx-postgresql-primary"] },
  { policy: "allow-pgbouncer-from-backend", namespace: "nx-persistent", direction: "Ingress", fromTo: "nx-backend → PgBouncer", peerNamespaces: ["nx-backend"], ports: [6432],
    appliesTo: ["Deployment nx-persistent/nx-pgbouncer"] },
  { policy: "allow-from-backend", namespace: "nx-persistent", direction: "Ingress", fromTo: "nx-backend", peerNamespaces: ["nx-backend"], ports: [5432, 6432] },
  { policy: "allow-from-backend", namespace: "nx-search", direction: "Ingress", fromTo: "nx-backend", peerNamespaces: ["nx-backend"], ports: [8108] },
  { policy: "allow-search-internal", namespace: "nx-search", direction: "Both", fromTo: "Within nx-search", peerNamespaces: ["nx-search"], ports: [8083, 8108],
    fixed: { why: "8108 only: Kafka Connect's REST API (8083) reveals the worker's passwords; allow-connect-rest opens it to the registration Job", peerNamespaces: ["nx-search"], ports: [8108] } },
  { policy: "egress-nx-search", namespace: "nx-search", direction: "Egress", fromTo: "nx-persistent, nx-broker", peerNamespaces: ["nx-persistent", "nx-broker"], ports: [5432, 9092],
    fixed: { why: "applies to the Debezium pods only and names the primary (5432) and the brokers (9092) instead of whole namespaces", peerNamespaces: ["nx-broker", "nx-persistent"], ports: [5432, 9092],
      appliesTo: ["Deployment nx-search/nx-debezium"] } },
];

// "Network Policies › Deny Defaults" (default-deny-all and allow-dns in each namespace).
export const dns = { namespace: "kube-system", ports: ["53/TCP", "53/UDP"] };

// Policies the layer adds to fix flows the document's rows would block or open too widely
// (generator/components/network-policies.ts, each marked "Fix:"); policies/flows.ts declares the
// flows themselves, which `npm run policy` proves.
export const fixPolicies = [
  { policy: "allow-primary-from-pgbouncer", namespace: "nx-persistent", fix: "the document allows PgBouncer's egress but not the primary's ingress from it" },
  { policy: "allow-primary-from-debezium", namespace: "nx-persistent", fix: "Debezium (nx-search) reads the primary's logical replication stream" },
  { policy: "allow-setup-to-primary", namespace: "nx-persistent", fix: "the setup Job's egress to the primary, and nowhere else (allow-pg-replication leaves it out)" },
  { policy: "allow-primary-from-setup", namespace: "nx-persistent", fix: "the primary admits the setup Job" },
  { policy: "allow-redis-cluster", namespace: "nx-broker", fix: "only Redis pods (and the init Job) reach Redis; the cluster bus is not namespace-wide" },
  { policy: "allow-kafka-cluster", namespace: "nx-broker", fix: "only brokers (and the SCRAM Job) reach the PLAINTEXT INTERNAL and CONTROLLER listeners" },
  { policy: "allow-kafka-from-debezium", namespace: "nx-broker", fix: "Debezium (nx-search) produces change events to Kafka" },
  { policy: "allow-connect-rest", namespace: "nx-search", fix: "Kafka Connect's REST API admits the registration Job and the workers only" },
  { policy: "allow-connector-registration", namespace: "nx-search", fix: "the registration Job's egress to Kafka Connect's REST API" },
] as const;

// "Volume Expansion": the PVCs its example patches, named <claim template>-<pod>.
export const expandedClaims = { namespace: "nx-broker", statefulSet: "nx-redis", claims: ["data-nx-redis-0", "data-nx-redis-1", "data-nx-redis-2"] };
