// Typed environment config: the only input of the component functions.
// `Common` holds what every environment shares; each environment file holds what differs.

/** A Kubernetes resource quantity such as `500m`, `1Gi` or `2` (checked by `validate()`). */
export type Quantity = string;

export interface ContainerResources {
  /** What the scheduler reserves for the container. */
  readonly requests: { readonly cpu: Quantity; readonly memory: Quantity };
  /** What the container may use at most (memory beyond it is an OOM kill). */
  readonly limits: { readonly cpu: Quantity; readonly memory: Quantity };
}

export interface Images {
  /** PostgreSQL: the primary, the replicas and the setup Job. */
  readonly postgres: string;
  /** PgBouncer, and its userlist init container. */
  readonly pgbouncer: string;
  /** PostgreSQL of a CloudNativePG Cluster (CloudNativePG reads the major version from the tag). */
  readonly cloudnativePgPostgres: string;
  /** PgBouncer of a CloudNativePG Pooler. */
  readonly cloudnativePgPgbouncer: string;
  /** Redis: the cluster nodes, the cluster-create Job and the backup's snapshots. */
  readonly redis: string;
  /** rclone: uploads the Redis backup's snapshots to S3 and deletes those past the retention. */
  readonly rclone: string;
  /** Kafka: the brokers, their init container and the SCRAM user Job. */
  readonly kafka: string;
  /** Typesense. */
  readonly typesense: string;
  /** Kafka Connect with the Debezium connectors, and the connector registration Job. */
  readonly debezium: string;
}

/** A Helm chart at an exact version, pinned in `common.ts` on one line (Renovate proposes bumps). */
export interface HelmChart {
  /** The chart repository's https URL (Argo CD's `spec.source.repoURL`). */
  readonly repository: string;
  /** The chart's name in that repository. */
  readonly chart: string;
  /** The exact chart version (`targetRevision`); never a range. */
  readonly version: string;
}

/** The operators' Helm charts; an environment installs those its components need (docs/operators.md). */
export interface OperatorCharts {
  /** cert-manager: issues the Barman Cloud plugin's mTLS certificates. */
  readonly certManager: HelmChart;
  /** The CloudNativePG operator: runs the PostgreSQL `Cluster`s and `Pooler`s. */
  readonly cloudnativePg: HelmChart;
  /** The Barman Cloud plugin of CloudNativePG: WAL archiving and base backups to object storage. */
  readonly barmanCloudPlugin: HelmChart;
  /** The External Secrets Operator: writes the layer's Secrets from a secret store. */
  readonly externalSecrets: HelmChart;
  /** The Strimzi cluster operator: runs the `Kafka`, its node pools, topics and users. */
  readonly strimzi: HelmChart;
}

/** The namespace of each operator. The Barman Cloud plugin has none of its own: it must run in the CloudNativePG operator's. */
export interface OperatorNamespaces {
  /** cert-manager's controller, webhook and CA injector. */
  readonly certManager: string;
  /** The CloudNativePG operator and its Barman Cloud plugin. */
  readonly cloudnativePg: string;
  /** The External Secrets Operator: controller, webhook and its certificate controller. */
  readonly externalSecrets: string;
  /** The Strimzi cluster operator (it watches the broker namespace). */
  readonly strimzi: string;
}

export interface Namespaces {
  /** PostgreSQL and PgBouncer. */
  readonly persistent: string;
  /** Redis and Kafka. */
  readonly broker: string;
  /** Typesense and Debezium. */
  readonly search: string;
}

/** How Argo CD delivers the layer. */
export interface Delivery {
  /** The Git repository Argo CD syncs from, and the revision it tracks: set here and nowhere else. */
  readonly source: { readonly repoURL: string; readonly targetRevision: string };
  /** The namespace Argo CD runs in, where the Applications and AppProjects are created. */
  readonly argocdNamespace: string;
  /** The cluster the layer runs in (Argo CD's own cluster). */
  readonly destinationServer: string;
  /**
   * AppProject of the per-namespace Applications, of the admin-only root Applications, and of the
   * operators (their Helm charts and their namespaces' NetworkPolicies).
   */
  readonly projects: { readonly layer: string; readonly root: string; readonly operators: string };
  /** Retries of a failed sync, with exponential backoff. */
  readonly retry: {
    readonly limit: number;
    readonly backoff: { readonly duration: string; readonly factor: number; readonly maxDuration: string };
  };
}

export interface Common {
  /** `app.kubernetes.io/part-of` on every object. */
  readonly partOf: string;
  /** `app.kubernetes.io/version` of the objects that belong to the layer as a whole. */
  readonly layerVersion: string;
  /** `app.kubernetes.io/managed-by` on every object. */
  readonly managedBy: string;
  /** Kubernetes minor version the layer targets, e.g. `1.36`; pins the Pod Security version labels. */
  readonly kubernetesVersion: string;
  /** The cluster's DNS domain, the end of every Service and pod hostname. */
  readonly clusterDomain: string;
  /** StorageClass of every volume claim; it must allow volume expansion. */
  readonly storageClassName: string;
  /** Values of the `node.kubernetes.io/pool` node label. */
  readonly nodePools: { readonly stateful: string; readonly jobs: string };
  /** Every image the layer runs, pinned here and nowhere else (Renovate proposes bumps). */
  readonly images: Images;
  /** The layer's namespaces, one Argo CD Application each. */
  readonly namespaces: Namespaces;
  /** The operators' Helm charts, each pinned to an exact version here and nowhere else. */
  readonly charts: OperatorCharts;
  /** Where each operator runs (namespaces that NetworkPolicies of the layer may admit by name). */
  readonly operatorNamespaces: OperatorNamespaces;
  /** Namespaces whose pods use the data layer (backend services). */
  readonly clientNamespaces: readonly string[];
  /** How Argo CD delivers the layer. */
  readonly delivery: Delivery;
  /** Limits of the one-time init Jobs (sized for the JVM command-line tools of Kafka). */
  readonly jobs: {
    readonly activeDeadlineSeconds: number;
    readonly backoffLimit: number;
    readonly resources: ContainerResources;
  };
}

/** One `-c name=value` server setting, kept in the order the design document lists them. */
export type PostgresSettings = readonly (readonly [name: string, value: string])[];

export interface PostgresConfig {
  /** The application database; PgBouncer offers it, and one database per schema. */
  readonly database: string;
  /**
   * The schemas the services use, created (if missing) by the setup. PgBouncer offers one
   * database per schema other than `public` that lands its clients in it.
   */
  readonly schemas: readonly string[];
  /** The roles the services (the database's owner) and Debezium (logical replication) log in as. */
  readonly users: { readonly app: string; readonly debezium: string };
  /** How the servers run: StatefulSets the layer writes itself, or a CloudNativePG `Cluster`. */
  readonly cluster: PostgresStatefulSets | PostgresCloudNativePg;
}

/** A primary and hot standbys as StatefulSets, set up by the layer's own scripts and Job. */
export interface PostgresStatefulSets {
  /** StatefulSets, init scripts and a setup Job of the layer's own (staging). */
  readonly kind: "statefulsets";
  /** The superuser the setup Job runs as. */
  readonly superuser: string;
  /** The role the standbys stream (and clone) with. */
  readonly replicationUser: string;
  /** The primary's container resources, volume size and `-c` server settings. */
  readonly primary: {
    readonly resources: ContainerResources;
    readonly storage: Quantity;
    readonly settings: PostgresSettings;
  };
  /** The hot standbys streaming from the primary: count, resources, volume size and server settings. */
  readonly replica: {
    readonly replicas: number;
    readonly resources: ContainerResources;
    readonly storage: Quantity;
    readonly settings: PostgresSettings;
  };
}

/** A CloudNativePG `Cluster`: the operator runs the primary, the standbys, failover and backups. */
export interface PostgresCloudNativePg {
  /** A `Cluster` run by the CloudNativePG operator, which the environment then installs. */
  readonly kind: "cloudnative-pg";
  /**
   * The Cluster's name: its Services (`<name>-rw`), pods, primary Lease and the folder of its
   * backups in the object store carry it. A point-in-time recovery makes a new Cluster under a new
   * name (`npm run pitr`, docs/postgresql.md); the environment then names that one here.
   */
  readonly name: string;
  /**
   * Absent: the Cluster starts as a new, empty database (initdb). Present: it was made by a
   * point-in-time recovery of another Cluster's backups, as `npm run pitr` renders it; keep it as
   * long as the Cluster lives (a Cluster's bootstrap is read only when it is created).
   */
  readonly recovery?: {
    /** The Cluster whose backups (WAL and base backups in the object store) were restored. */
    readonly source: string;
    /** The moment restored to, RFC 3339 (`2026-09-01T10:15:00Z`). */
    readonly targetTime: string;
  };
  /** PostgreSQL instances: one primary, the others hot standbys it can fail over to (at least 3). */
  readonly instances: number;
  /** Resources of each instance's PostgreSQL container. */
  readonly resources: ContainerResources;
  /** Volume size of each instance's data directory. */
  readonly storage: Quantity;
  /** Volume size of each instance's WAL (a volume of its own, so a WAL burst cannot fill the data). */
  readonly walStorage: Quantity;
  /**
   * `postgresql.parameters`, in this order. Not the parameters CloudNativePG manages itself (it
   * refuses them) nor those the layer sets for what it needs (slot synchronization,
   * pg_stat_statements); `npm run generate` names either.
   */
  readonly settings: PostgresSettings;
  /**
   * Synchronous replication: a commit waits until `number` standbys have it. `preferred` keeps
   * writing when fewer standbys are up (then asynchronously); `required` stops writes instead.
   * Absent: asynchronous (a failover may lose the last commits).
   */
  readonly synchronous?: { readonly number: number; readonly dataDurability: "required" | "preferred" };
  /** What bounds the time from a failed primary to a new one (docs/postgresql.md, "Failover"). */
  readonly failover: PostgresFailover;
  /** Continuous WAL archiving and base backups to object storage (Barman Cloud plugin). */
  readonly backup: PostgresBackup;
}

/** The settings a failover's duration is the sum of, and the time they must stay within. */
export interface PostgresFailover {
  /** The instances' readiness probe: a primary that fails it `failureThreshold` times in a row is failed over. */
  readonly readiness: { readonly periodSeconds: number; readonly timeoutSeconds: number; readonly failureThreshold: number };
  /**
   * How long a failing primary may take to stop cleanly (archiving its last WAL) before it is
   * stopped at once (`switchoverDelay`): a longer wait loses less of the archive, a shorter one
   * promotes sooner.
   */
  readonly switchoverDelaySeconds: number;
  /**
   * The primary's Lease (`primaryLease`): after a primary is lost without releasing it, a standby
   * promotes only once it has seen the Lease unrenewed for `leaseDurationSeconds`; CloudNativePG
   * requires lease > renewDeadline > 1.2 × retryPeriod.
   */
  readonly primaryLease: {
    readonly leaseDurationSeconds: number;
    readonly renewDeadlineSeconds: number;
    readonly retryPeriodSeconds: number;
  };
  /**
   * The longest a failover may take after a PostgreSQL process or pod fails, which the settings
   * above must add up to at most (a lost node takes longer: docs/postgresql.md).
   */
  readonly budgetSeconds: number;
}

/** Addresses outside the cluster's pods that some pods reach: a NetworkPolicy names them by IP block only. */
export interface ExternalAddresses {
  /** What is there; the NetworkPolicy that opens them is named after it. */
  readonly name: string;
  /** The IP blocks (CIDR) of every address the pods may resolve it to. */
  readonly cidrs: readonly string[];
  /** The ports the pods open there. */
  readonly ports: readonly number[];
  /** Where the blocks come from, for the reviewer of a change (and docs/network.md). */
  readonly reason: string;
}

/** Where a Cluster's WAL and base backups go, how long they are kept and when the base backup runs. */
export interface PostgresBackup {
  /** `s3://bucket/path/`: the Cluster's folder (its name) is made below it. */
  readonly destinationPath: string;
  /** The S3 endpoint of an S3-compatible store; absent: AWS S3. */
  readonly endpointURL?: string;
  /** How long backups are kept: a number and d, w or m (`30d`). */
  readonly retention: string;
  /** When the base backup runs: CloudNativePG's six-field cron, seconds first (`0 0 2 * * *`). */
  readonly schedule: string;
  /** The object store's addresses, which the instances (and their recovery Jobs) may reach and nothing else outside the cluster. */
  readonly objectStorage: ExternalAddresses;
}

/** PgBouncer's pool_mode values (pgbouncer src/loader.c: pool_mode_map). */
export const poolModes = ["session", "transaction", "statement"] as const;

export interface PgBouncerConfig {
  /** PgBouncer pods; `maxUserConnections` applies to each. */
  readonly replicas: number;
  /** Resources of the PgBouncer container (and its init container). */
  readonly resources: ContainerResources;
  /** When a server connection returns to the pool: after each session, transaction or statement. */
  readonly poolMode: (typeof poolModes)[number];
  /** Client connections one PgBouncer pod accepts. */
  readonly maxClientConn: number;
  /** Server connections per user and database pool. */
  readonly defaultPoolSize: number;
  /** Server connections kept open per pool that has clients. */
  readonly minPoolSize: number;
  /** Extra server connections a pool may open when clients wait. */
  readonly reservePoolSize: number;
  /** Server connections per PgBouncer database (each schema's database is one). */
  readonly maxDbConnections: number;
  /**
   * Server connections of one user across all PgBouncer databases: the cap that keeps the
   * per-schema pools together below the primary's max_connections.
   */
  readonly maxUserConnections: number;
  /** Who runs PgBouncer: a Deployment of the layer's own, or CloudNativePG's `Pooler`. */
  readonly pooler: PgBouncerDeployment | PgBouncerCloudNativePg;
}

export interface PgBouncerDeployment {
  /** A Deployment with the layer's own pgbouncer.ini: one database per schema, an admin console. */
  readonly kind: "deployment";
  /** The admin console's user: in PgBouncer's userlist only, never a PostgreSQL role. */
  readonly adminUser: string;
}

/** CloudNativePG's `Pooler` in front of the Cluster's read-write Service (`replicas` of at least 2). */
export interface PgBouncerCloudNativePg {
  /** A `Pooler` of the environment's CloudNativePG Cluster (needs `postgres.cluster.kind: cloudnative-pg`). */
  readonly kind: "cloudnative-pg";
}

/** Redis 7's maxmemory-policy values (redis src/config.c: maxmemory_policy_enum). */
export const maxmemoryPolicies = [
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "noeviction",
] as const;

export interface RedisConfig {
  /** Cluster masters: the shards the hash slots are split over, evenly. */
  readonly masters: number;
  /** Resources of each Redis container. */
  readonly resources: ContainerResources;
  /** Volume size of each node (AOF and nodes.conf). */
  readonly storage: Quantity;
  /** Redis `maxmemory` (`256mb`, `1gb`): the data set's cap; at most half the container's memory limit. */
  readonly maxmemory: string;
  /** Redis `maxmemory-policy` (`noeviction`: writes fail rather than keys vanish). */
  readonly maxmemoryPolicy: (typeof maxmemoryPolicies)[number];
  /** Redis `cluster-node-timeout`: how long a node may not answer before it counts as failing. */
  readonly clusterNodeTimeoutMs: number;
  /** How the masters are run: alone (every node a master), or each with replicas it fails over to. */
  readonly cluster: RedisMastersOnly | RedisReplicatedShards;
  /** A scheduled RDB snapshot of every shard to object storage (docs/redis.md). Absent: no backup but each node's AOF. */
  readonly backup?: RedisBackup;
}

/** Every node a master, one StatefulSet `nx-redis`: a master down takes its slots down until it is back. */
export interface RedisMastersOnly {
  /** Masters alone, one StatefulSet (staging). */
  readonly kind: "masters";
}

/**
 * Each shard a StatefulSet `nx-redis-shard-<k>` of a master and its replicas, on different nodes;
 * a replica takes over a failed master (docs/redis.md, "Production").
 */
export interface RedisReplicatedShards {
  /** A StatefulSet per shard: a master and `replicasPerShard` replicas on different nodes (production). */
  readonly kind: "replicated-shards";
  /** Replicas of each master (shard size 1 + this); every pod of a shard needs a node of its own. */
  readonly replicasPerShard: number;
  /** What bounds the time from a failed master to its replica serving the slots. */
  readonly failover: RedisFailover;
}

export interface RedisFailover {
  /**
   * How long the backend's cluster clients take to follow a new master once it is elected (a
   * connection error or `MOVED` makes them reload the slot map).
   */
  readonly clientRedirectSeconds: number;
  /** The longest a failover may take; `npm run generate` refuses settings that can add up to more. */
  readonly budgetSeconds: number;
}

/** An RDB snapshot of one replica per shard, uploaded to S3 on a schedule by a CronJob. */
export interface RedisBackup {
  /** When it runs: a five-field cron expression (minute hour day month weekday), in UTC. */
  readonly schedule: string;
  /** Snapshots older than this many days are deleted after each upload. */
  readonly retentionDays: number;
  /** `s3://bucket/path/`: each run writes a folder named after its start time (UTC) below it. */
  readonly destinationPath: string;
  /** The S3 endpoint, `https://` (an S3-compatible store's, or `https://s3.<region>.amazonaws.com`). */
  readonly endpointURL: string;
  /** The region requests are signed for; absent: `us-east-1`, which most S3-compatible stores accept. */
  readonly region?: string;
  /** The object store's addresses, which the backup pods may reach and nothing else outside the cluster. */
  readonly objectStorage: ExternalAddresses;
}

export interface KafkaConfig {
  /** The SCRAM-SHA-512 user the backend services authenticate as. */
  readonly clientUser: string;
  /**
   * Broker settings, in this order: written into server.properties (`statefulsets`), or the
   * Kafka's `spec.kafka.config` (`strimzi`, which refuses the keys it sets itself).
   */
  readonly serverProperties: readonly (readonly [key: string, value: string])[];
  /**
   * What the backend user may do (`strimzi`: its KafkaUser's ACLs): the prefixes of the topics it
   * reads and writes and of the consumer groups it joins. An authorizer denies everything else.
   */
  readonly clientAccess: { readonly topicPrefixes: readonly string[]; readonly groupPrefixes: readonly string[] };
  /** How the cluster runs: StatefulSets the layer writes itself, or a Strimzi `Kafka` with node pools. */
  readonly cluster: KafkaStatefulSets | KafkaStrimzi;
}

/** Combined broker+controller nodes as one StatefulSet, with the layer's own init scripts and SCRAM Job. */
export interface KafkaStatefulSets {
  /** A StatefulSet, init scripts and a SCRAM Job of the layer's own (staging). */
  readonly kind: "statefulsets";
  /** Combined broker+controller nodes. */
  readonly brokers: number;
  /** Resources of each broker container. */
  readonly resources: ContainerResources;
  /** Volume size of each broker's log directory. */
  readonly storage: Quantity;
  /**
   * KRaft cluster id (22-character base64 UUID), fixed so every broker formats into one cluster.
   * Absent: derived from the environment's name, so each environment's cluster has its own.
   */
  readonly clusterId?: string;
  /**
   * Whether an empty disk may be formatted without an operator (as etcd's `initial-cluster-state`).
   * `new`: the first start of a new cluster; every empty node formats, and a node that finds the
   * quorum already formed joins once the other voters hold every committed record. `existing`: the
   * cluster has been bootstrapped; an empty disk is formatted only after an operator approves it
   * (docs/kafka.md). Set `existing` once the first bootstrap has completed.
   */
  readonly initialClusterState: "new" | "existing";
  /** Share of the broker container's memory limit given to the JVM heap (the rest: JVM, page cache). */
  readonly heapFraction: number;
  /** Share of the memory limit given to the heap of Kafka's CLI tools (init container, SCRAM Job). */
  readonly toolsHeapFraction: number;
  /** SCRAM-SHA-512 iterations of the client user's stored credential. */
  readonly scramIterations: number;
}

/** A node pool of a Strimzi Kafka: its size, each node's resources and volume. */
export interface KafkaPool {
  /** Nodes in the pool, each on a host of its own. */
  readonly replicas: number;
  /** Resources of each node's Kafka container. */
  readonly resources: ContainerResources;
  /** Size of each node's volume (kept when the pool or the Kafka is deleted: deleteClaim false). */
  readonly storage: Quantity;
  /** Share of the container's memory limit given to the JVM heap (-Xms = -Xmx); the rest is page cache. */
  readonly heapFraction: number;
}

/** A Strimzi `Kafka` in KRaft mode with a dedicated controller pool and a broker pool (docs/kafka.md). */
export interface KafkaStrimzi {
  /** A `Kafka` and its `KafkaNodePool`s, run by the Strimzi operator, which the environment then installs. */
  readonly kind: "strimzi";
  /** The Kafka's name: its pods, Services (`<name>-kafka-bootstrap`) and volumes carry it. */
  readonly name: string;
  /** Kafka version; one the pinned Strimzi operator supports (Strimzi 1.2: 4.2.x, 4.3.x). */
  readonly version: string;
  /** The KRaft metadata version the cluster runs at (raise it after an upgrade, never lower it). */
  readonly metadataVersion: string;
  /** The KRaft quorum: an odd number of at least 3 controllers, each on a node of its own. */
  readonly controllers: KafkaPool;
  /** The brokers: as many as the largest replication factor, at least, each on a node of its own. */
  readonly brokers: KafkaPool;
  /** Resources of the entity operator's topic and user operators (each). */
  readonly entityOperator: ContainerResources;
  /** Resources of Cruise Control (rebalancing, broker additions and removals). */
  readonly cruiseControl: ContainerResources;
}

export interface TypesenseConfig {
  /**
   * Typesense nodes: 1 (a single server; its index can be rebuilt from PostgreSQL) or an odd number
   * of at least 3, a Raft cluster that elects its leader (docs/typesense.md). An even number is refused.
   */
  readonly replicas: number;
  /** Resources of the Typesense container. */
  readonly resources: ContainerResources;
  /** Volume size of the search index. */
  readonly storage: Quantity;
}

export interface DebeziumConfig {
  /** Kafka Connect worker pods. */
  readonly replicas: number;
  /** Resources of each Kafka Connect worker container. */
  readonly resources: ContainerResources;
  /**
   * Share of the memory limit given to the Connect worker's JVM heap (-Xms = -Xmx); the rest is
   * metaspace (every connector plugin of the image is loaded), thread stacks and direct buffers.
   */
  readonly heapFraction: number;
  /** Name of the PostgreSQL source connector registered in Kafka Connect. */
  readonly connectorName: string;
  /** Kafka topic prefix of the change events. */
  readonly topicPrefix: string;
  /** The logical replication slot the connector reads from, on the primary. */
  readonly slotName: string;
  /** The publication (created by the PostgreSQL setup) the connector streams. */
  readonly publicationName: string;
  /**
   * The schemas whose tables Debezium streams (a subset of `postgres.schemas`): the only ones
   * the publication covers, and the connector's `schema.include.list`.
   */
  readonly schemas: readonly string[];
}

export const syncModes = ["automated", "manual"] as const;

/** Where the Secrets the layer reads come from. */
export type SecretSource = SecretsByHand | SecretsFromStore;

export interface SecretsByHand {
  /** An operator creates each Secret with kubectl before the first sync (docs/secrets.md lists them). */
  readonly kind: "manual";
}

export interface SecretsFromStore {
  /** The External Secrets Operator writes each Secret from a secret store; Git holds only references. */
  readonly kind: "external-secrets";
  /** The (Cluster)SecretStore every ExternalSecret reads from. */
  readonly store: { readonly kind: "ClusterSecretStore" | "SecretStore"; readonly name: string };
  /** Remote keys are `<remoteKeyPrefix>/<secret>`, one property per Secret key (a copy of a Secret in two namespaces reads one key). */
  readonly remoteKeyPrefix: string;
  /** How often the operator re-reads the store (`1h`). */
  readonly refreshInterval: string;
  /**
   * Where the External Secrets Operator reaches the store: address blocks (CIDR) and a TCP port.
   * Its NetworkPolicy allows egress there and nowhere else (a NetworkPolicy cannot name a host).
   */
  readonly endpoint: { readonly cidrs: readonly string[]; readonly port: number };
}

/** What the stateful node pool (`common.nodePools.stateful`) offers the layer's pods. */
export interface StatefulNodes {
  /**
   * Nodes in the pool (`kubectl get nodes -l node.kubernetes.io/pool=<pool>`): pods that must
   * not share a node (a shard's Redis nodes, a quorum's members) need at least as many.
   */
  readonly hosts: number;
  /** Zones those nodes are in (their `topology.kubernetes.io/zone` values). */
  readonly zones: number;
}

/** The Kubernetes API server as the operators' pods reach it. */
export interface ApiServer {
  /**
   * The API server's endpoint addresses (CIDR; `kubectl get endpointslices -n default -l
   * kubernetes.io/service-name=kubernetes`), not the `kubernetes` Service's ClusterIP: a
   * NetworkPolicy sees the connection after the Service has been translated. Needed once an
   * environment runs an operator.
   */
  readonly cidrs: readonly string[];
  /** The ports it listens on at those addresses (443 on some clusters, 6443 on most). */
  readonly ports: readonly number[];
}

export interface Environment {
  /** The environment's name: its folders (`overlays/<name>`, `argocd/<name>`, `backend/<name>`) and Application names. */
  readonly name: string;
  /** What every environment shares (`config/common.ts`). */
  readonly common: Common;
  /**
   * `automated`: Argo CD syncs every commit, prunes what Git removed (except stateful objects)
   * and reverts changes made in the cluster. `manual`: an operator starts every sync.
   */
  readonly sync: (typeof syncModes)[number];
  /**
   * Revision of each Secret, by name (absent: 0). Raise a Secret's revision after rotating it in
   * the cluster: the pods that read it at start restart and the Jobs that apply it run again, and
   * nothing else (see docs/operations.md).
   */
  readonly secretRevisions: Readonly<Record<string, number>>;
  /** Where the Secrets the layer reads come from. */
  readonly secrets: SecretSource;
  /** The stateful node pool's nodes and zones: `npm run generate` refuses a placement they cannot hold. */
  readonly statefulNodes: StatefulNodes;
  /** The Kubernetes API server as the operators reach it (their NetworkPolicies' egress). */
  readonly apiServer: ApiServer;
  /** PostgreSQL primary and replicas. */
  readonly postgres: PostgresConfig;
  /** PgBouncer, the pooler every client connects through. */
  readonly pgbouncer: PgBouncerConfig;
  /** The Redis Cluster. */
  readonly redis: RedisConfig;
  /** The Kafka KRaft cluster. */
  readonly kafka: KafkaConfig;
  /** Typesense. */
  readonly typesense: TypesenseConfig;
  /** Debezium on Kafka Connect (change data capture from PostgreSQL to Kafka). */
  readonly debezium: DebeziumConfig;
}
