// Kafka as a Strimzi `Kafka` in KRaft mode: a pool of dedicated controllers (the quorum) and a pool
// of brokers, rack-aware over the zones, with the entity operator (topics and users as objects)
// and Cruise Control. The layer declares the Kafka, its pools, the topics Kafka Connect keeps its
// state in and the SCRAM users with their ACLs; the operator runs the pods, rolls them one at a
// time, and writes the users into Kafka. docs/kafka.md has the reasoning.
import { Kafka } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1/Kafka";
import { KafkaNodePool } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1/KafkaNodePool";
import { KafkaTopic } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1/KafkaTopic";
import { KafkaUser } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1/KafkaUser";
import type { Environment, KafkaPool, KafkaStrimzi } from "../../config/types.ts";
import { holdsData, recommendedLabels, role } from "../../lib/labels.ts";
import { apiServerAddresses, networkPolicy, type PolicySpec, toAddresses } from "../../lib/network.ts";
import type { KubeObject } from "../../lib/objects.ts";
import { strimziOperator, strimziPods } from "../../lib/operator-pods.ts";
import { jvmHeapOptions, resources } from "../../lib/pod.ts";
import { serviceHost } from "../../lib/topology.ts";
import type { KafkaContract } from "../contracts.ts";
import { checkBrokers, clientSecret, connectStorage, kafkaClientMechanism, kafkaClientPort, kafkaSetting } from "./model.ts";

export function strimziOf(env: Environment): KafkaStrimzi {
  const cluster = env.kafka.cluster;
  if (cluster.kind !== "strimzi") throw new Error(`kafka.cluster is ${cluster.kind}, not strimzi`);
  return cluster;
}

/** The node pools, by the roles their nodes take. */
export const pools = { controller: "controller", broker: "broker" } as const;

/** Ports of the Kafka nodes besides the client listener (KafkaCluster.java): only Strimzi's own pods open them. */
export const nodePorts = { controlPlane: 9090, replication: 9091, agent: 8443 } as const;
/** Cruise Control's REST API. */
const cruiseControlPort = 9090;

/** Debezium's SCRAM user and the Secret its password is read from (ESO writes it in both namespaces). */
export const debeziumUser = {
  user: "nx-debezium",
  password: { name: "nx-kafka-debezium-password", key: "password", holds: "password of Debezium's SCRAM user nx-debezium" },
} as const;

/** Strimzi's own listener and node settings: `spec.kafka.config` may set none (KafkaClusterSpec.FORBIDDEN_PREFIXES, KRaft era). */
export const strimziForbiddenPrefixes: readonly string[] = [
  "listeners", "advertised.", "broker.", "listener.", "host.name", "port", "inter.broker.listener.name", "sasl.", "ssl.",
  "security.", "password.", "log.dir", "zookeeper.connect", "zookeeper.set.acl", "zookeeper.ssl", "zookeeper.clientCnxnSocket",
  "authorizer.", "super.user", "cruise.control.metrics.topic", "cruise.control.metrics.reporter.bootstrap.servers",
  "node.id", "process.roles", "controller.",
];

/** KafkaClusterSpec.FORBIDDEN_PREFIX_EXCEPTIONS: settings under a forbidden prefix that may be set. */
const allowedUnderForbidden: readonly string[] = [
  "zookeeper.connection.timeout.ms", "sasl.server.max.receive.size", "ssl.cipher.suites", "ssl.protocol", "ssl.enabled.protocols",
  "ssl.secure.random.implementation", "cruise.control.metrics.topic.num.partitions", "cruise.control.metrics.topic.replication.factor",
  "cruise.control.metrics.topic.retention.ms", "cruise.control.metrics.topic.auto.create.retries",
  "cruise.control.metrics.topic.auto.create.timeout.ms", "cruise.control.metrics.topic.min.insync.replicas",
  "controller.quorum.election.backoff.max.ms", "controller.quorum.election.timeout.ms", "controller.quorum.fetch.timeout.ms",
];

/** Whether Strimzi refuses `key` in `spec.kafka.config`. */
export function strimziForbids(key: string): boolean {
  return !allowedUnderForbidden.includes(key) && strimziForbiddenPrefixes.some((prefix) => key.startsWith(prefix));
}

const kafkaId = (env: Environment) => `Kafka ${env.common.namespaces.broker}/${strimziOf(env).name}`;

const objectRole = (component: string, instance: string, image?: string) => role({ app: "kafka", component }, instance, image);
/** `strimzi.io/cluster`, the one `strimzi.io/` label an object may carry: the Kafka it belongs to. */
const ofCluster = (cfg: KafkaStrimzi) => ({ "strimzi.io/cluster": cfg.name });

/**
 * Each pool's nodes on nodes of their own (a host lost takes one controller and one broker at
 * most), spread over the zones the way the layer spreads everywhere, in the stateful pool.
 */
function nodePool(env: Environment, cfg: KafkaStrimzi, name: string, pool: KafkaPool, field: string): KafkaNodePool {
  const labelSelector = { matchLabels: { ...ofCluster(cfg), "strimzi.io/pool-name": name } };
  const heap = jvmHeapOptions(`KafkaNodePool ${env.common.namespaces.broker}/${name}`, [`${field}.heapFraction`, pool.heapFraction], [`${field}.resources.limits.memory`, pool.resources.limits.memory]);
  const [xms, xmx] = heap.split(" ").map((option) => option.slice(4));
  return new KafkaNodePool({
    metadata: {
      name,
      namespace: env.common.namespaces.broker,
      labels: { ...recommendedLabels(env, objectRole(name, `${cfg.name}-${name}`)), ...ofCluster(cfg) },
      annotations: holdsData,
    },
    spec: {
      replicas: pool.replicas,
      roles: [name as "controller" | "broker"],
      resources: resources(pool.resources),
      jvmOptions: { "-Xms": xms!, "-Xmx": xmx! },
      storage: {
        type: "jbod",
        // deleteClaim false: deleting the pool or the Kafka keeps every node's volume.
        volumes: [{ id: 0, type: "persistent-claim", size: pool.storage, class: env.common.storageClassName, deleteClaim: false, kraftMetadata: "shared" }],
      },
      template: {
        pod: {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: "node.kubernetes.io/pool", operator: "In", values: [env.common.nodePools.stateful] }] }],
              },
            },
          },
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector },
            { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector },
          ],
        },
      },
    },
  });
}

/** The broker settings as Strimzi takes them: `kafka.serverProperties`, which config checks keep to the keys it allows. */
const brokerConfig = (env: Environment) => Object.fromEntries(env.kafka.serverProperties);

export function strimziKafkaCluster(env: Environment, cfg: KafkaStrimzi = strimziOf(env)): Kafka {
  checkBrokers(env, cfg.brokers.replicas, kafkaId(env), "kafka.cluster.brokers.replicas");
  const operatorResources = resources(cfg.entityOperator);
  return new Kafka({
    metadata: {
      name: cfg.name,
      namespace: env.common.namespaces.broker,
      labels: recommendedLabels(env, objectRole("cluster", cfg.name)),
      annotations: holdsData,
    },
    spec: {
      kafka: {
        version: cfg.version,
        metadataVersion: cfg.metadataVersion,
        // One listener, as staging's CLIENT: SCRAM-SHA-512 without TLS, so no CA has to reach the
        // clients' namespaces; NetworkPolicies keep it to the backend and Debezium.
        listeners: [{ name: "client", port: kafkaClientPort, type: "internal", tls: false, authentication: { type: "scram-sha-512" } }],
        // Every user gets its ACLs and nothing else; Strimzi's own components use mTLS super users.
        authorization: { type: "simple" },
        // Replicas of a partition go to brokers in different zones (the brokers read their Node's zone).
        rack: { type: "topology-label", topologyKey: "topology.kubernetes.io/zone" },
        config: brokerConfig(env),
        // One Kafka node at a time may be evicted (a drain waits for the next).
        template: { podDisruptionBudget: { maxUnavailable: 1 } },
      },
      entityOperator: { topicOperator: { resources: operatorResources }, userOperator: { resources: operatorResources } },
      // Rebalances partitions when brokers are added or removed (KafkaRebalance otherwise).
      cruiseControl: { resources: resources(cfg.cruiseControl), autoRebalance: [{ mode: "add-brokers" }, { mode: "remove-brokers" }] },
    },
  });
}

/** Kafka Connect's internal topics. Deleting a KafkaTopic deletes the topic: they hold data. */
function topics(env: Environment, cfg: KafkaStrimzi): KafkaTopic[] {
  const replicas = Number(kafkaSetting(env, "default.replication.factor") ?? 1);
  const minInSync = kafkaSetting(env, "min.insync.replicas");
  return connectStorage.topics.map(
    ({ name, partitions }) =>
      new KafkaTopic({
        metadata: {
          name,
          namespace: env.common.namespaces.broker,
          labels: { ...recommendedLabels(env, objectRole("topic", name)), ...ofCluster(cfg) },
          annotations: holdsData,
        },
        spec: { partitions, replicas, config: { "cleanup.policy": "compact", ...(minInSync ? { "min.insync.replicas": minInSync } : {}) } },
      }),
  );
}

type Acl = { resource: { type: "topic" | "group"; name: string; patternType: "literal" | "prefix" }; operations: ("Create" | "Describe" | "DescribeConfigs" | "Read" | "Write")[] };

/**
 * The backend's user: its topics and groups by prefix (config), since the services create and name
 * their own topics. Write on a topic also allows an idempotent producer (no cluster ACL).
 */
function backendAcls(env: Environment): Acl[] {
  const { topicPrefixes, groupPrefixes } = env.kafka.clientAccess;
  return [
    ...topicPrefixes.map((name): Acl => ({ resource: { type: "topic", name, patternType: "prefix" }, operations: ["Create", "Describe", "Read", "Write"] })),
    ...groupPrefixes.map((name): Acl => ({ resource: { type: "group", name, patternType: "prefix" }, operations: ["Describe", "Read"] })),
  ];
}

/**
 * Debezium's user: its Connect worker reads and writes the internal topics (DescribeConfigs lets
 * it check they are compacted) and joins its group; the connector creates and writes the change
 * topics `<topicPrefix>.<schema>.<table>`. No Read on them, no other group, nothing cluster-wide.
 */
function debeziumAcls(env: Environment): Acl[] {
  return [
    ...connectStorage.topics.map(({ name }): Acl => ({ resource: { type: "topic", name, patternType: "literal" }, operations: ["Describe", "DescribeConfigs", "Read", "Write"] })),
    { resource: { type: "topic", name: `${env.debezium.topicPrefix}.`, patternType: "prefix" }, operations: ["Create", "Describe", "Write"] },
    { resource: { type: "group", name: connectStorage.group, patternType: "literal" }, operations: ["Read"] },
  ];
}

/** A SCRAM user whose password the User Operator reads from a Secret of the namespace (written by ESO or by hand). */
function user(env: Environment, cfg: KafkaStrimzi, name: string, password: { name: string; key: string }, acls: Acl[]): KafkaUser {
  return new KafkaUser({
    metadata: { name, namespace: env.common.namespaces.broker, labels: { ...recommendedLabels(env, objectRole("user", name)), ...ofCluster(cfg) } },
    spec: {
      authentication: { type: "scram-sha-512", password: { valueFrom: { secretKeyRef: { name: password.name, key: password.key } } } },
      authorization: { type: "simple", acls },
    },
  });
}

/**
 * The flows Strimzi's pods need among themselves and from the operator (research of the 1.2.0
 * source; docs/kafka.md): the quorum on 9090, replication and Strimzi's admin clients on 9091,
 * the operator's Kafka agent on 8443, Cruise Control's API, and the API server for the nodes
 * (their certificates' Secrets, their Node's zone) and the entity operator. Clients reach 9092
 * through the layer-wide policies (network-policies.ts).
 */
function ownPolicies(env: Environment, cfg: KafkaStrimzi): PolicySpec[] {
  const namespace = env.common.namespaces.broker;
  const pods = strimziPods(cfg.name);
  const here = (selector: (typeof pods)[keyof typeof pods]) => ({ namespace, pods: selector });
  const operator = strimziOperator(env);
  return [
    {
      name: "allow-kafka-controllers",
      namespace,
      pods: pods.controllers,
      ingress: [
        { peers: [here(pods.nodes), operator], ports: [nodePorts.controlPlane] },
        { peers: [operator], ports: [nodePorts.agent] },
      ],
    },
    {
      name: "allow-kafka-brokers",
      namespace,
      pods: pods.brokers,
      ingress: [
        { peers: [here(pods.brokers), here(pods.entityOperator), here(pods.cruiseControl), operator], ports: [nodePorts.replication] },
        { peers: [operator], ports: [nodePorts.agent] },
      ],
    },
    {
      name: "allow-cruise-control",
      namespace,
      pods: pods.cruiseControl,
      ingress: [{ peers: [operator, here(pods.entityOperator)], ports: [cruiseControlPort] }],
    },
    {
      name: `allow-kafka-to-${apiServerAddresses(env).name}`,
      namespace,
      pods: { matchExpressions: [{ key: "strimzi.io/cluster", operator: "In", values: [cfg.name] }, { key: "strimzi.io/component-type", operator: "In", values: ["kafka", "entity-operator"] }] },
      egress: [toAddresses(apiServerAddresses(env))],
    },
  ];
}

export function strimziKafka(env: Environment): KubeObject[] {
  const cfg = strimziOf(env);
  return [
    strimziKafkaCluster(env, cfg),
    nodePool(env, cfg, pools.controller, cfg.controllers, "kafka.cluster.controllers"),
    nodePool(env, cfg, pools.broker, cfg.brokers, "kafka.cluster.brokers"),
    ...topics(env, cfg),
    user(env, cfg, env.kafka.clientUser, clientSecret, backendAcls(env)),
    user(env, cfg, debeziumUser.user, debeziumUser.password, debeziumAcls(env)),
    ...ownPolicies(env, cfg).map((spec) => networkPolicy(env, spec)),
  ];
}

export function strimziContract(env: Environment): KafkaContract {
  const cfg = strimziOf(env);
  const namespace = env.common.namespaces.broker;
  return {
    namespace,
    // The bootstrap Service; clients then connect to each broker's advertised address on the same port.
    bootstrap: [`${serviceHost(`${cfg.name}-kafka-bootstrap`, namespace, env.common.clusterDomain)}:${kafkaClientPort}`],
    port: kafkaClientPort,
    memberPorts: Object.values(nodePorts),
    mechanism: kafkaClientMechanism,
    connect: connectStorage,
    topicDefaults: {
      partitions: kafkaSetting(env, "num.partitions") ?? "1",
      replicationFactor: kafkaSetting(env, "default.replication.factor") ?? "1",
    },
    client: { user: env.kafka.clientUser, password: clientSecret },
    debezium: { user: debeziumUser.user, password: debeziumUser.password },
    pods: strimziPods(cfg.name).brokers,
    // The User Operator reads both passwords in this namespace.
    secrets: [clientSecret, debeziumUser.password],
  };
}
