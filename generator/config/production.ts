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
  // The production cluster's control plane (its API server's endpoints), for the operators' egress.
  apiServer: { cidrs: ["10.30.0.0/28"], ports: [443, 6443] },
  postgres: {
    cluster: {
      kind: "cloudnative-pg",
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
      backup: {
        destinationPath: "s3://nx-data-layer-backups/production/postgresql/",
        retention: "30d",
        schedule: "0 0 2 * * *",
      },
    },
  },
  pgbouncer: {
    replicas: 2,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    maxClientConn: 1000,
    defaultPoolSize: 40,
    maxDbConnections: 150,
    maxUserConnections: 150,
    pooler: { kind: "cloudnative-pg" },
  },
  kafka: { clientUser: "nx.production" },
});
