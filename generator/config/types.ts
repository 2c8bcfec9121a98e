// Typed environment config: the only input of the component functions.
// `Common` holds what every environment shares; each environment file holds what differs.

/** A Kubernetes resource quantity such as `500m`, `1Gi` or `2` (checked by `validate()`). */
export type Quantity = string;

export interface ContainerResources {
  readonly requests: { readonly cpu: Quantity; readonly memory: Quantity };
  readonly limits: { readonly cpu: Quantity; readonly memory: Quantity };
}

export interface Images {
  readonly postgres: string;
  readonly pgbouncer: string;
  readonly redis: string;
  readonly kafka: string;
  readonly typesense: string;
  readonly debezium: string;
}

export interface Namespaces {
  readonly persistent: string;
  readonly broker: string;
  readonly search: string;
}

/** How Argo CD delivers the layer. */
export interface Delivery {
  /** The Git repository Argo CD syncs from, and the revision it tracks: set here and nowhere else. */
  readonly source: { readonly repoURL: string; readonly targetRevision: string };
  readonly argocdNamespace: string;
  /** The cluster the layer runs in (Argo CD's own cluster). */
  readonly destinationServer: string;
  /** AppProject of the per-namespace Applications, and of the admin-only root Applications. */
  readonly projects: { readonly layer: string; readonly root: string };
  /**
   * Sync waves inside each Application: namespace-scoped setup (Namespace, NetworkPolicies,
   * ConfigMaps), then Services and workloads, then the init Jobs once their workload is healthy.
   */
  readonly waves: { readonly setup: number; readonly workloads: number; readonly initJobs: number };
  /** One Application per namespace; a later wave syncs only once the earlier ones are healthy. */
  readonly applications: readonly { readonly namespace: string; readonly wave: number }[];
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
  readonly clusterDomain: string;
  readonly storageClassName: string;
  /** Values of the `node.kubernetes.io/pool` node label. */
  readonly nodePools: { readonly stateful: string; readonly jobs: string };
  readonly images: Images;
  readonly namespaces: Namespaces;
  /** Namespaces whose pods use the data layer (backend services). */
  readonly clientNamespaces: readonly string[];
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
  readonly database: string;
  /**
   * The schemas the services use, created (if missing) by the setup. PgBouncer offers one
   * database per schema other than `public` that lands its clients in it.
   */
  readonly schemas: readonly string[];
  readonly users: {
    readonly superuser: string;
    readonly app: string;
    readonly replication: string;
    readonly debezium: string;
  };
  readonly primary: {
    readonly resources: ContainerResources;
    readonly storage: Quantity;
    readonly settings: PostgresSettings;
  };
  readonly replica: {
    readonly replicas: number;
    readonly resources: ContainerResources;
    readonly storage: Quantity;
    readonly settings: PostgresSettings;
  };
}

/** PgBouncer's pool_mode values (pgbouncer src/loader.c: pool_mode_map). */
export const poolModes = ["session", "transaction", "statement"] as const;

export interface PgBouncerConfig {
  readonly replicas: number;
  readonly resources: ContainerResources;
  readonly poolMode: (typeof poolModes)[number];
  readonly maxClientConn: number;
  readonly defaultPoolSize: number;
  readonly minPoolSize: number;
  readonly reservePoolSize: number;
  /** Server connections per PgBouncer database (each schema's database is one). */
  readonly maxDbConnections: number;
  /**
   * Server connections of one user across all PgBouncer databases: the cap that keeps the
   * per-schema pools together below the primary's max_connections.
   */
  readonly maxUserConnections: number;
  /** The admin console's user: in PgBouncer's userlist only, never a PostgreSQL role. */
  readonly adminUser: string;
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
  /** Cluster masters; every pod is a master (no replicas in staging). */
  readonly masters: number;
  readonly resources: ContainerResources;
  readonly storage: Quantity;
  /** Redis memory units (`256mb`, `1gb`); at most half the container's memory limit. */
  readonly maxmemory: string;
  readonly maxmemoryPolicy: (typeof maxmemoryPolicies)[number];
  readonly clusterNodeTimeoutMs: number;
}

export interface KafkaConfig {
  /** Combined broker+controller nodes. */
  readonly brokers: number;
  readonly resources: ContainerResources;
  readonly storage: Quantity;
  /** KRaft cluster id (22-character base64 UUID), fixed so every broker formats into one cluster. */
  readonly clusterId: string;
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
  /** The SCRAM-SHA-512 user the backend services (and Debezium) authenticate as. */
  readonly clientUser: string;
  readonly scramIterations: number;
  /** Broker settings written into server.properties, in this order. */
  readonly serverProperties: readonly (readonly [key: string, value: string])[];
}

export interface TypesenseConfig {
  readonly replicas: number;
  readonly resources: ContainerResources;
  readonly storage: Quantity;
}

export interface DebeziumConfig {
  readonly replicas: number;
  readonly resources: ContainerResources;
  /**
   * Share of the memory limit given to the Connect worker's JVM heap (-Xms = -Xmx); the rest is
   * metaspace (every connector plugin of the image is loaded), thread stacks and direct buffers.
   */
  readonly heapFraction: number;
  readonly connectorName: string;
  /** Kafka topic prefix of the change events. */
  readonly topicPrefix: string;
  readonly slotName: string;
  readonly publicationName: string;
  /**
   * The schemas whose tables Debezium streams (a subset of `postgres.schemas`): the only ones
   * the publication covers, and the connector's `schema.include.list`.
   */
  readonly schemas: readonly string[];
}

export const syncModes = ["automated", "manual"] as const;

export interface Environment {
  readonly name: string;
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
  readonly postgres: PostgresConfig;
  readonly pgbouncer: PgBouncerConfig;
  readonly redis: RedisConfig;
  readonly kafka: KafkaConfig;
  readonly typesense: TypesenseConfig;
  readonly debezium: DebeziumConfig;
}
