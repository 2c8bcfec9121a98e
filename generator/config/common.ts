import type { Common } from "./types.ts";

// Images and versions live here and nowhere else.
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
    redis: "redis:7-alpine",
    kafka: "apache/kafka:4.1.1",
    typesense: "typesense/typesense:27.1",
    debezium: "debezium/connect:3.0.0.Final",
  },
  namespaces: { persistent: "nx-persistent", broker: "nx-broker", search: "nx-search" },
  clientNamespaces: ["nx-backend"],
  jobs: {
    activeDeadlineSeconds: 900,
    backoffLimit: 3,
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  },
};
