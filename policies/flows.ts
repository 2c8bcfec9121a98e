// The flows the data layer needs, and those that must stay closed, written from the design
// document, not from the generator's code: a label typed wrong there cannot hide here. Pods are
// named by namespace and labels; a namespace outside the rendered set (nx-backend, kube-system)
// stands for "a pod there". Ports are the destination pod's container ports (NetworkPolicies
// apply after a Service has translated its port: PgBouncer is reached on 6432).

export interface Pods {
  readonly namespace: string;
  /** Labels the pods carry; absent: any pod of the namespace. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly what: string;
  /**
   * A pod the layer does not run, in one of its namespaces (a debug pod, another team's workload):
   * judged as one pod carrying `labels`, never matched against the rendered pods.
   */
  readonly standIn?: boolean;
  /**
   * Not a pod: an address outside the cluster (the API server, a secret store), matched by ipBlock
   * peers only; empty for "some address on the internet".
   */
  readonly address?: string;
}

export interface Flow {
  readonly from: Pods;
  readonly to: Pods;
  readonly port: number;
  readonly protocol?: "TCP" | "UDP";
  readonly why: string;
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

const primary = app("nx-persistent", "postgresql", "primary", "PostgreSQL primary");
const replica = app("nx-persistent", "postgresql", "replica", "PostgreSQL replica");
const postgresSetup = app("nx-persistent", "postgresql", "setup", "PostgreSQL setup Job");
/** The one-off pod of the promotion runbook (docs/postgresql.md, phase 2). */
const postgresRestore: Pods = { ...app("nx-persistent", "postgresql", "restore", "the promotion runbook's restore pod"), standIn: true };
const pgbouncer = app("nx-persistent", "pgbouncer", undefined, "PgBouncer");
const redis = app("nx-broker", "redis", "cluster", "Redis node");
const redisInit = app("nx-broker", "redis", "cluster-init", "Redis cluster-init Job");
const kafka = app("nx-broker", "kafka", "broker", "Kafka broker");
const scramInit = app("nx-broker", "kafka", "scram-init", "Kafka SCRAM init Job");
const typesense = app("nx-search", "typesense", undefined, "Typesense");
const debezium = app("nx-search", "debezium", "connect", "Debezium");
const debeziumInit = app("nx-search", "debezium", "connector-init", "Debezium connector Job");
const otherSearchPod: Pods = { namespace: "nx-search", labels: {}, what: "any other pod in nx-search", standIn: true };

export const neededFlows: readonly Flow[] = [
  { from: backend, to: pgbouncer, port: 6432, why: "backend services connect through PgBouncer" },
  { from: backend, to: primary, port: 5432, why: "direct primary access (the document's allow-from-backend)" },
  { from: backend, to: replica, port: 5432, why: "read-only replica access (future read splitting)" },
  { from: backend, to: redis, port: 6379, why: "cache, BullMQ and WebSocket clients" },
  { from: backend, to: kafka, port: 9092, why: "SASL/SCRAM clients on the CLIENT listener" },
  { from: backend, to: typesense, port: 8108, why: "search API" },
  { from: pgbouncer, to: primary, port: 5432, why: "PgBouncer pools the primary" },
  { from: replica, to: primary, port: 5432, why: "streaming replication and the first pg_basebackup" },
  { from: postgresSetup, to: primary, port: 5432, why: "the setup Job ensures roles, schemas and the publication" },
  { from: postgresRestore, to: replica, port: 5432, why: "the promotion runbook copies the promoted replica onto a new primary volume" },
  { from: debezium, to: primary, port: 5432, why: "Debezium reads the logical replication stream" },
  { from: debezium, to: kafka, port: 9092, why: "Debezium produces change events" },
  { from: kafka, to: kafka, port: 29092, why: "inter-broker replication (INTERNAL)" },
  { from: kafka, to: kafka, port: 9093, why: "KRaft quorum (CONTROLLER)" },
  { from: redis, to: redis, port: 6379, why: "Redis cluster peers" },
  { from: redis, to: redis, port: 16379, why: "Redis cluster bus" },
  { from: redisInit, to: redis, port: 6379, why: "the init Job creates the cluster" },
  { from: scramInit, to: kafka, port: 29092, why: "the init Job creates the SCRAM user over INTERNAL" },
  { from: debeziumInit, to: debezium, port: 8083, why: "the init Job registers the connector" },
  { from: debezium, to: debezium, port: 8083, why: "a Connect worker forwards REST requests to the group's leader" },
];

/** Every pod of the layer resolves names. */
export const everyPodNeeds: readonly Omit<Flow, "from">[] = [
  { to: kubeDns, port: 53, protocol: "UDP", why: "DNS" },
  { to: kubeDns, port: 53, protocol: "TCP", why: "DNS (large answers)" },
];

export const closedFlows: readonly Flow[] = [
  { from: backend, to: kafka, port: 29092, why: "INTERNAL is PLAINTEXT: brokers and the SCRAM init Job only" },
  { from: backend, to: kafka, port: 9093, why: "CONTROLLER is the KRaft quorum's own" },
  { from: backend, to: redis, port: 16379, why: "the cluster bus is the Redis nodes' own" },
  { from: debezium, to: kafka, port: 29092, why: "Debezium authenticates on CLIENT, never INTERNAL" },
  { from: redis, to: kafka, port: 29092, why: "INTERNAL: brokers and the SCRAM init Job only" },
  { from: redisInit, to: kafka, port: 9093, why: "CONTROLLER: brokers only" },
  { from: scramInit, to: kafka, port: 9093, why: "CONTROLLER: brokers only" },
  { from: typesense, to: primary, port: 5432, why: "only Debezium in nx-search reads PostgreSQL" },
  { from: postgresSetup, to: replica, port: 5432, why: "the setup Job (a superuser session) talks to the primary only" },
  // Kafka Connect's REST API resolves ${env:...} in the configs it is sent and echoes them back.
  { from: typesense, to: debezium, port: 8083, why: "Kafka Connect's REST API reveals the worker's passwords: the registration Job only" },
  { from: otherSearchPod, to: debezium, port: 8083, why: "Kafka Connect's REST API reveals the worker's passwords: the registration Job only" },
  { from: backend, to: debezium, port: 8083, why: "Kafka Connect's REST API reveals the worker's passwords: the registration Job only" },
];
