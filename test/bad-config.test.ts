// Bad config fails with a message naming environment, component, object and field, and the CLI
// then writes nothing at all.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import fg from "fast-glob";
import { afterAll, describe, expect, it } from "vitest";
import { ScheduledBackup } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/ScheduledBackup";
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from "kubernetes-models/autoscaling/v1/HorizontalPodAutoscaler";
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV2 } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { components } from "../generator/components/index.ts";
import { renderEnvironment } from "../generator/components/render.ts";
import type { Environment } from "../generator/config/types.ts";
import { GenerationFailed, formatProblem } from "../generator/lib/errors.ts";
import { withSyncWaves } from "../generator/delivery/waves.ts";
import { planArgocd } from "../generator/argocd/applications.ts";
import { neutralBase } from "../generator/config/environments.ts";
import { planLayout } from "../generator/layout/plan.ts";
import { initJob } from "../generator/lib/objects.ts";
import { buildOutput } from "../generator/pipeline.ts";
import { productionWith, stagingWith } from "./support/config.ts";
import { copyProject } from "./support/repo.ts";

function failure(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof GenerationFailed) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected generation to fail");
}

const generate = (env: Environment) => failure(() => buildOutput([env]));
// The delivery stage over a render with an extra component, as buildOutput runs it.
const buildOutputWith = (registry: Parameters<typeof renderEnvironment>[1]) => withSyncWaves(renderEnvironment(stagingWith({}), registry));

describe("Bad config is rejected with its location", () => {
  it("a memory quantity that is not a Kubernetes quantity (5Gb)", () => {
    const env = stagingWith({ redis: { resources: { limits: { memory: "5Gb" } } } });
    expect(generate(env)).toEqual([
      'staging / redis / StatefulSet nx-broker/nx-redis / spec.template.spec.containers[0].resources.limits.memory: must be number or must match format "quantity"',
    ]);
  });

  it("a volume size that is not a quantity", () => {
    const [problem] = generate(stagingWith({ typesense: { storage: "five gigs" } }));
    expect(problem).toContain("staging / typesense / StatefulSet nx-search/nx-typesense / spec.volumeClaimTemplates[0].spec.resources.requests.storage:");
  });

  it("Kafka with 0 brokers", () => {
    expect(generate(stagingWith({ kafka: { cluster: { brokers: 0 } } }))).toEqual([
      "staging / kafka / StatefulSet nx-broker/nx-kafka / kafka.cluster.brokers: 0 brokers, but default.replication.factor=3 needs at least 3 brokers",
    ]);
  });

  it("a Redis Cluster with fewer than 3 masters", () => {
    expect(generate(stagingWith({ redis: { masters: 2 } }))).toEqual([
      "staging / redis / StatefulSet nx-broker/nx-redis / spec.replicas: redis.masters is 2; a Redis Cluster needs at least 3 masters",
    ]);
  });

  it("a namespace name that is not a DNS label", () => {
    const [problem] = generate(stagingWith({ common: { namespaces: { search: "NX_Search" } } }));
    expect(problem).toBe('staging / namespaces / Namespace NX_Search / common.namespaces.search: "NX_Search" is not a DNS label');
  });

  it("a Namespace object that is not one of the layer's namespaces", () => {
    const stray = () => [new Namespace({ metadata: { name: "nx-stray" } })];
    expect(failure(() => renderEnvironment(stagingWith({}), { ...components, stray }))).toEqual([
      'staging / stray / Namespace nx-stray / metadata.name: namespace "nx-stray" is not one of the layer\'s namespaces (nx-persistent, nx-broker, nx-search)',
    ]);
  });

  it("an object placed in a namespace that is not the layer's", () => {
    const rogue = () => [new ConfigMap({ metadata: { name: "stray", namespace: "nx-unknown" }, data: {} })];
    expect(failure(() => renderEnvironment(stagingWith({}), { ...components, rogue }))).toEqual([
      'staging / rogue / ConfigMap nx-unknown/stray / metadata.namespace: namespace "nx-unknown" is not one of the layer\'s namespaces (nx-persistent, nx-broker, nx-search)',
    ]);
  });

  it("two objects with the same kind, namespace and name", () => {
    const twin = () => [new Service({ metadata: { name: "nx-redis", namespace: "nx-broker" }, spec: { ports: [{ port: 1 }] } })];
    expect(failure(() => renderEnvironment(stagingWith({}), { ...components, twin }))).toEqual([
      "staging / twin / Service nx-broker/nx-redis / metadata.name: Service nx-broker/nx-redis is already defined by component redis; kind/namespace/name must be unique",
    ]);
  });

  it("the same kind, namespace and name in another version of its API group", () => {
    const v2 = () => [
      new HorizontalPodAutoscalerV2({ metadata: { name: "nx-debezium", namespace: "nx-search" }, spec: { scaleTargetRef: { kind: "Deployment", name: "nx-debezium" }, maxReplicas: 2 } }),
    ];
    const v1 = () => [
      new HorizontalPodAutoscalerV1({ metadata: { name: "nx-debezium", namespace: "nx-search" }, spec: { scaleTargetRef: { kind: "Deployment", name: "nx-debezium" }, maxReplicas: 2 } }),
    ];
    expect(failure(() => renderEnvironment(stagingWith({}), { ...components, v1, v2 }))).toEqual([
      "staging / v2 / HorizontalPodAutoscaler nx-search/nx-debezium / metadata.name: HorizontalPodAutoscaler nx-search/nx-debezium is already defined by component v1; kind/namespace/name must be unique",
    ]);
  });

  it("reports every problem of a run at once", () => {
    const env = stagingWith({ kafka: { cluster: { brokers: 1 } }, pgbouncer: { resources: { requests: { cpu: "lots" } } } });
    expect(generate(env).map((p) => p.split(":")[0])).toEqual([
      "staging / kafka / StatefulSet nx-broker/nx-kafka / kafka.cluster.brokers",
      // PgBouncer's init container and server share the configured resources: both are named.
      "staging / pgbouncer / Deployment nx-persistent/nx-pgbouncer / spec.template.spec.containers[0].resources.requests.cpu",
      "staging / pgbouncer / Deployment nx-persistent/nx-pgbouncer / spec.template.spec.initContainers[0].resources.requests.cpu",
    ]);
  });
});

describe("Delivery refuses an order Argo CD would run wrongly", () => {
  // Waves are code (delivery/waves.ts); these run the stage with a table that breaks the order.
  const syncedWith = (env: Environment, initJobs: number) => failure(() => withSyncWaves(renderEnvironment(env), { setup: -1, workloads: 0, initJobs }));

  it("a child Application whose path does not exist", () => {
    const staging = stagingWith({});
    const rendered = withSyncWaves(renderEnvironment(staging));
    const layout = planLayout(withSyncWaves(renderEnvironment(neutralBase)), [rendered]).filter((f) => !f.path.startsWith("overlays/staging/nx-search/"));
    expect(failure(() => planArgocd([rendered], layout))).toEqual([
      "staging / argocd / Application argocd/staging-nx-search / spec.source.path: overlays/staging/nx-search does not exist: the generator puts no objects in namespace nx-search",
    ]);
  });

  it("an init Job that would run in the same wave as its workload", () => {
    const problems = syncedWith(stagingWith({}), 0);
    expect(problems.map((p) => p.replace(/-[0-9a-f]{8} /, "-<hash> "))).toEqual([
      'staging / postgres / Job nx-persistent/nx-postgresql-setup-<hash> / metadata.annotations["argocd.argoproj.io/sync-wave"]: wave 0 would run the Job with or before StatefulSet nx-persistent/nx-postgresql-primary (wave 0), which it initializes; it must run strictly after it is healthy',
      'staging / postgres / Job nx-persistent/nx-postgresql-setup-<hash> / metadata.annotations["argocd.argoproj.io/sync-wave"]: wave 0 would run the Job with or before StatefulSet nx-persistent/nx-postgresql-replica (wave 0), which it initializes; it must run strictly after it is healthy',
      'staging / redis / Job nx-broker/nx-redis-cluster-init-<hash> / metadata.annotations["argocd.argoproj.io/sync-wave"]: wave 0 would run the Job with or before StatefulSet nx-broker/nx-redis (wave 0), which it initializes; it must run strictly after it is healthy',
      'staging / kafka / Job nx-broker/nx-kafka-scram-init-<hash> / metadata.annotations["argocd.argoproj.io/sync-wave"]: wave 0 would run the Job with or before StatefulSet nx-broker/nx-kafka (wave 0), which it initializes; it must run strictly after it is healthy',
      'staging / debezium / Job nx-search/nx-debezium-init-<hash> / metadata.annotations["argocd.argoproj.io/sync-wave"]: wave 0 would run the Job with or before Deployment nx-search/nx-debezium (wave 0), which it initializes; it must run strictly after it is healthy',
    ]);
  });

  it("a CloudNativePG object that would sync with or before the Cluster it names", () => {
    const problems = syncedWith(productionWith({}), 0);
    const wave = 'metadata.annotations["argocd.argoproj.io/sync-wave"]';
    const acting = (component: string, object: string) =>
      `production / ${component} / ${object} / ${wave}: wave 0 would run the ${object.split(" ")[0]} with or before Cluster nx-persistent/nx-postgresql (wave 0), which it acts on; it must run strictly after it is healthy`;
    expect(problems.filter((p) => !p.includes(" / Job ") && !p.includes(" / kafka / "))).toEqual([
      acting("postgres", "Database nx-persistent/nx-postgresql-nx-seller-core"),
      acting("postgres", "Publication nx-persistent/nx-postgresql-nx-debezium"),
      acting("postgres", "ScheduledBackup nx-persistent/nx-postgresql-daily"),
      acting("pgbouncer", "Pooler nx-persistent/nx-pgbouncer"),
    ]);
  });

  it("a Strimzi topic or user that would sync with or before the Kafka it names", () => {
    const problems = syncedWith(productionWith({}), 0);
    const acting = (object: string) =>
      `production / kafka / ${object} / metadata.annotations["argocd.argoproj.io/sync-wave"]: wave 0 would run the ${object.split(" ")[0]} with or before Kafka nx-broker/nx-kafka (wave 0), which it acts on; it must run strictly after it is healthy`;
    expect(problems.filter((p) => p.includes(" / kafka / "))).toEqual([
      acting("KafkaTopic nx-broker/nx-debezium-configs"),
      acting("KafkaTopic nx-broker/nx-debezium-offsets"),
      acting("KafkaTopic nx-broker/nx-debezium-statuses"),
      acting("KafkaUser nx-broker/nx.production"),
      acting("KafkaUser nx-broker/nx-debezium"),
    ]);
  });
});

describe("An init Job must name the workload it initializes", () => {
  it("fails when no StatefulSet or Deployment of the Job's app is in its namespace", () => {
    const orphan = () => [
      initJob(stagingWith({}), {
        name: "nx-orphan-init",
        namespace: "nx-search",
        role: { app: "orphan", component: "init", instance: "nx-orphan-init" },
        uid: 1000,
        container: { name: "init", image: "busybox:1.36", command: ["true"] },
      }),
    ];
    const problems = failure(() => buildOutputWith({ ...components, orphan }));
    expect(problems.map((p) => p.replace(/-[0-9a-f]{8} /, "-<hash> "))).toEqual([
      'staging / orphan / Job nx-search/nx-orphan-init-<hash> / metadata.labels["app.kubernetes.io/name"]: no StatefulSet or Deployment of app orphan in nx-search: an init Job must name the workload it initializes',
    ]);
  });
});

describe("A CloudNativePG object must name a Cluster of its namespace", () => {
  it("fails when the Cluster it acts on is not rendered there", () => {
    const stray = () => [
      new ScheduledBackup({
        metadata: { name: "nx-stray-daily", namespace: "nx-persistent" },
        spec: { cluster: { name: "nx-postgresql-old" }, schedule: "0 0 2 * * *" },
      }),
    ];
    expect(failure(() => withSyncWaves(renderEnvironment(productionWith({}), { ...components, stray })))).toEqual([
      "production / stray / ScheduledBackup nx-persistent/nx-stray-daily / spec.cluster.name: no Cluster nx-postgresql-old in nx-persistent: a ScheduledBackup acts on a Cluster of its namespace",
    ]);
  });
});

describe("The CLI writes nothing when config is bad", () => {
  const work = mkdtempSync(join(tmpdir(), "nx-bad-config-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("exits 1, names the problem, and leaves every generated file as it was", () => {
    copyProject(work);
    const stagingFile = join(work, "generator/config/staging.ts");
    const source = readFileSync(stagingFile, "utf8");
    // An edit that is wrong in one place, plus one that is fine and would change files if written.
    const broken = source.replace('name: "staging",\n', 'name: "staging",\n  redis: { storage: "5Gb" },\n  typesense: { storage: "6Gi" },\n');
    expect(broken).not.toBe(source);
    writeFileSync(stagingFile, broken);
    const before = snapshotTree(work);

    const run = spawnSync(process.execPath, ["generator/cli.ts", "generate"], { cwd: work, encoding: "utf8" });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain("staging / redis / StatefulSet nx-broker/nx-redis / spec.volumeClaimTemplates[0].spec.resources.requests.storage");
    expect(run.stderr).toContain("nothing written");
    expect(snapshotTree(work)).toEqual(before);
  });
});

function snapshotTree(root: string): Record<string, string> {
  const files = fg.sync(["base/**", "overlays/**", "backend/**", "docs/**"], { cwd: root }).sort();
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(root, f), "utf8")]));
}

describe("Bad client namespaces are rejected with their location", () => {
  it("a layer namespace listed as a client's, which would put the backend's settings under the layer's Application", () => {
    expect(generate(stagingWith({ common: { clientNamespaces: ["nx-backend", "nx-broker"] } }))).toEqual([
      "staging / backend-settings / ConfigMap nx-broker/nx-data-layer-settings / common.clientNamespaces: nx-broker is one of the layer's namespaces, not a client's",
    ]);
  });

  it("no client namespace at all", () => {
    expect(generate(stagingWith({ common: { clientNamespaces: [] } }))).toEqual([
      "staging / backend-settings / ConfigMap nx-data-layer-settings / common.clientNamespaces: lists no namespace: the settings would go nowhere",
    ]);
  });
});
