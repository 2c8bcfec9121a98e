// The flows the data layer needs, and those that must stay closed, per environment, written from
// the design document and the operators' documentation, not from the generator's code: a label
// typed wrong there cannot hide here. Pods are named by namespace and labels; a namespace outside
// the rendered set (nx-backend, kube-system, cnpg-system) stands for "a pod there", and addresses
// outside the cluster (the API server, the object store) for themselves. Ports are the destination
// pod's container ports (NetworkPolicies apply after a Service has translated its port: staging's
// PgBouncer is reached on 6432).
import { production } from "../generator/config/production.ts";
import { apiServerAddresses } from "../generator/lib/network.ts";
import type { ExternalAddresses } from "../generator/config/types.ts";

export interface Pods {
  readonly namespace: string;
  /** Labels the pods carry; absent: any pod of the namespace. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly what: string;
  /**
   * A pod the layer does not run, in one of its namespaces (a debug pod, another team's workload)
   * or in an operator's: judged as one pod carrying `labels`, never matched against the rendered pods.
   */
  readonly standIn?: boolean;
  /**
   * An address outside the cluster's pods, judged by the policies' ipBlocks only: `ip` (IPv4), or
   * no ip for "anywhere else" (which only 0.0.0.0/0 admits).
   */
  readonly external?: { readonly ip?: string };
}

export interface Flow {
  readonly from: Pods;
  readonly to: Pods;
  readonly port: number;
  readonly protocol?: "TCP" | "UDP";
  readonly why: string;
}

/** What one environment needs open and keeps closed. */
export interface EnvironmentFlows {
  readonly needed: readonly Flow[];
  readonly closed: readonly Flow[];
}

const app = (namespace: string, name: string, component: string | undefined, what: string): Pods => ({
  namespace,
  labels: { "app.kubernetes.io/name": name, ...(component ? { "app.kubernetes.io/component": component } : {}) },
  what,
});

export const backend: Pods = { namespace: "nx-backend", what: "a backend service (nx-backend)" };
export const kubeDns: Pods = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, what: "kube-dns" };
/** Namespaces that are not the layer's clients: nothing of the layer may be reachable from them. */
export const outsiders: readonly Pods[] = [
  { namespace: "nx-app", what: "a pod in nx-app" },
  { namespace: "default", what: "a pod in default" },
];

const redis = app("nx-broker", "redis", "cluster", "Redis node");
const redisInit = app("nx-broker", "redis", "cluster-init", "Redis cluster-init Job");
const redisBackup = app("nx-broker", "redis", "backup", "Redis backup CronJob");
const kafka = app("nx-broker", "kafka", "broker", "Kafka broker");
const scramInit = app("nx-broker", "kafka", "scram-init", "Kafka SCRAM init Job");
const typesense = app("nx-search", "typesense", undefined, "Typesense");
const debezium = app("nx-search", "debezium", "connect", "Debezium");
const debeziumInit = app("nx-search", "debezium", "connector-init", "Debezium connector Job");
const otherSearchPod: Pods = { namespace: "nx-search", labels: {}, what: "any other pod in nx-search", standIn: true };

/** Every pod of the layer resolves names. */
export const everyPodNeeds: readonly Omit<Flow, "from">[] = [
  { to: kubeDns, port: 53, protocol: "UDP", why: "DNS" },
  { to: kubeDns, port: 53, protocol: "TCP", why: "DNS (large answers)" },
];

/**
 * A Redis Cluster's flows, whichever pods hold its nodes: clients reach every node (a cluster
 * client talks to the master of each slot), the nodes reach each other on both ports, the init Job
 * reaches the nodes' client port; nothing else reaches the cluster bus.
 */
function redisFlows(nodes: readonly Pods[]): EnvironmentFlows {
  return {
    needed: nodes.flatMap((to) => [
      { from: backend, to, port: 6379, why: "cache, BullMQ and WebSocket clients" },
      ...nodes.flatMap((from) => [
        { from, to, port: 6379, why: "Redis cluster peers (replication too)" },
        { from, to, port: 16379, why: "Redis cluster bus" },
      ]),
      { from: redisInit, to, port: 6379, why: "the init Job creates the cluster" },
    ]),
    closed: nodes.flatMap((to) => [
      { from: backend, to, port: 16379, why: "the cluster bus is the Redis nodes' own" },
      { from: redisInit, to, port: 16379, why: "the cluster bus is the Redis nodes' own" },
    ]),
  };
}
const stagingRedis = redisFlows([redis]);

// What both environments run alike: Typesense and Debezium in nx-search.
const sharedNeeded: readonly Flow[] = [
  { from: backend, to: typesense, port: 8108, why: "search API" },
  { from: debeziumInit, to: debezium, port: 8083, why: "the init Job registers the connector" },
  { from: debezium, to: debezium, port: 8083, why: "a Connect worker forwards REST requests to the group's leader" },
];

const sharedClosed: readonly Flow[] = [
  // Kafka Connect's REST API resolves ${env:...} in the configs it is sent and echoes them back.
  { from: typesense, to: debezium, port: 8083, why: "Kafka Connect's REST API reveals the worker's passwords: the registration Job only" },
  { from: otherSearchPod, to: debezium, port: 8083, why: "Kafka Connect's REST API reveals the worker's passwords: the registration Job only" },
  { from: backend, to: debezium, port: 8083, why: "Kafka Connect's REST API reveals the worker's passwords: the registration Job only" },
  // Typesense's Raft port is its nodes' own (typesense guide/high-availability.md).
  { from: backend, to: typesense, port: 8107, why: "Raft peering is the Typesense nodes' own" },
  { from: debezium, to: typesense, port: 8107, why: "Raft peering is the Typesense nodes' own" },
  { from: otherSearchPod, to: typesense, port: 8107, why: "Raft peering is the Typesense nodes' own" },
];

// Staging: PostgreSQL as the layer's own StatefulSets and PgBouncer Deployment.
const primary = app("nx-persistent", "postgresql", "primary", "PostgreSQL primary");
const replica = app("nx-persistent", "postgresql", "replica", "PostgreSQL replica");
const postgresSetup = app("nx-persistent", "postgresql", "setup", "PostgreSQL setup Job");
/** The one-off pod of the promotion runbook (docs/postgresql.md, phase 2). */
const postgresRestore: Pods = { ...app("nx-persistent", "postgresql", "restore", "the promotion runbook's restore pod"), standIn: true };
const pgbouncer = app("nx-persistent", "pgbouncer", undefined, "PgBouncer");

// Staging's Kafka: the layer's own StatefulSet of combined broker+controller nodes.
const stagingKafkaNeeded: readonly Flow[] = [
  { from: backend, to: kafka, port: 9092, why: "SASL/SCRAM clients on the CLIENT listener" },
  { from: debezium, to: kafka, port: 9092, why: "Debezium produces change events" },
  { from: kafka, to: kafka, port: 29092, why: "inter-broker replication (INTERNAL)" },
  { from: kafka, to: kafka, port: 9093, why: "KRaft quorum (CONTROLLER)" },
  { from: scramInit, to: kafka, port: 29092, why: "the init Job creates the SCRAM user over INTERNAL" },
];
const stagingKafkaClosed: readonly Flow[] = [
  { from: backend, to: kafka, port: 29092, why: "INTERNAL is PLAINTEXT: brokers and the SCRAM init Job only" },
  { from: backend, to: kafka, port: 9093, why: "CONTROLLER is the KRaft quorum's own" },
  { from: debezium, to: kafka, port: 29092, why: "Debezium authenticates on CLIENT, never INTERNAL" },
  { from: redis, to: kafka, port: 29092, why: "INTERNAL: brokers and the SCRAM init Job only" },
  { from: redisInit, to: kafka, port: 9093, why: "CONTROLLER: brokers only" },
  { from: scramInit, to: kafka, port: 9093, why: "CONTROLLER: brokers only" },
];

const staging: EnvironmentFlows = {
  needed: [
    ...stagingKafkaNeeded,
    { from: backend, to: pgbouncer, port: 6432, why: "backend services connect through PgBouncer" },
    { from: backend, to: primary, port: 5432, why: "direct primary access (the document's allow-from-backend)" },
    { from: backend, to: replica, port: 5432, why: "read-only replica access (future read splitting)" },
    { from: pgbouncer, to: primary, port: 5432, why: "PgBouncer pools the primary" },
    { from: replica, to: primary, port: 5432, why: "streaming replication and the first pg_basebackup" },
    { from: postgresSetup, to: primary, port: 5432, why: "the setup Job ensures roles, schemas and the publication" },
    { from: postgresRestore, to: replica, port: 5432, why: "the promotion runbook copies the promoted replica onto a new primary volume" },
    { from: debezium, to: primary, port: 5432, why: "Debezium reads the logical replication stream" },
    ...stagingRedis.needed,
    ...sharedNeeded,
  ],
  closed: [
    { from: typesense, to: primary, port: 5432, why: "only Debezium in nx-search reads PostgreSQL" },
    { from: postgresSetup, to: replica, port: 5432, why: "the setup Job (a superuser session) talks to the primary only" },
    ...stagingRedis.closed,
    ...stagingKafkaClosed,
    ...sharedClosed,
  ],
};

// Production: a CloudNativePG Cluster and Pooler (CloudNativePG v1.30 docs/src/labels_annotations.md,
// networking.md, security.md).
const cnpg = (role: string, what: string): Pods => ({
  namespace: "nx-persistent",
  labels: { "cnpg.io/cluster": "nx-postgresql", "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": role },
  what,
});
const cnpgPrimary = cnpg("primary", "PostgreSQL primary (CloudNativePG)");
const cnpgReplica = cnpg("replica", "PostgreSQL standby (CloudNativePG)");
const pooler: Pods = {
  namespace: "nx-persistent",
  labels: { "cnpg.io/poolerName": "nx-pgbouncer", "cnpg.io/podRole": "pooler" },
  what: "PgBouncer (CloudNativePG Pooler)",
};
/** A Job of the Cluster's: CloudNativePG runs one when an instance is created, joins or is restored. */
const cnpgJob = (role: string): Pods => ({
  namespace: "nx-persistent",
  labels: { "cnpg.io/cluster": "nx-postgresql", "cnpg.io/jobRole": role },
  what: `CloudNativePG ${role} Job`,
  standIn: true,
});
// The CloudNativePG operator's side of its flows (to the instances) is declared with the operators'
// own flows (policies/operator-flows.ts); the Barman Cloud plugin, in the operator's namespace
// (labelled as its chart labels it), must not reach the instances.
const barmanPlugin: Pods = {
  namespace: "cnpg-system",
  labels: { "app.kubernetes.io/name": "plugin-barman-cloud", "app.kubernetes.io/instance": "plugin-barman-cloud" },
  what: "the Barman Cloud plugin",
  standIn: true,
};

/** An address of a block production's config names (its first): where the flow must get through. */
function at(addresses: ExternalAddresses | undefined, what: string): Pods {
  const first = addresses?.cidrs[0]?.split("/")[0];
  if (!first) throw new Error(`policies/flows.ts: production names no address for ${what}`);
  return { namespace: "", what, external: { ip: first } };
}
const kubernetesApi = at(apiServerAddresses(production), "the Kubernetes API server");
const objectStorage = at(
  production.postgres.cluster.kind === "cloudnative-pg" ? production.postgres.cluster.backup.objectStorage : undefined,
  "the backup object store",
);
/** Anywhere else outside the cluster (only 0.0.0.0/0 admits it). */
const internet: Pods = { namespace: "", what: "any other address outside the cluster", external: {} };

// Production's Kafka: a Strimzi Kafka (1.2.0), its pods labelled by the operator (Labels.java,
// KafkaPool.java): dedicated controllers, brokers, the entity operator and Cruise Control. Ports
// from KafkaCluster.java: 9090 KRaft, 9091 replication and Strimzi's own clients (mTLS), 9092 the
// client listener, 8443 the Kafka agent; Cruise Control's API on 9090. The operator's flows are in
// policies/operator-flows.ts.
const strimzi = (labels: Record<string, string>, what: string): Pods => ({ namespace: "nx-broker", labels: { "strimzi.io/cluster": "nx-kafka", ...labels }, what });
const kafkaController = strimzi({ "strimzi.io/pool-name": "controller", "strimzi.io/controller-role": "true" }, "Kafka controller (Strimzi)");
const kafkaBroker = strimzi({ "strimzi.io/pool-name": "broker", "strimzi.io/broker-role": "true" }, "Kafka broker (Strimzi)");
const entityOperator = strimzi({ "strimzi.io/name": "nx-kafka-entity-operator" }, "Strimzi entity operator");
const cruiseControl = strimzi({ "strimzi.io/name": "nx-kafka-cruise-control" }, "Cruise Control");
const productionKafkaNeeded = (api: Pods): Flow[] => [
  { from: backend, to: kafkaBroker, port: 9092, why: "SASL/SCRAM clients: the bootstrap Service, then each broker" },
  { from: debezium, to: kafkaBroker, port: 9092, why: "Debezium produces change events as its own SCRAM user" },
  { from: kafkaController, to: kafkaController, port: 9090, why: "KRaft quorum among the controllers" },
  { from: kafkaBroker, to: kafkaController, port: 9090, why: "brokers fetch the metadata log from the quorum" },
  { from: kafkaBroker, to: kafkaBroker, port: 9091, why: "inter-broker replication" },
  { from: entityOperator, to: kafkaBroker, port: 9091, why: "the topic and user operators apply KafkaTopics and KafkaUsers (mTLS)" },
  { from: entityOperator, to: cruiseControl, port: 9090, why: "the topic operator changes replication factors through Cruise Control" },
  { from: cruiseControl, to: kafkaBroker, port: 9091, why: "Cruise Control samples metrics and moves partitions" },
  ...[443, 6443].flatMap((port) => [
    { from: kafkaController, to: api, port, why: "a node reads its certificates' Secrets (KubernetesSecretConfigProvider)" },
    { from: kafkaBroker, to: api, port, why: "a broker reads its Node's zone (rack) and its certificates' Secrets" },
    { from: entityOperator, to: api, port, why: "the entity operator watches KafkaTopics and KafkaUsers and writes the users' Secrets" },
  ]),
];
const productionKafkaClosed = (api: Pods): Flow[] => [
  { from: backend, to: kafkaBroker, port: 9091, why: "replication is Strimzi's own (mTLS)" },
  { from: backend, to: kafkaBroker, port: 8443, why: "the Kafka agent answers the operator only" },
  { from: backend, to: kafkaController, port: 9090, why: "the KRaft quorum is the controllers' and brokers' own" },
  { from: backend, to: cruiseControl, port: 9090, why: "Cruise Control's API is the operator's" },
  { from: debezium, to: kafkaBroker, port: 9091, why: "Debezium is a client: the client listener only" },
  { from: debezium, to: kafkaController, port: 9090, why: "Debezium is a client: the client listener only" },
  { from: typesense, to: kafkaBroker, port: 9092, why: "Typesense is not a Kafka client" },
  { from: redisShards[0]!, to: kafkaBroker, port: 9091, why: "replication is Strimzi's own" },
  { from: redisInit, to: kafkaController, port: 9090, why: "the KRaft quorum is the controllers' and brokers' own" },
  { from: kafkaBroker, to: internet, port: 443, why: "Kafka reaches nothing outside the cluster but the API server" },
  { from: entityOperator, to: internet, port: 443, why: "the entity operator reaches nothing outside the cluster but the API server" },
  { from: cruiseControl, to: api, port: 443, why: "Cruise Control holds no API token: it needs no API server" },
];

// Production's Redis: one StatefulSet per shard, a master and its replicas (docs/redis.md), and an
// hourly snapshot of each shard uploaded to the object store.
const redisShards = Array.from({ length: production.redis.masters }, (_, k) => app("nx-broker", "redis", `shard-${k}`, `Redis shard ${k} node`));
const productionRedis = redisFlows(redisShards);
const redisBackupStore = at(production.redis.backup?.objectStorage, "the Redis backup object store");
const redisBackupFlows: EnvironmentFlows = {
  needed: [
    ...redisShards.map((to) => ({ from: redisBackup, to, port: 6379, why: "the backup takes an RDB snapshot of a replica of each shard" })),
    { from: redisBackup, to: redisBackupStore, port: 443, why: "the backup uploads the snapshots and deletes those past the retention" },
  ],
  closed: [
    ...redisShards.map((to) => ({ from: redisBackup, to, port: 16379, why: "the cluster bus is the Redis nodes' own" })),
    { from: redisBackup, to: internet, port: 443, why: "the backup reaches the object store and nothing else outside the cluster" },
    { from: redisBackup, to: kafkaBroker, port: 9092, why: "the backup reaches Redis and the object store only" },
    { from: redisBackup, to: cnpgPrimary, port: 5432, why: "the backup reaches Redis and the object store only" },
  ],
};

const productionFlows: EnvironmentFlows = {
  needed: [
    ...productionKafkaNeeded(kubernetesApi),
    { from: backend, to: pooler, port: 5432, why: "backend services connect through the Pooler" },
    { from: backend, to: cnpgPrimary, port: 5432, why: "direct primary access (the document's allow-from-backend)" },
    { from: backend, to: cnpgReplica, port: 5432, why: "read-only replica access (future read splitting)" },
    { from: pooler, to: cnpgPrimary, port: 5432, why: "the Pooler pools the primary" },
    { from: cnpgReplica, to: cnpgPrimary, port: 5432, why: "streaming replication" },
    { from: cnpgReplica, to: cnpgPrimary, port: 8000, why: "the primary isolation check calls the other instances' status API" },
    { from: cnpgPrimary, to: cnpgReplica, port: 8000, why: "the primary isolation check calls the other instances' status API" },
    { from: cnpgJob("join"), to: cnpgPrimary, port: 5432, why: "a new standby's join Job clones the primary" },
    ...[443, 6443].flatMap((port) => [
      { from: cnpgPrimary, to: kubernetesApi, port, why: "the instance manager reads its Cluster and holds the primary Lease" },
      { from: cnpgReplica, to: kubernetesApi, port, why: "the instance manager reads its Cluster and takes the Lease on a failover" },
      { from: pooler, to: kubernetesApi, port, why: "the Pooler's instance manager reads its Pooler and Secrets" },
      { from: cnpgJob("full-recovery"), to: kubernetesApi, port, why: "a restore Job reads its Cluster" },
    ]),
    { from: cnpgPrimary, to: objectStorage, port: 443, why: "the Barman Cloud sidecar archives WAL and takes base backups" },
    { from: cnpgReplica, to: objectStorage, port: 443, why: "base backups run on a standby (prefer-standby), and a standby may restore WAL" },
    { from: cnpgJob("full-recovery"), to: objectStorage, port: 443, why: "a point-in-time recovery reads the base backup and the WAL" },
    { from: debezium, to: cnpgPrimary, port: 5432, why: "Debezium reads the logical replication stream" },
    // Typesense as a Raft cluster (raft_server.cpp): peering, and a follower forwarding writes to the leader's API.
    { from: typesense, to: typesense, port: 8107, why: "Raft: votes, log replication, snapshots" },
    { from: typesense, to: typesense, port: 8108, why: "a follower forwards writes to the leader and reads its /status" },
    ...productionRedis.needed,
    ...redisBackupFlows.needed,
    ...sharedNeeded,
  ],
  closed: [
    { from: cnpgPrimary, to: internet, port: 443, why: "the instances reach the object store and nothing else outside the cluster" },
    { from: cnpgPrimary, to: objectStorage, port: 80, why: "the object store over TLS only" },
    { from: pooler, to: objectStorage, port: 443, why: "only the instances and their Jobs read and write backups" },
    { from: backend, to: cnpgPrimary, port: 8000, why: "the status API is the operator's and the instances' own" },
    { from: backend, to: pooler, port: 9127, why: "metrics are not for clients" },
    { from: barmanPlugin, to: cnpgPrimary, port: 5432, why: "of cnpg-system, only the operator reaches the instances" },
    { from: typesense, to: cnpgPrimary, port: 5432, why: "only Debezium in nx-search reads PostgreSQL" },
    ...productionRedis.closed,
    ...redisBackupFlows.closed,
    { from: debezium, to: pooler, port: 5432, why: "logical replication cannot go through PgBouncer: Debezium reads the -rw Service's primary" },
    ...productionKafkaClosed(kubernetesApi),
    ...sharedClosed,
  ],
};

/** The flows of each environment the layer renders; an environment without an entry cannot be judged. */
export const environmentFlows: Readonly<Record<string, EnvironmentFlows>> = { staging, production: productionFlows };

