// Names, ports and Secrets of the data layer, defined once. Components, NetworkPolicies and the
// generated docs all derive from these, so a hostname, port or Secret name is never typed twice.

/** A Secret the layer reads but never writes: operators create it before the first sync. */
export interface SecretRef {
  readonly name: string;
  readonly key: string;
  /** What the key must hold, for docs/secrets.md. */
  readonly holds: string;
}

export const ports = {
  postgres: 5432,
  pgbouncer: 6432,
  redis: 6379,
  redisBus: 16379,
  kafkaInternal: 29092,
  kafkaClient: 9092,
  kafkaController: 9093,
  typesense: 8108,
  debezium: 8083,
  dns: 53,
} as const;

/** What a pod is (`app.kubernetes.io/name` and `/component`): the labels its selectors use. */
export interface PodRole {
  readonly app: string;
  readonly component: string;
}

export const podRoles = {
  postgresPrimary: { app: "postgresql", component: "primary" },
  postgresReplica: { app: "postgresql", component: "replica" },
  postgresSetup: { app: "postgresql", component: "setup" },
  // The one-off pod of the promotion runbook (docs/postgresql.md) that copies the promoted server
  // onto a new primary volume; the layer renders none.
  postgresRestore: { app: "postgresql", component: "restore" },
  pgbouncer: { app: "pgbouncer", component: "pooler" },
  redis: { app: "redis", component: "cluster" },
  redisClusterInit: { app: "redis", component: "cluster-init" },
  kafka: { app: "kafka", component: "broker" },
  kafkaScramInit: { app: "kafka", component: "scram-init" },
  typesense: { app: "typesense", component: "search" },
  debezium: { app: "debezium", component: "connect" },
  debeziumInit: { app: "debezium", component: "connector-init" },
} as const satisfies Record<string, PodRole>;

export const postgresNames = {
  primary: "nx-postgresql-primary",
  primaryHeadless: "nx-postgresql-primary-headless",
  replica: "nx-postgresql-replica",
  replicaHeadless: "nx-postgresql-replica-headless",
  setupJob: "nx-postgresql-setup",
  setupConfig: "nx-postgresql-setup",
  secrets: {
    superuser: { name: "nx-postgresql-superuser-secret", key: "password", holds: "password of the postgres superuser" },
    app: { name: "nx-postgresql-app-secret", key: "password", holds: "password of the application user nx_seller_operator" },
    replication: { name: "nx-postgresql-replication-secret", key: "password", holds: "password of the streaming replication user repl_user" },
    debezium: { name: "nx-postgresql-debezium-secret", key: "password", holds: "password of the Debezium user nx_debezium" },
  },
} as const;

export const pgbouncerNames = {
  deployment: "nx-pgbouncer",
  service: "nx-pgbouncer",
  config: "nx-pgbouncer-config",
  adminSecret: {
    name: "nx-pgbouncer-admin-secret",
    key: "password",
    holds: "password of PgBouncer's admin console user nx_pgbouncer_admin (a PgBouncer user only, not a PostgreSQL role)",
  },
} as const;

export const redisNames = {
  statefulSet: "nx-redis",
  service: "nx-redis",
  headless: "nx-redis-headless",
  clusterInitJob: "nx-redis-cluster-init",
  secret: { name: "nx-redis-secret", key: "REDIS_PASSWORD", holds: "password of every Redis node (requirepass and masterauth)" },
} as const;

export const kafkaNames = {
  statefulSet: "nx-kafka",
  service: "nx-kafka",
  headless: "nx-kafka-headless",
  config: "nx-kafka-config",
  scramInitJob: "nx-kafka-scram-init",
  jaasSecret: {
    name: "nx-kafka-jaas",
    key: "kafka_server_jaas.conf",
    holds:
      "the brokers' JAAS file: `KafkaServer { org.apache.kafka.common.security.scram.ScramLoginModule required; };` (no credentials; users live in the KRaft metadata)",
  },
  /** Password of the SCRAM client user; the same Secret exists in nx-broker and nx-search. */
  clientSecret: { name: "nx-kafka-client-secret", key: "KAFKA_SASL_PASSWORD", holds: "password of the SCRAM user of the backend services" },
} as const;

export const typesenseNames = {
  statefulSet: "nx-typesense",
  service: "nx-typesense",
  secret: { name: "nx-typesense-secret", key: "TYPESENSE_API_KEY", holds: "the Typesense admin API key" },
} as const;

export const debeziumNames = {
  deployment: "nx-debezium",
  service: "nx-debezium",
  connector: "nx-debezium-connector",
  initJob: "nx-debezium-init",
} as const;

/** `<service>.<namespace>.svc.<domain>` */
export function serviceHost(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}

/** Stable DNS name of one StatefulSet pod behind its headless Service. */
export function podHost(
  statefulSet: string,
  ordinal: number,
  headless: string,
  namespace: string,
  clusterDomain: string,
): string {
  return `${statefulSet}-${ordinal}.${serviceHost(headless, namespace, clusterDomain)}`;
}

/** Ordinals 0..count-1 of a StatefulSet. */
export function ordinals(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** Every Secret key the layer reads, for the documentation of what each must hold. */
export const secretRefs: readonly SecretRef[] = [
  ...Object.values(postgresNames.secrets),
  pgbouncerNames.adminSecret,
  redisNames.secret,
  kafkaNames.jaasSecret,
  kafkaNames.clientSecret,
  typesenseNames.secret,
];
