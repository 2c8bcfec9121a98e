// Argo CD's documented sync ordering, applied to what each environment really renders: tasks run
// by phase, then sync wave, then kind, then name, and a wave starts only once every object of the
// previous waves is healthy. Over every Application of every environment (kustomize-built from the
// paths the Applications name), the order must be: namespace setup, then Services and workloads,
// then each init Job strictly after the workload it initializes is healthy; and between
// Applications, nx-search only after nx-persistent and nx-broker are healthy.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environments } from "../generator/config/environments.ts";
import { kustomizeBuild, type PlainObject } from "./support/repo.ts";

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

describe.each(environments.map((e) => e.name))("sync order of %s", (env) => {
  const root = kustomizeBuild(join(repo, "argocd", env, "apps"));
  const applications = root.filter((o) => o.kind === "Application");
  const rendered = new Map(
    applications.map((app) => [app.metadata!.name!, kustomizeBuild(join(repo, (app.spec as any).source.path))] as const),
  );

  it("renders one Application per namespace, each from a path that builds", () => {
    expect(applications.map((a) => (a.spec as any).destination.namespace).sort()).toEqual(["nx-broker", "nx-persistent", "nx-search"]);
    for (const objects of rendered.values()) expect(objects.length).toBeGreaterThan(0);
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
    const app = (ns: string) => applications.find((a) => (a.spec as any).destination.namespace === ns)!;
    const before = healthy.get(app("nx-search"))!;
    expect(before.has(app("nx-persistent"))).toBe(true);
    expect(before.has(app("nx-broker"))).toBe(true);
  });

  describe.each(["nx-persistent", "nx-broker", "nx-search"])("inside %s", (namespace) => {
    const app = applications.find((a) => (a.spec as any).destination.namespace === namespace)!;
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

    it("ends with the marker wave, so the sync waits for the init Jobs to complete", () => {
      expect(groups.at(-1)!.map(id)).toEqual(["ConfigMap nx-data-layer-synced"]);
      for (const job of jobs) expect(groups.at(-1)).not.toContain(job);
    });
  });

  it("has an init Job for PostgreSQL, Redis, Kafka and Debezium", () => {
    const jobs = [...rendered.values()].flat().filter((o) => o.kind === "Job");
    expect(jobs.map((j) => String(j.metadata?.name).replace(/-[0-9a-f]{8}$/, "")).sort()).toEqual([
      "nx-debezium-init",
      "nx-kafka-scram-init",
      "nx-postgresql-setup",
      "nx-redis-cluster-init",
    ]);
  });
});
