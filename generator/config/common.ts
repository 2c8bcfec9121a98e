import type { Common } from "./types.ts";

// Images and versions live here and nowhere else. Renovate (renovate.json) proposes a bump of
// every `images` entry (`"<registry>/<name>:<tag>"`, optionally `@sha256:<digest>`) and of every
// Helm chart pinned on one line in this form (the operators' charts, in `charts`):
//   <key>: { repository: "<https chart repository>", chart: "<chart>", version: "<version>" },
// and regenerates the YAML in the same pull request (docs/renovate.md).
export const common: Common = {
  partOf: "nx-data-layer",
  layerVersion: "0.1.0",
  managedBy: "nx-data-layer-generator",
  kubernetesVersion: "1.36",
  clusterDomain: "cluster.local",
  storageClassName: "csi-sc-vnpaycloud",
  nodePools: { stateful: "stateful", jobs: "default" },
  images: {
    postgres: "postgres:17-alpine",
    pgbouncer: "ghcr.io/icoretech/pgbouncer-docker:1.24.1",
    cloudnativePgPostgres: "ghcr.io/cloudnative-pg/postgresql:17.11-minimal-trixie",
    cloudnativePgPgbouncer: "ghcr.io/cloudnative-pg/pgbouncer:1.25.1",
    redis: "redis:7-alpine",
    rclone: "rclone/rclone:1.75.1",
    kafka: "apache/kafka:4.1.1",
    typesense: "typesense/typesense:27.1",
    debezium: "quay.io/debezium/connect:3.6.0.Final",
  },
  namespaces: { persistent: "nx-persistent", broker: "nx-broker", search: "nx-search" },
  // An environment installs the charts its components need (docs/operators.md).
  charts: {
    certManager: { repository: "https://charts.jetstack.io", chart: "cert-manager", version: "v1.21.1" },
    cloudnativePg: { repository: "https://cloudnative-pg.github.io/charts", chart: "cloudnative-pg", version: "0.29.0" },
    barmanCloudPlugin: { repository: "https://cloudnative-pg.github.io/charts", chart: "plugin-barman-cloud", version: "0.7.0" },
    externalSecrets: { repository: "https://charts.external-secrets.io", chart: "external-secrets", version: "2.9.0" },
    strimzi: { repository: "https://strimzi.io/charts/", chart: "strimzi-kafka-operator", version: "1.2.0" },
  },
  operatorNamespaces: { certManager: "cert-manager", cloudnativePg: "cnpg-system", externalSecrets: "external-secrets", strimzi: "strimzi-system" },
  clientNamespaces: ["nx-backend"],
  delivery: {
    source: { repoURL: "https://github.com/nx-platform/nx-data-layer.git", targetRevision: "main" },
    argocdNamespace: "argocd",
    destinationServer: "https://kubernetes.default.svc",
    projects: { layer: "nx-data-layer", root: "nx-data-layer-root", operators: "nx-data-layer-operators" },
    retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } },
  },
  jobs: {
    activeDeadlineSeconds: 900,
    backoffLimit: 3,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  },
};
