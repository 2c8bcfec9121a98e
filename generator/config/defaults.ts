import { common } from "./common.ts";
import type { Environment } from "./types.ts";

/**
 * What every environment is unless it says otherwise: the data layer as the design document
 * (shared/spec/data-layer.md) describes it. An environment file (staging.ts, production.ts) holds
 * only its delta over these; the layout renders these defaults as the environment-neutral base.
 */
export const defaults = {
  common,
  sync: "automated",
  secretRevisions: {},
  secrets: { kind: "manual" },
  // The least the design document's staging runs on: three Kafka brokers, each on a node of its own.
  statefulNodes: { hosts: 3, zones: 1 },
  // Only an environment that runs operators needs the API server's addresses (docs/operators.md).
  apiServer: { cidrs: [], ports: [443, 6443] },
  postgres: {
    database: "nx_seller_core",
    schemas: ["public", "pricing", "allocation", "inventory", "finance", "payment", "sale"],
    users: { app: "nx_seller_operator", debezium: "nx_debezium" },
    cluster: {
      kind: "statefulsets",
      superuser: "postgres",
      replicationUser: "repl_user",
      primary: {
        resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
        storage: "20Gi",
        settings: [
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
          // Not in the document: pg_stat_statements only works when preloaded, and a replica that
          // is down must not make the primary keep WAL until its disk is full.
          ["shared_preload_libraries", "pg_stat_statements"],
          ["max_slot_wal_keep_size", "4GB"],
        ],
      },
      replica: {
        replicas: 1,
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
        storage: "20Gi",
        settings: [
          ["hot_standby", "on"],
          ["hot_standby_feedback", "on"],
          ["shared_buffers", "512MB"],
          ["max_connections", "100"],
          ["shared_preload_libraries", "pg_stat_statements"],
          // Not in the document: a promoted replica serves Debezium (logical decoding) and keeps
          // the primary's cap on WAL held for a lost standby, without another restart.
          ["wal_level", "logical"],
          ["max_slot_wal_keep_size", "4GB"],
        ],
      },
    },
  },
  pgbouncer: {
    replicas: 1,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    poolMode: "transaction",
    maxClientConn: 200,
    defaultPoolSize: 20,
    minPoolSize: 5,
    reservePoolSize: 5,
    maxDbConnections: 50,
    // Not in the document: each schema's database is a pool of its own; together they stay
    // within what the document allows one database (max_connections is 100).
    maxUserConnections: 50,
    pooler: { kind: "deployment", adminUser: "nx_pgbouncer_admin" },
  },
  redis: {
    masters: 3,
    resources: { requests: { cpu: "100m", memory: "384Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    storage: "5Gi",
    maxmemory: "256mb",
    maxmemoryPolicy: "noeviction",
    clusterNodeTimeoutMs: 5000,
    cluster: { kind: "masters" },
  },
  kafka: {
    clientUser: "nx.backend",
    serverProperties: [
      ["offsets.topic.replication.factor", "3"],
      ["transaction.state.log.replication.factor", "3"],
      ["transaction.state.log.min.isr", "2"],
      ["default.replication.factor", "3"],
      ["min.insync.replicas", "2"],
      ["num.partitions", "3"],
      ["log.retention.hours", "168"],
      ["log.retention.bytes", "1073741824"],
      ["log.segment.bytes", "1073741824"],
      ["auto.create.topics.enable", "false"],
    ],
    // The design names no topics: the backend's services own the `nx.` topics and groups.
    clientAccess: { topicPrefixes: ["nx."], groupPrefixes: ["nx."] },
    cluster: {
      kind: "statefulsets",
      brokers: 3,
      resources: { requests: { cpu: "500m", memory: "1280Mi" }, limits: { cpu: "1.5", memory: "2Gi" } },
      storage: "10Gi",
      // Derived from the environment's name (named here so an environment's delta may set it).
      clusterId: undefined,
      // A new environment's first start formats its empty disks (docs/kafka.md).
      initialClusterState: "new",
      // 1 GiB of the 2 GiB limit, what kafka-server-start.sh would give; CLI tools 256 MiB of 512 MiB.
      heapFraction: 0.5,
      toolsHeapFraction: 0.5,
      scramIterations: 8192,
    },
  },
  typesense: {
    replicas: 1,
    resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
    storage: "5Gi",
  },
  debezium: {
    replicas: 1,
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
    heapFraction: 0.5,
    connectorName: "nx-postgresql-source",
    topicPrefix: "nx",
    slotName: "nx_debezium",
    publicationName: "nx_debezium",
    // Every schema, as the connector streamed before the publication was narrowed to a list:
    // shorten it to what the search index reads.
    schemas: ["public", "pricing", "allocation", "inventory", "finance", "payment", "sale"],
  },
} satisfies Omit<Environment, "name">;
