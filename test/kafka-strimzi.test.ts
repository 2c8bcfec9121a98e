// Production's Kafka on Strimzi: what matters of the Kafka, its pools, topics and users, as
// rendered for production, and the config it refuses (located, nothing built).
import { describe, expect, it } from "vitest";
import { kafka, kafkaContract } from "../generator/components/kafka/index.ts";
import { configProblems } from "../generator/components/config-checks.ts";
import { debezium } from "../generator/components/debezium.ts";
import { operatorCatalog } from "../generator/components/operators.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, problems, productionWith } from "./support/config.ts";

const objects = (env = production) => kafka(env).map((o) => plain<any>(o));
const find = (kind: string, name: string, env = production) => objects(env).find((o) => o.kind === kind && o.metadata.name === name);
const cluster = find("Kafka", "nx-kafka");
const pool = (name: string) => find("KafkaNodePool", name);
const users = objects().filter((o) => o.kind === "KafkaUser");
const acls = (name: string) => users.find((u) => u.metadata.name === name).spec.authorization.acls;

describe("the Kafka (production, Strimzi 1.2)", () => {
  it("runs a version the pinned operator supports, KRaft with no obsolete annotation", () => {
    expect(cluster.spec.kafka).toMatchObject({ version: "4.3.1", metadataVersion: "4.3-IV0" });
    for (const o of objects()) {
      expect(Object.keys(o.metadata.annotations ?? {}).filter((a) => a.startsWith("strimzi.io/")), `${o.kind} ${o.metadata.name}`).toEqual([]);
      // Strimzi refuses any strimzi.io/ label on a CR but strimzi.io/cluster.
      expect(Object.keys(o.metadata.labels ?? {}).filter((l) => l.startsWith("strimzi.io/") && l !== "strimzi.io/cluster")).toEqual([]);
    }
  });

  it("has one client listener, SCRAM-SHA-512 on 9092 without TLS, and the simple authorizer", () => {
    expect(cluster.spec.kafka.listeners).toEqual([{ name: "client", port: 9092, type: "internal", tls: false, authentication: { type: "scram-sha-512" } }]);
    expect(cluster.spec.kafka.authorization).toEqual({ type: "simple" });
  });

  it("keeps staging's broker settings (no auto-created topics) and is rack-aware over zones", () => {
    expect(cluster.spec.kafka.config).toEqual(Object.fromEntries(staging.kafka.serverProperties));
    expect(cluster.spec.kafka.config["auto.create.topics.enable"]).toBe("false");
    expect(cluster.spec.kafka.rack).toEqual({ type: "topology-label", topologyKey: "topology.kubernetes.io/zone" });
  });

  it("runs the entity operator and Cruise Control", () => {
    expect(Object.keys(cluster.spec.entityOperator).sort()).toEqual(["topicOperator", "userOperator"]);
    expect(cluster.spec.cruiseControl.resources).toBeDefined();
  });

  it.each([["controller", 3, "20Gi"], ["broker", 3, "200Gi"]] as const)("pool %s: %d nodes of its role, volumes kept, one node a host, spread over zones", (name, replicas, size) => {
    const p = pool(name);
    expect(p.metadata.labels["strimzi.io/cluster"]).toBe("nx-kafka");
    expect(p.spec).toMatchObject({ replicas, roles: [name] });
    expect(p.spec.storage.volumes).toEqual([{ id: 0, type: "persistent-claim", size, class: "csi-sc-vnpaycloud", deleteClaim: false, kraftMetadata: "shared" }]);
    const spread = p.spec.template.pod.topologySpreadConstraints;
    const selector = { matchLabels: { "strimzi.io/cluster": "nx-kafka", "strimzi.io/pool-name": name } };
    expect(spread).toContainEqual(expect.objectContaining({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: selector }));
    expect(spread).toContainEqual(expect.objectContaining({ topologyKey: "topology.kubernetes.io/zone", labelSelector: selector }));
    // The heap is half the limit: the rest is the page cache's.
    expect(p.spec.jvmOptions["-Xmx"]).toBe(`${(Number.parseInt(p.spec.resources.limits.memory) * 1024) / 2}m`);
  });

  it("declares Kafka Connect's internal topics, compacted, replicated like every topic", () => {
    const topics = objects().filter((o) => o.kind === "KafkaTopic");
    expect(topics.map((t) => [t.metadata.name, t.spec.partitions, t.spec.replicas, t.spec.config["cleanup.policy"], t.metadata.labels["strimzi.io/cluster"]])).toEqual([
      ["nx-debezium-configs", 1, 3, "compact", "nx-kafka"],
      ["nx-debezium-offsets", 25, 3, "compact", "nx-kafka"],
      ["nx-debezium-statuses", 5, 3, "compact", "nx-kafka"],
    ]);
    // Debezium's workers use exactly these names.
    const env = plain<any>(debezium(production).find((o) => o.kind === "Deployment")).spec.template.spec.containers[0].env;
    const value = (name: string) => env.find((e: any) => e.name === name)?.value;
    expect([value("CONFIG_STORAGE_TOPIC"), value("OFFSET_STORAGE_TOPIC"), value("STATUS_STORAGE_TOPIC"), value("GROUP_ID")]).toEqual([
      "nx-debezium-configs", "nx-debezium-offsets", "nx-debezium-statuses", "nx-debezium",
    ]);
  });

  it("marks the Kafka, its pools and topics as holding data, the users not", () => {
    const marked = objects().filter((o) => o.metadata.annotations?.["nx-data-layer/holds-data"] === "true").map((o) => o.kind);
    expect([...new Set(marked)].sort()).toEqual(["Kafka", "KafkaNodePool", "KafkaTopic"]);
    expect(users.every((u) => u.metadata.annotations?.["nx-data-layer/holds-data"] === undefined)).toBe(true);
  });
});

describe("the SCRAM users and their ACLs (least privilege)", () => {
  it("take their passwords from Secrets of nx-broker, never from Git", () => {
    expect(users.map((u) => [u.metadata.name, u.spec.authentication])).toEqual([
      ["nx.production", { type: "scram-sha-512", password: { valueFrom: { secretKeyRef: { name: "nx-kafka-client-secret", key: "KAFKA_SASL_PASSWORD" } } } }],
      ["nx-debezium", { type: "scram-sha-512", password: { valueFrom: { secretKeyRef: { name: "nx-kafka-debezium-password", key: "password" } } } }],
    ]);
  });

  it("give the backend its configured topic and group prefixes, nothing cluster-wide", () => {
    expect(acls("nx.production")).toEqual([
      { resource: { type: "topic", name: "nx.", patternType: "prefix" }, operations: ["Create", "Describe", "Read", "Write"] },
      { resource: { type: "group", name: "nx.", patternType: "prefix" }, operations: ["Describe", "Read"] },
    ]);
    const narrower = productionWith({ kafka: { clientAccess: { topicPrefixes: ["nx.orders."], groupPrefixes: [] } } });
    expect(plain<any>(kafka(narrower).find((o) => o.kind === "KafkaUser" && o.metadata?.name === "nx.production")).spec.authorization.acls).toEqual([
      { resource: { type: "topic", name: "nx.orders.", patternType: "prefix" }, operations: ["Create", "Describe", "Read", "Write"] },
    ]);
  });

  it("give Debezium its Connect topics and group, and only create-and-write on its change topics", () => {
    expect(acls("nx-debezium")).toEqual([
      ...["configs", "offsets", "statuses"].map((t) => ({ resource: { type: "topic", name: `nx-debezium-${t}`, patternType: "literal" }, operations: ["Describe", "DescribeConfigs", "Read", "Write"] })),
      { resource: { type: "topic", name: "nx.", patternType: "prefix" }, operations: ["Create", "Describe", "Write"] },
      { resource: { type: "group", name: "nx-debezium", patternType: "literal" }, operations: ["Read"] },
    ]);
    for (const user of users) expect(user.spec.authorization.acls.filter((a: any) => a.resource.type === "cluster" || a.resource.type === "transactionalId")).toEqual([]);
  });
});

describe("the Kafka contract and Debezium in production", () => {
  it("bootstraps through the Strimzi Service, Debezium as its own user", () => {
    const contract = kafkaContract(production);
    expect(contract.bootstrap).toEqual(["nx-kafka-kafka-bootstrap.nx-broker.svc.cluster.local:9092"]);
    expect(contract.debezium.user).toBe("nx-debezium");
    expect(contract.pods).toEqual({ matchLabels: { "strimzi.io/cluster": "nx-kafka", "strimzi.io/broker-role": "true" } });
    // Staging keeps its one SCRAM user for both.
    expect(kafkaContract(staging).debezium).toEqual(kafkaContract(staging).client);
  });

  it("creates the replication slot for failover where the standbys keep it, reading the -rw Service", () => {
    const connector = plain<any>(debezium(production).find((o) => o.kind === "ConfigMap")).data;
    expect(connector["slot.failover"]).toBe("true");
    expect(connector["database.hostname"]).toBe("nx-postgresql-rw.nx-persistent.svc.cluster.local");
    expect(plain<any>(debezium(staging).find((o) => o.kind === "ConfigMap")).data["slot.failover"]).toBeUndefined();
  });

  it("runs two workers spread over hosts and zones, with a budget of one disruption", () => {
    const rendered = debezium(production).map((o) => plain<any>(o));
    const deployment = rendered.find((o) => o.kind === "Deployment");
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    expect(rendered.find((o) => o.kind === "PodDisruptionBudget").spec.maxUnavailable).toBe(1);
    // Staging's single worker has neither.
    expect(debezium(staging).some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });
});

describe("the Strimzi operator's chart", () => {
  const strimzi = operatorCatalog(production).find((o) => o.name === "strimzi")!;
  it("is pinned, watches nx-broker, runs its operands restricted and leaves NetworkPolicies to the layer", () => {
    expect(strimzi.chart).toEqual({ repository: "https://strimzi.io/charts/", chart: "strimzi-kafka-operator", version: "1.2.0" });
    expect(strimzi.namespace).toBe("strimzi-system");
    expect(strimzi.values).toEqual({
      watchNamespaces: ["nx-broker"],
      extraEnvs: [{ name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" }],
      generateNetworkPolicy: false,
    });
    expect(strimzi.watches).toEqual(["nx-broker"]);
  });
});

describe("bad Strimzi config fails located, before anything is built", () => {
  const strimziCluster = production.kafka.cluster.kind === "strimzi" ? production.kafka.cluster : undefined!;
  const withCluster = (change: Partial<typeof strimziCluster>) => productionWith({ kafka: { cluster: { ...strimziCluster, ...change } } });

  it.each([
    ["an even controller quorum", withCluster({ controllers: { ...strimziCluster.controllers, replicas: 4 } }),
      ["production / kafka / KafkaNodePool nx-broker/controller / kafka.cluster.controllers.replicas: 4 controllers: the KRaft quorum needs an odd number of at least 3 (a majority survives one lost controller; an even count tolerates no more than one less)"]],
    ["a single controller", withCluster({ controllers: { ...strimziCluster.controllers, replicas: 1 } }),
      ["production / kafka / KafkaNodePool nx-broker/controller / kafka.cluster.controllers.replicas: 1 controllers: the KRaft quorum needs an odd number of at least 3 (a majority survives one lost controller; an even count tolerates no more than one less)"]],
    ["fewer than 3 brokers with replication factor 3", withCluster({ brokers: { ...strimziCluster.brokers, replicas: 2 } }),
      ["production / kafka / Kafka nx-broker/nx-kafka / kafka.cluster.brokers.replicas: 2 brokers, but default.replication.factor=3 needs at least 3 brokers"]],
    ["a setting Strimzi sets itself", productionWith({ kafka: { serverProperties: [...production.kafka.serverProperties, ["sasl.enabled.mechanisms", "PLAIN"]] } }),
      ["production / kafka / Kafka nx-broker/nx-kafka / kafka.serverProperties[10]: sasl.enabled.mechanisms is set by Strimzi itself, which refuses it in spec.kafka.config"]],
    ["pools the stateful pool cannot hold", productionWith({ statefulNodes: { hosts: 2 } }),
      [
        "production / kafka / KafkaNodePool nx-broker/controller / kafka.cluster.controllers.replicas: 3 nodes, each on a host of its own, but the stateful pool has 2 hosts (statefulNodes.hosts)",
        "production / kafka / KafkaNodePool nx-broker/broker / kafka.cluster.brokers.replicas: 3 nodes, each on a host of its own, but the stateful pool has 2 hosts (statefulNodes.hosts)",
      ]],
    ["rack awareness over fewer zones than replicas", productionWith({ statefulNodes: { zones: 2 } }),
      ["production / kafka / Kafka nx-broker/nx-kafka / statefulNodes.zones: 2 zones, but default.replication.factor=3: rack awareness puts a partition's 3 replicas in 3 distinct zones"]],
  ] as const)("refuses %s", (_what, env, expected) => {
    expect(problems(env).filter((p) => p.includes(" / kafka / "))).toEqual(expected);
  });

  it("accepts a larger odd quorum", () => {
    expect(configProblems(withCluster({ controllers: { ...strimziCluster.controllers, replicas: 5 } }))).toEqual([]);
  });
});
