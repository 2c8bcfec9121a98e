// Argo CD's documented sync ordering, applied to what each environment really renders: tasks run
// by phase, then sync wave, then kind, then name, and a wave starts only once every object of the
// previous waves is healthy. Over every Application of every environment (kustomize-built from the
// paths the Applications name), the order must be: each operator's namespace, then its chart, then
// the charts that need it, before any Application whose objects are its CRs; inside a namespace,
// its setup (the ExternalSecrets writing the Secrets included), then Services and workloads, then
// each init Job strictly after the workload it initializes is healthy, and each CR after what it
// names; and between Applications, nx-search only after nx-persistent and nx-broker are healthy.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environments } from "../generator/config/environments.ts";
import { production } from "../generator/config/production.ts";
import { secretReferences } from "../generator/lib/secret-references.ts";
import { plan } from "./support/operators.ts";
import { kustomizeBuild, type PlainObject } from "./support/repo.ts";
import { groupOf } from "../generator/lib/identity.ts";

const repo = join(import.meta.dirname, "..");

// gitops-engine pkg/sync/sync_tasks.go: the fixed kind order within a wave; unknown kinds last.
const kindOrder = [
  "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
  "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
  "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
  "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
  "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "Ingress", "APIService",
];
const phases = ["PreSync", "Sync", "PostSync"];

type Meta = { annotations?: Record<string, string>; labels?: Record<string, string> };
const annotation = (o: PlainObject, key: string) => (o.metadata as Meta | undefined)?.annotations?.[key];
const appLabel = (o: PlainObject) => (o.metadata as Meta | undefined)?.labels?.["app.kubernetes.io/name"];
const phaseOf = (o: PlainObject) => annotation(o, "argocd.argoproj.io/hook") ?? "Sync";
const waveOf = (o: PlainObject) => Number(annotation(o, "argocd.argoproj.io/sync-wave") ?? "0");
const kindRank = (o: PlainObject) => (kindOrder.includes(o.kind) ? kindOrder.indexOf(o.kind) : kindOrder.length);
const id = (o: PlainObject) => `${o.kind} ${o.metadata?.name}`;

/** The objects in the order Argo CD applies them, grouped into the waves it waits between. */
function syncOrder(objects: readonly PlainObject[]): PlainObject[][] {
  const sorted = [...objects].sort(
    (a, b) =>
      phases.indexOf(phaseOf(a)) - phases.indexOf(phaseOf(b)) ||
      waveOf(a) - waveOf(b) ||
      kindRank(a) - kindRank(b) ||
      (String(a.metadata?.name) < String(b.metadata?.name) ? -1 : String(a.metadata?.name) > String(b.metadata?.name) ? 1 : 0),
  );
  const groups: PlainObject[][] = [];
  for (const o of sorted) {
    const last = groups.at(-1);
    if (last && phaseOf(last[0]!) === phaseOf(o) && waveOf(last[0]!) === waveOf(o)) last.push(o);
    else groups.push([o]);
  }
  return groups;
}

/** For each object, the objects already healthy when Argo CD applies it (all earlier waves). */
function healthyBefore(groups: PlainObject[][]): Map<PlainObject, Set<PlainObject>> {
  const out = new Map<PlainObject, Set<PlainObject>>();
  const healthy = new Set<PlainObject>();
  for (const group of groups) {
    for (const o of group) out.set(o, new Set(healthy));
    for (const o of group) healthy.add(o);
  }
  return out;
}

// Which chart serves each API group, and which charts must run before a chart can: from the charts
// (docs/operators.md), stated here independently of the generator.
const servedBy: Readonly<Record<string, string>> = {
  "cert-manager.io": "cert-manager",
  "postgresql.cnpg.io": "cloudnative-pg",
  "barmancloud.cnpg.io": "plugin-barman-cloud",
  "external-secrets.io": "external-secrets",
  "kafka.strimzi.io": "strimzi-kafka-operator",
};
const chartNeeds: Readonly<Record<string, readonly string[]>> = { "plugin-barman-cloud": ["cert-manager", "cloudnative-pg"] };
const namesBarmanPlugin = (o: PlainObject) => JSON.stringify(o.spec ?? {}).includes('"name":"barman-cloud.cloudnative-pg.io"');

type App = PlainObject & { spec: { source: { path?: string; chart?: string }; destination: { namespace: string } } };

/**
 * Where the root app would start an Application before what it needs is healthy: an operator's
 * chart before its namespace or the charts it needs, an Application holding CRs before the chart
 * that serves them (or names the plugin before the plugin's chart).
 */
function operatorOrderViolations(applications: readonly App[], objectsOf: (app: App) => readonly PlainObject[]): string[] {
  const healthy = healthyBefore(syncOrder(applications));
  const chart = (name: string) => applications.find((a) => a.spec.source.chart === name);
  const before = (first: App | undefined, then: App, why: string) =>
    first && healthy.get(then)!.has(first) ? [] : [`${then.metadata?.name} starts before ${first?.metadata?.name ?? "(no Application)"} is healthy: ${why}`];
  return applications.flatMap((app) => {
    const { chart: name, path } = app.spec.source;
    if (name) {
      const namespace = applications.find((a) => a.spec.source.path && a.spec.destination.namespace === app.spec.destination.namespace);
      return [
        ...before(namespace, app, "its namespace (Pod Security labels, NetworkPolicies) comes first"),
        ...(chartNeeds[name] ?? []).flatMap((needed) => before(chart(needed), app, `it needs ${needed} running`)),
      ];
    }
    if (!path) return [];
    const objects = objectsOf(app);
    const charts = new Set([
      ...objects.flatMap((o) => (servedBy[groupOf(o)] ? [servedBy[groupOf(o)]!] : [])),
      ...(objects.some(namesBarmanPlugin) ? ["plugin-barman-cloud"] : []),
    ]);
    return [...charts].flatMap((c) => before(chart(c), app, `its objects need ${c}'s CRDs and controller`));
  });
}

describe("the ordering implemented here follows Argo CD's documented rules", () => {
  const o = (kind: string, name: string, wave?: string, hook?: string): PlainObject => ({
    apiVersion: "v1",
    kind,
    metadata: { name, annotations: { ...(wave ? { "argocd.argoproj.io/sync-wave": wave } : {}), ...(hook ? { "argocd.argoproj.io/hook": hook } : {}) } },
  });

  it("sorts by phase, then wave, then kind, then name, and groups waves", () => {
    const order = syncOrder([
      o("Job", "post", undefined, "PostSync"),
      o("StatefulSet", "b", "0"),
      o("Service", "a"),
      o("ConfigMap", "z", "-1"),
      o("Namespace", "ns", "-1"),
      o("Job", "pre", "5", "PreSync"),
      o("StatefulSet", "a", "0"),
      o("Job", "init", "1"),
    ]);
    expect(order.map((g) => g.map(id))).toEqual([
      ["Job pre"],
      ["Namespace ns", "ConfigMap z"],
      ["Service a", "StatefulSet a", "StatefulSet b"],
      ["Job init"],
      ["Job post"],
    ]);
  });
});

describe.each(environments.map((e) => [e.name, e] as const))("sync order of %s", (env, config) => {
  const root = kustomizeBuild(join(repo, "argocd", env, "apps"));
  const applications = root.filter((o) => o.kind === "Application") as App[];
  const fromGit = applications.filter((a) => a.spec.source.path);
  const rendered = new Map(fromGit.map((app) => [app.metadata!.name!, kustomizeBuild(join(repo, app.spec.source.path!))] as const));
  const dataNamespaces = Object.values(config.common.namespaces) as string[];

  it("renders one Application per namespace, each from a path that builds", () => {
    const namespaces = fromGit.map((a) => a.spec.destination.namespace);
    expect(namespaces.filter((ns) => dataNamespaces.includes(ns)).sort()).toEqual(["nx-broker", "nx-persistent", "nx-search"]);
    expect(namespaces.filter((ns) => !dataNamespaces.includes(ns)).every((ns) => Object.values(config.common.operatorNamespaces).includes(ns))).toBe(true);
    for (const objects of rendered.values()) expect(objects.length).toBeGreaterThan(0);
  });

  it("installs each operator after its namespace and the operators it needs, before any Application using its CRDs", () => {
    expect(operatorOrderViolations(applications, (app) => rendered.get(app.metadata!.name!)!)).toEqual([]);
  });

  it("quotes every sync wave as a string holding an integer, and uses no hooks", () => {
    for (const o of [...root, ...[...rendered.values()].flat()]) {
      const wave = annotation(o, "argocd.argoproj.io/sync-wave");
      expect(wave, id(o)).toBeTypeOf("string");
      expect(wave, id(o)).toMatch(/^-?\d+$/);
      expect(annotation(o, "argocd.argoproj.io/hook"), id(o)).toBeUndefined();
    }
  });

  it("syncs nx-search only after nx-persistent and nx-broker are healthy", () => {
    const groups = syncOrder(applications);
    const healthy = healthyBefore(groups);
    const app = (ns: string) => fromGit.find((a) => a.spec.destination.namespace === ns)!;
    const before = healthy.get(app("nx-search"))!;
    expect(before.has(app("nx-persistent"))).toBe(true);
    expect(before.has(app("nx-broker"))).toBe(true);
  });

  describe.each(["nx-persistent", "nx-broker", "nx-search"])("inside %s", (namespace) => {
    const app = fromGit.find((a) => a.spec.destination.namespace === namespace)!;
    const objects = rendered.get(app.metadata!.name!)!;
    const groups = syncOrder(objects);
    const healthy = healthyBefore(groups);
    const setup = objects.filter((o) => ["Namespace", "NetworkPolicy", "ConfigMap", "ServiceAccount"].includes(o.kind) && o.metadata?.name !== "nx-data-layer-synced");
    const workloads = objects.filter((o) => ["Service", "StatefulSet", "Deployment"].includes(o.kind));
    const jobs = objects.filter((o) => o.kind === "Job");

    it("creates the Namespace, its NetworkPolicies and ConfigMaps before any Service or workload", () => {
      expect(setup.length).toBeGreaterThan(3);
      for (const w of workloads) for (const s of setup) expect(healthy.get(w)!.has(s), `${id(s)} before ${id(w)}`).toBe(true);
    });

    it("runs each init Job only once the workload it initializes is healthy", () => {
      for (const job of jobs) {
        const initialized = objects.filter((o) => ["StatefulSet", "Deployment"].includes(o.kind) && appLabel(o) === appLabel(job));
        expect(initialized.length, `${id(job)} initializes a workload`).toBeGreaterThanOrEqual(1);
        for (const w of initialized) expect(healthy.get(job)!.has(w), `${id(w)} healthy before ${id(job)}`).toBe(true);
        for (const w of workloads) expect(healthy.get(job)!.has(w), `${id(w)} before ${id(job)}`).toBe(true);
      }
    });

    it("writes each Secret (its ExternalSecret healthy) before anything that reads it starts", () => {
      const writers = objects.filter((o) => o.kind === "ExternalSecret");
      for (const reader of objects.filter((o) => o.kind !== "ExternalSecret")) {
        for (const ref of secretReferences(reader)) {
          const writer = writers.find((w) => (w.spec as any).target.name === ref.name);
          if (config.secrets.kind === "external-secrets") expect(writer, `${id(reader)} reads ${ref.name}`).toBeDefined();
          if (writer) expect(healthy.get(reader)!.has(writer), `${id(writer)} before ${id(reader)}`).toBe(true);
        }
      }
    });

    it("applies a CR that names a Cluster only once that Cluster is healthy", () => {
      for (const o of objects.filter((x) => (x.spec as any)?.cluster?.name)) {
        const named = objects.find((c) => c.kind === "Cluster" && c.metadata?.name === (o.spec as any).cluster.name);
        expect(named, `${id(o)} names a Cluster of its namespace`).toBeDefined();
        expect(healthy.get(o)!.has(named!), `${id(named!)} before ${id(o)}`).toBe(true);
      }
    });

    it("applies a Strimzi topic or user only once the Kafka it names is healthy", () => {
      for (const o of objects.filter((x) => x.kind === "KafkaTopic" || x.kind === "KafkaUser")) {
        const named = objects.find((k) => k.kind === "Kafka" && k.metadata?.name === (o.metadata as Meta).labels?.["strimzi.io/cluster"]);
        expect(named, `${id(o)} names a Kafka of its namespace`).toBeDefined();
        expect(healthy.get(o)!.has(named!), `${id(named!)} before ${id(o)}`).toBe(true);
      }
    });

    it("ends with the marker wave, so the sync waits for the init Jobs to complete", () => {
      expect(groups.at(-1)!.map(id)).toEqual(["ConfigMap nx-data-layer-synced"]);
      for (const job of jobs) expect(groups.at(-1)).not.toContain(job);
    });
  });

  // What each environment waits for once its workloads are healthy: staging's PostgreSQL is set up
  // by a Job; production's by CloudNativePG, from the CRs that name its Cluster.
  const initialization: Readonly<Record<string, { jobs: string[]; namingCluster: string[] }>> = {
    staging: { jobs: ["nx-debezium-init", "nx-kafka-scram-init", "nx-postgresql-setup", "nx-redis-cluster-init"], namingCluster: [] },
    // Production's SCRAM users are KafkaUsers, applied by Strimzi's user operator (no Job).
    production: {
      jobs: ["nx-debezium-init", "nx-redis-cluster-init"],
      namingCluster: ["Database nx-postgresql-nx-seller-core", "Pooler nx-pgbouncer", "Publication nx-postgresql-nx-debezium", "ScheduledBackup nx-postgresql-daily"],
    },
  };

  it("waits for an init Job of Redis, Kafka and Debezium, and for PostgreSQL's setup Job or the CRs naming its Cluster", () => {
    const all = [...rendered.values()].flat();
    const jobs = all.filter((o) => o.kind === "Job");
    expect(jobs.map((j) => String(j.metadata?.name).replace(/-[0-9a-f]{8}$/, "")).sort()).toEqual(initialization[env]!.jobs);
    expect(all.filter((o) => (o.spec as any)?.cluster?.name === "nx-postgresql").map(id).sort()).toEqual(initialization[env]!.namingCluster);
  });
});

describe("the operators' waves, with every operator (production with a CloudNativePG Cluster that backs up through the plugin)", () => {
  const { rendered, applications } = plan(production);
  const children = applications.filter((a) => a.metadata?.name !== `nx-data-layer-${production.name}`) as unknown as App[];
  // Each object with the namespace whose Application delivers it (a watched Namespace: its operator's).
  const objects = rendered.objects.map((o) => ({
    plain: JSON.parse(JSON.stringify(o.object)) as PlainObject,
    app: o.deliveredWith ?? (o.object.kind === "Namespace" ? o.object.metadata?.name : o.object.metadata?.namespace),
  }));
  const objectsOf = (app: App) => objects.filter((o) => o.app === app.spec.destination.namespace).map((o) => o.plain);
  const waves = Object.fromEntries(children.map((a) => [a.metadata!.name!, waveOf(a)]));
  const reordered = (name: string, wave: number) =>
    children.map((a) => (a.metadata?.name === name ? { ...a, metadata: { ...a.metadata, annotations: { "argocd.argoproj.io/sync-wave": String(wave) } } } : a));

  it("runs the operators' namespaces, then cert-manager, CloudNativePG and External Secrets, then the plugin, then the data", () => {
    expect(syncOrder(children).map((g) => g.map((a) => a.metadata?.name).sort())).toEqual([
      ["production-cert-manager", "production-cnpg-system", "production-external-secrets", "production-strimzi-system"],
      ["cert-manager", "cloudnative-pg", "external-secrets", "strimzi"],
      ["plugin-barman-cloud"],
      ["production-nx-broker", "production-nx-persistent"],
      ["production-nx-search"],
    ]);
    expect(operatorOrderViolations(children, objectsOf)).toEqual([]);
  });

  // Strimzi's chart binds its Roles in the namespace it watches (RoleBindings in nx-broker, chart
  // 1.2.0 templates 020/023/031): Namespace nx-broker must exist before that chart syncs, so it is
  // delivered with the operators' namespaces, not with the nx-broker Application that needs the CRDs.
  it("creates the namespace Strimzi watches before its chart", () => {
    const healthy = healthyBefore(syncOrder(children));
    const chart = children.find((a) => a.spec.source.chart === "strimzi-kafka-operator")!;
    const holdsNamespace = children.filter((a) => !a.spec.source.chart && objectsOf(a).some((o) => o.kind === "Namespace" && o.metadata?.name === "nx-broker"));
    expect(holdsNamespace.length).toBe(1);
    expect(healthy.get(chart)!.has(holdsNamespace[0]!)).toBe(true);
  });

  it("fails when a wave is reordered", () => {
    expect(operatorOrderViolations(reordered("plugin-barman-cloud", waves["cert-manager"]!), objectsOf)).toEqual([
      "plugin-barman-cloud starts before cert-manager is healthy: it needs cert-manager running",
      "plugin-barman-cloud starts before cloudnative-pg is healthy: it needs cloudnative-pg running",
    ]);
    expect(operatorOrderViolations(reordered("external-secrets", waves["production-nx-persistent"]!), objectsOf)).toEqual([
      "production-nx-persistent starts before external-secrets is healthy: its objects need external-secrets's CRDs and controller",
      "production-nx-broker starts before external-secrets is healthy: its objects need external-secrets's CRDs and controller",
    ]);
    expect(operatorOrderViolations(reordered("production-cnpg-system", waves["cloudnative-pg"]!), objectsOf)).toEqual([
      "cloudnative-pg starts before production-cnpg-system is healthy: its namespace (Pod Security labels, NetworkPolicies) comes first",
    ]);
    expect(operatorOrderViolations(reordered("cloudnative-pg", waves["production-nx-persistent"]!), objectsOf)).toEqual([
      "plugin-barman-cloud starts before cloudnative-pg is healthy: it needs cloudnative-pg running",
      "production-nx-persistent starts before cloudnative-pg is healthy: its objects need cloudnative-pg's CRDs and controller",
    ]);
  });
});
