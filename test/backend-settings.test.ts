// The backend services' connection settings (backend/<env>/): staging's equal the design
// document's shared-config.yaml, no secret is in them, and every host in every environment is one
// its overlay creates: a Service by name and namespace (the layer's own, or the one CloudNativePG
// makes for a Pooler), or for a pod hostname (<pod>.<headless>.<namespace>.svc.<domain>) the
// headless Service and a StatefulSet with that pod.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backendSecretKeys, backendSecretName, backendSettings } from "../generator/clients/backend.ts";
import { environments } from "../generator/config/environments.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { stagingWith } from "./support/config.ts";
import { kustomizeBuild, type PlainObject, repoRoot, subfolders } from "./support/repo.ts";

// The design document's values: "PostgreSQL › Default Connection Path" (APP_ENV_POSTGRES_HOST,
// nx-pgbouncer:5432, database nx_seller_core), "Redis › Backend Connection Config" (the BullMQ and
// WebSocket lists are abbreviated there as "nx-redis-0....:6379,..." for the same three nodes),
// "Kafka › Backend Connection Config", and "Typesense › Service" (nx-typesense...:8108).
const redisNodes =
  "nx-redis-0.nx-redis-headless.nx-broker.svc.cluster.local:6379,nx-redis-1.nx-redis-headless.nx-broker.svc.cluster.local:6379,nx-redis-2.nx-redis-headless.nx-broker.svc.cluster.local:6379";
const documentSettings: Record<string, string> = {
  APP_ENV_POSTGRES_HOST: "nx-pgbouncer.nx-persistent.svc.cluster.local",
  APP_ENV_POSTGRES_PORT: "5432",
  APP_ENV_POSTGRES_DATABASE: "nx_seller_core",
  APP_ENV_CACHE_REDIS_MODE: "cluster",
  APP_ENV_CACHE_REDIS_CLUSTER_NODES: redisNodes,
  APP_ENV_BULLMQ_REDIS_MODE: "cluster",
  APP_ENV_BULLMQ_REDIS_CLUSTER_NODES: redisNodes,
  APP_ENV_WEBSOCKET_REDIS_MODE: "cluster",
  APP_ENV_WEBSOCKET_REDIS_CLUSTER_NODES: redisNodes,
  APP_ENV_KAFKA_BROKERS:
    "nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:9092,nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:9092,nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
  APP_ENV_KAFKA_SASL_ENABLE: "true",
  APP_ENV_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
  APP_ENV_KAFKA_SASL_USERNAME: "nx.staging",
  APP_ENV_TYPESENSE_HOST: "nx-typesense.nx-search.svc.cluster.local",
  APP_ENV_TYPESENSE_PORT: "8108",
};
// Beyond the document: the application user ("Users & Secrets"), the protocol the Typesense client
// needs, and one PgBouncer database per schema ("Database Schemas"; docs/postgresql.md).
const addedSettings: Record<string, string> = {
  APP_ENV_POSTGRES_USERNAME: "nx_seller_operator",
  APP_ENV_TYPESENSE_PROTOCOL: "http",
  APP_ENV_POSTGRES_DATABASE_PUBLIC: "nx_seller_core",
  ...Object.fromEntries(
    ["pricing", "allocation", "inventory", "finance", "payment", "sale"].map((s) => [`APP_ENV_POSTGRES_DATABASE_${s.toUpperCase()}`, `nx_seller_core_${s}`]),
  ),
};

type Obj = PlainObject & { spec?: any; data?: Record<string, string> };

/**
 * The Service CloudNativePG makes for a Pooler: named as the Pooler, port 5432 to its PgBouncer pods
 * (pkg/specs/pgbouncer/services.go; the layer sets no serviceTemplate).
 */
const poolerService = (pooler: Obj): Obj => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: pooler.metadata?.name, namespace: pooler.metadata?.namespace },
  spec: { ports: [{ name: "pgbouncer", port: 5432, targetPort: 5432 }], selector: { "cnpg.io/poolerName": pooler.metadata?.name } },
});

/**
 * The bootstrap Service Strimzi makes for a Kafka: `<name>-kafka-bootstrap`, the replication port
 * and each listener's port, to the brokers (KafkaCluster.generateService, 1.2.0).
 */
const kafkaBootstrapService = (kafka: Obj): Obj => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: `${kafka.metadata?.name}-kafka-bootstrap`, namespace: kafka.metadata?.namespace },
  spec: { ports: [{ port: 9091 }, ...kafka.spec.kafka.listeners.map((l: { port: number }) => ({ port: l.port }))] },
});

/** Why `host:port` is not served by the rendered objects, or undefined when it is. */
function unresolved(rendered: readonly Obj[], host: string, port: number): string | undefined {
  const objects = [
    ...rendered,
    ...rendered.filter((o) => o.kind === "Pooler").map(poolerService),
    ...rendered.filter((o) => o.kind === "Kafka").map(kafkaBootstrapService),
  ];
  const service = (name: string, ns: string) => objects.find((o) => o.kind === "Service" && o.metadata?.name === name && o.metadata?.namespace === ns);
  const pod = /^(?<sts>[a-z0-9-]+)-(?<ordinal>\d+)\.(?<headless>[a-z0-9-]+)\.(?<ns>[a-z0-9-]+)\.svc\.cluster\.local$/.exec(host)?.groups;
  if (pod) {
    const headless = service(pod.headless!, pod.ns!);
    if (!headless) return `${host}: no Service ${pod.ns}/${pod.headless}`;
    if (headless.spec.clusterIP !== "None") return `${host}: Service ${pod.ns}/${pod.headless} is not headless`;
    const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata?.name === pod.sts && o.metadata?.namespace === pod.ns);
    if (!sts) return `${host}: no StatefulSet ${pod.ns}/${pod.sts}`;
    if (sts.spec.serviceName !== pod.headless) return `${host}: StatefulSet ${pod.sts} names Service ${sts.spec.serviceName}`;
    if ((sts.spec.replicas ?? 1) <= Number(pod.ordinal)) return `${host}: StatefulSet ${pod.sts} has ${sts.spec.replicas} replicas`;
    const labels = sts.spec.template.metadata.labels;
    if (!Object.entries(headless.spec.selector ?? {}).every(([k, v]) => labels[k] === v)) return `${host}: ${pod.headless} does not select ${pod.sts}`;
    const containerPorts = sts.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.containerPort));
    return containerPorts.includes(port) ? undefined : `${host}: no container of ${pod.sts} listens on ${port}`;
  }
  const svc = /^(?<name>[a-z0-9-]+)\.(?<ns>[a-z0-9-]+)\.svc\.cluster\.local$/.exec(host)?.groups;
  if (!svc) return `${host}: not a Service or pod hostname of the cluster`;
  const found = service(svc.name!, svc.ns!);
  if (!found) return `${host}: no Service ${svc.ns}/${svc.name}`;
  return found.spec.ports.some((p: any) => p.port === port) ? undefined : `${host}: Service ${svc.name} has no port ${port}`;
}

/** Every `host:port` the settings name: `*_HOST` with its `*_PORT`, and the `host:port` lists. */
function endpoints(data: Record<string, string>): { key: string; host: string; port: number }[] {
  return Object.entries(data).flatMap(([key, value]) => {
    if (key.endsWith("_HOST")) return [{ key, host: value, port: Number(data[key.replace(/_HOST$/, "_PORT")]) }];
    if (key.endsWith("_CLUSTER_NODES") || key.endsWith("_BROKERS")) {
      return value.split(",").map((address) => {
        const [host = "", port = ""] = address.split(":");
        return { key, host, port: Number(port) };
      });
    }
    return [];
  });
}

const settingsOf = (objects: readonly Obj[]) => objects.filter((o) => o.kind === "ConfigMap");
const backendFolders = subfolders(join(repoRoot, "backend"));

describe("the backend settings", () => {
  it("exist for every environment, as a kustomization that builds", () => {
    expect(backendFolders).toEqual(environments.map((e) => e.name).sort());
    for (const env of backendFolders) {
      const built = kustomizeBuild(join(repoRoot, "backend", env)) as Obj[];
      expect(built.map((o) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`)).toEqual(["ConfigMap nx-backend/nx-data-layer-settings"]);
    }
  });

  it("in staging equal the design document's shared-config.yaml, plus the user, the protocol and the per-schema databases", () => {
    const [staging] = settingsOf(kustomizeBuild(join(repoRoot, "backend/staging")) as Obj[]);
    expect(staging?.data).toEqual({ ...documentSettings, ...addedSettings });
  });

  it("hold no secret: no password, key or token, and no Secret object", () => {
    for (const env of backendFolders) {
      const built = kustomizeBuild(join(repoRoot, "backend", env)) as Obj[];
      expect(built.filter((o) => o.kind === "Secret")).toEqual([]);
      for (const cm of settingsOf(built)) expect(Object.keys(cm.data ?? {}).filter((k) => /PASSWORD|SECRET|API_KEY|TOKEN/.test(k))).toEqual([]);
    }
  });

  it("name only hosts their environment's overlay creates: Services (a Pooler's too), or StatefulSet pods behind their headless Service", () => {
    for (const env of backendFolders) {
      const overlay = kustomizeBuild(join(repoRoot, "overlays", env)) as Obj[];
      for (const cm of settingsOf(kustomizeBuild(join(repoRoot, "backend", env)) as Obj[])) {
        const data = cm.data ?? {};
        const named = endpoints(data);
        // Every value that names a cluster host is among the checked endpoints.
        const hosts = Object.entries(data).filter(([, v]) => v.includes(".svc.")).map(([k]) => k);
        expect(new Set(named.map((e) => e.key))).toEqual(new Set(hosts));
        expect(named.length).toBeGreaterThan(10);
        for (const { key, host, port } of named) expect(unresolved(overlay, host, port), `${env} ${key}`).toBeUndefined();
      }
    }
  });

  it("the check refuses a pod beyond the replicas, a renamed Service and a closed port", () => {
    const overlay = kustomizeBuild(join(repoRoot, "overlays/staging")) as Obj[];
    expect(unresolved(overlay, "nx-redis-3.nx-redis-headless.nx-broker.svc.cluster.local", 6379)).toMatch(/has 3 replicas/);
    expect(unresolved(overlay, "nx-redis-0.nx-redis.nx-broker.svc.cluster.local", 6379)).toMatch(/not headless/);
    expect(unresolved(overlay, "nx-pgbouncer-pooled.nx-persistent.svc.cluster.local", 5432)).toMatch(/no Service/);
    expect(unresolved(overlay, "nx-pgbouncer.nx-persistent.svc.cluster.local", 6432)).toMatch(/no port 6432/);
    // Production's PgBouncer is a Pooler: its Service (CloudNativePG's) listens on 5432 only.
    const production = kustomizeBuild(join(repoRoot, "overlays/production")) as Obj[];
    expect(unresolved(production, "nx-pgbouncer.nx-persistent.svc.cluster.local", 6432)).toMatch(/no port 6432/);
    expect(unresolved(production, "nx-pooler.nx-persistent.svc.cluster.local", 5432)).toMatch(/no Service/);
  });

  it("follow what an environment renders: more nodes, another user", () => {
    const env = stagingWith({ redis: { masters: 6 }, kafka: { clientUser: "nx.production", cluster: { brokers: 5 } } });
    const data = backendSettings(env);
    expect(data.APP_ENV_CACHE_REDIS_CLUSTER_NODES?.split(",")).toHaveLength(6);
    expect(data.APP_ENV_KAFKA_BROKERS?.split(",")).toHaveLength(5);
    expect(data.APP_ENV_KAFKA_SASL_USERNAME).toBe("nx.production");
    const objects = environmentObjects(env).objects.map(({ object }) => JSON.parse(JSON.stringify(object)) as Obj);
    for (const { key, host, port } of endpoints(data)) expect(unresolved(objects, host, port), key).toBeUndefined();
  });

  it("leave the passwords to the backend's Secret, each key listed in docs/secrets.md", () => {
    const doc = readFileSync(join(repoRoot, "docs/secrets.md"), "utf8");
    for (const env of environments) {
      const keys = backendSecretKeys(env).map((k) => k.key);
      expect(keys).toEqual(expect.arrayContaining(["APP_ENV_KAFKA_SASL_PASSWORD", "APP_ENV_POSTGRES_PASSWORD", "APP_ENV_TYPESENSE_API_KEY"]));
      const row = doc.split("\n").find((l) => l.startsWith(`| nx-backend | \`${backendSecretName}\` |`));
      for (const key of keys) expect(row, key).toContain(`\`${key}\`: the value of`);
      expect(doc).toContain(`kubectl -n nx-backend create secret generic ${backendSecretName} ${[...keys].sort().map((k) => `--from-literal=${k}=...`).join(" ")}`);
    }
  });
});
