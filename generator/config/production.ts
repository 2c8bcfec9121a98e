import { defineEnvironment } from "./environment.ts";

// Production: the design document's production plan. PostgreSQL runs on CloudNativePG with
// backups to object storage, credentials come from the secret store, and every sync is started
// by hand. Everything not named here is the shared default (config/defaults.ts).
export const production = defineEnvironment({
  name: "production",
  sync: "manual",
  secrets: {
    kind: "external-secrets",
    store: { kind: "ClusterSecretStore", name: "nx-vault" },
    remoteKeyPrefix: "nx-data-layer/production",
    refreshInterval: "1h",
    // The store's address block and port: the External Secrets Operator may reach nothing else.
    endpoint: { cidrs: ["10.40.0.0/24"], port: 8200 },
  },
  // The production stateful pool: nine nodes over three zones (each Redis node on a node of its own).
  statefulNodes: { hosts: 9, zones: 3 },
  // The production cluster's control plane: the `kubernetes` Service's endpoints
  // (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes).
  apiServer: { cidrs: ["10.20.0.0/28"], ports: [443, 6443] },
  postgres: {
    cluster: {
      kind: "cloudnative-pg",
      name: "nx-postgresql",
      instances: 3,
      resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "4", memory: "8Gi" } },
      storage: "200Gi",
      walStorage: "50Gi",
      settings: [
        ["shared_buffers", "2GB"],
        ["effective_cache_size", "6GB"],
        ["work_mem", "16MB"],
        ["maintenance_work_mem", "512MB"],
        ["max_connections", "300"],
        ["random_page_cost", "1.1"],
        ["effective_io_concurrency", "200"],
        ["log_statement", "ddl"],
        ["log_min_duration_statement", "1000"],
        ["timezone", "Asia/Ho_Chi_Minh"],
        ["max_slot_wal_keep_size", "20GB"],
      ],
      // A commit waits for one standby while one is up: no acknowledged commit is lost in a
      // failover, and writes go on (asynchronously) when both standbys are down.
      synchronous: { number: 1, dataDurability: "preferred" },
      // 3 × 3 s + 3 s to notice, 10 s to stop, 2 s to hand over the Lease, ~3 s to promote: 27 s.
      failover: {
        readiness: { periodSeconds: 3, timeoutSeconds: 3, failureThreshold: 3 },
        switchoverDelaySeconds: 10,
        primaryLease: { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
        budgetSeconds: 30,
      },
      backup: {
        destinationPath: "s3://nx-data-layer-backups/production/postgresql/",
        retention: "30d",
        schedule: "0 0 2 * * *",
        objectStorage: {
          name: "object-storage",
          cidrs: ["10.30.0.0/24"],
          ports: [443],
          reason: "the S3 endpoint of the backup bucket (its load balancers' addresses)",
        },
      },
    },
  },
  pgbouncer: {
    replicas: 2,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    maxClientConn: 1000,
    defaultPoolSize: 40,
    // 2 poolers × 140 = 280 server connections, within max_connections=300 less the superuser's 3
    // and one auth_query connection per pooler.
    maxDbConnections: 140,
    maxUserConnections: 140,
    pooler: { kind: "cloudnative-pg" },
  },
  redis: {
    // 3 shards × (a master and 2 replicas) = 9 pods, each on a node of its own (statefulNodes.hosts 9).
    cluster: {
      kind: "replicated-shards",
      replicasPerShard: 2,
      // With the 5 s node timeout: 7.5 s to flag, 2.5 s for the reports, 2 s to the rank-1 election,
      // 0.3 s of cron ticks, 1 s for clients: 13.3 s at worst (docs/redis.md, "Failover").
      failover: { clientRedirectSeconds: 1, budgetSeconds: 15 },
    },
    // Hourly snapshots of every shard, kept a week. The endpoint is a placeholder, like the
    // object store's addresses: set both to the production store's before the first sync.
    backup: {
      schedule: "15 * * * *",
      retentionDays: 7,
      destinationPath: "s3://nx-data-layer-backups/production/redis/",
      endpointURL: "https://s3.nx-platform.internal",
      objectStorage: {
        name: "object-storage",
        cidrs: ["10.30.0.0/24"],
        ports: [443],
        reason: "the S3 endpoint of the backup bucket (its load balancers' addresses)",
      },
    },
  },
  // A 3-node Raft cluster: one node lost (or drained) keeps a majority, so search stays up and
  // writes go on. Typesense serves from memory: each node holds the whole index, with its memory
  // request equal to its limit so it is never the first evicted under node pressure.
  typesense: {
    replicas: 3,
    resources: { requests: { cpu: "1", memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    storage: "20Gi",
  },
  kafka: {
    clientUser: "nx.production",
    // Strimzi: a KRaft quorum of three dedicated controllers and three brokers, each on a node of
    // its own and spread over the three zones (rack-aware replicas), with Cruise Control.
    cluster: {
      kind: "strimzi",
      name: "nx-kafka",
      version: "4.3.1",
      metadataVersion: "4.3-IV0",
      controllers: {
        replicas: 3,
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "1", memory: "2Gi" } },
        storage: "20Gi",
        heapFraction: 0.5,
      },
      brokers: {
        replicas: 3,
        resources: { requests: { cpu: "2", memory: "8Gi" }, limits: { cpu: "4", memory: "8Gi" } },
        storage: "200Gi",
        heapFraction: 0.5,
      },
      entityOperator: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
      cruiseControl: { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    },
  },
  // Two Connect workers: one takes over the connector's task when the other is drained or lost.
  debezium: { replicas: 2 },
});
