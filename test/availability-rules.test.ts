// The availability rules: every workload with more than one pod has a PodDisruptionBudget over its
// pods (its own or its operator's) and keeps them on different hosts and spread over zones. Both
// environments pass as rendered; fixtures and edits of production's overlay that break each part
// fail, naming the object, the kind of pod and the field.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Manifest, runPolicies, type Source } from "../policies/engine.ts";
import { availabilityRules } from "../policies/rules/availability.ts";
import { loadSources } from "../policies/sources.ts";

const repo = join(import.meta.dirname, "..");
const staging = loadSources(repo, ["overlays/staging"]);
const production = loadSources(repo, ["overlays/production"]);

const findings = (sources: readonly Source[]) =>
  runPolicies(availabilityRules, sources, []).findings.map((f) => `${f.rule} ${f.object} ${f.path}: ${f.message}`);
const source = (manifest: Manifest): Source => ({ manifest, file: "fixture.yaml", via: "overlays/staging" });
const fixtures = (...manifests: Manifest[]) => findings(manifests.map(source));

/** Production's overlay with one manifest changed (or removed, when `change` returns undefined). */
function productionWith(kind: string, name: string, change: (m: any) => Manifest | undefined): Source[] {
  let found = false;
  const edited = production.flatMap((s) => {
    if (s.manifest.kind !== kind || s.manifest.metadata?.name !== name) return [s];
    found = true;
    const m = change(structuredClone(s.manifest));
    return m ? [{ ...s, manifest: m }] : [];
  });
  if (!found) throw new Error(`production renders no ${kind} ${name}`);
  return edited;
}

const ns = "nx-broker";
const labels = { "app.kubernetes.io/name": "db", "app.kubernetes.io/component": "server" };
const selectsThem = { matchLabels: labels };
const apartOnHosts = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selectsThem, topologyKey: "kubernetes.io/hostname" }] } };
const overZones = [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selectsThem }];

function workload(kind: "Deployment" | "StatefulSet", replicas: number | undefined, pod: Record<string, unknown> = { affinity: apartOnHosts, topologySpreadConstraints: overZones }): Manifest {
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name: "db", namespace: ns },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: selectsThem,
      template: { metadata: { labels }, spec: { containers: [{ name: "db", image: "db:1" }], ...pod } },
    },
  };
}
const budget = (namespace = ns, selector: unknown = selectsThem): Manifest => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: "db", namespace },
  spec: { maxUnavailable: 1, ...(selector ? { selector } : {}) },
});

describe("availability rules on the rendered environments", () => {
  it("pass on staging and production as rendered", () => {
    expect(findings([...staging, ...production])).toEqual([]);
  });

  it("judge production's replicated workloads: its own PDBs and placement, and CloudNativePG's", () => {
    expect(findings(productionWith("PodDisruptionBudget", "nx-typesense", () => undefined))).toEqual([
      "availability/disruption-budget StatefulSet nx-search/nx-typesense spec.template.spec: StatefulSet nx-search/nx-typesense: 3 pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once",
    ]);
    expect(findings(productionWith("PodDisruptionBudget", "nx-pgbouncer", () => undefined))).toEqual([
      "availability/disruption-budget Pooler nx-persistent/nx-pgbouncer spec.template.spec: Pooler nx-persistent/nx-pgbouncer: 2 pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once",
    ]);
    expect(findings(productionWith("StatefulSet", "nx-typesense", (m) => {
      delete m.spec.template.spec.affinity;
      return m;
    }))).toEqual([
      "availability/spread StatefulSet nx-search/nx-typesense spec.template.spec.affinity: StatefulSet nx-search/nx-typesense: nothing keeps two of its pods off one host (required anti-affinity or a DoNotSchedule spread on kubernetes.io/hostname, selecting them)",
    ]);
  });

  it("count CloudNativePG's own budgets while enablePDB is on, and its anti-affinity only when required", () => {
    expect(findings(productionWith("Cluster", "nx-postgresql", (m) => ({ ...m, spec: { ...m.spec, enablePDB: false } })))).toEqual([
      "availability/disruption-budget Cluster nx-persistent/nx-postgresql spec: Cluster nx-persistent/nx-postgresql (primary): 1 pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once",
      "availability/disruption-budget Cluster nx-persistent/nx-postgresql spec: Cluster nx-persistent/nx-postgresql (replica): 2 pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once",
    ]);
    // Two instances: the operator keeps no budget over the one standby (instances < 3).
    expect(findings(productionWith("Cluster", "nx-postgresql", (m) => ({ ...m, spec: { ...m.spec, instances: 2 } })))).toEqual([
      "availability/disruption-budget Cluster nx-persistent/nx-postgresql spec: Cluster nx-persistent/nx-postgresql (replica): 1 pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once",
    ]);
    const preferred = findings(productionWith("Cluster", "nx-postgresql", (m) => ({ ...m, spec: { ...m.spec, affinity: { ...m.spec.affinity, podAntiAffinityType: "preferred" } } })));
    expect(preferred).toEqual(["primary", "replica"].map((role) =>
      `availability/spread Cluster nx-persistent/nx-postgresql spec.affinity: Cluster nx-persistent/nx-postgresql (${role}): nothing keeps two of its pods off one host (required anti-affinity or a DoNotSchedule spread on kubernetes.io/hostname, selecting them)`));
  });
});

describe("availability rules on fixtures", () => {
  it("pass a replicated workload with a budget, required anti-affinity and a zone spread", () => {
    expect(fixtures(workload("StatefulSet", 3), budget())).toEqual([]);
  });

  it("pass over a workload of one pod, however it is placed", () => {
    expect(fixtures(workload("Deployment", 1, {}), workload("StatefulSet", undefined, {}))).toEqual([]);
  });

  it("fail a replicated Deployment with no budget and no placement, on every count", () => {
    expect(fixtures(workload("Deployment", 2, {}))).toEqual([
      "availability/disruption-budget Deployment nx-broker/db spec.template.spec: Deployment nx-broker/db: 2 pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once",
      "availability/spread Deployment nx-broker/db spec.template.spec.affinity: Deployment nx-broker/db: nothing keeps two of its pods off one host (required anti-affinity or a DoNotSchedule spread on kubernetes.io/hostname, selecting them)",
      "availability/spread Deployment nx-broker/db spec.template.spec.topologySpreadConstraints: Deployment nx-broker/db: no topology spread on topology.kubernetes.io/zone selects its pods: one zone may hold them all",
    ]);
  });

  it.each<[string, Manifest]>([
    ["in another namespace", budget("nx-search")],
    ["selecting other pods", budget(ns, { matchLabels: { "app.kubernetes.io/name": "other" } })],
    ["with no selector (selects nothing)", budget(ns, null)],
  ])("fail a budget %s", (_what, pdb) => {
    expect(fixtures(workload("StatefulSet", 3), pdb)).toEqual([
      expect.stringContaining("availability/disruption-budget StatefulSet nx-broker/db spec.template.spec:"),
    ]);
  });

  it("accept a DoNotSchedule hostname spread instead of anti-affinity", () => {
    const hostSpread = { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: selectsThem };
    expect(fixtures(workload("StatefulSet", 3, { topologySpreadConstraints: [hostSpread, ...overZones] }), budget())).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ["preferred anti-affinity only", { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: selectsThem, topologyKey: "kubernetes.io/hostname" } }] } }],
    ["required anti-affinity against other pods", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "other" } }, topologyKey: "kubernetes.io/hostname" }] } }],
    ["required anti-affinity on zones, not hosts", { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selectsThem, topologyKey: "topology.kubernetes.io/zone" }] } }],
  ])("fail %s as host separation", (_what, affinity) => {
    expect(fixtures(workload("StatefulSet", 3, { affinity, topologySpreadConstraints: overZones }), budget())).toEqual([
      expect.stringContaining("availability/spread StatefulSet nx-broker/db spec.template.spec.affinity:"),
    ]);
  });

  it("fail a soft hostname spread, and a zone spread over other pods", () => {
    const softHosts = { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selectsThem };
    const zonesOfOthers = { ...overZones[0], labelSelector: { matchLabels: { app: "other" } } };
    expect(fixtures(workload("StatefulSet", 3, { topologySpreadConstraints: [softHosts, zonesOfOthers] }), budget())).toEqual([
      expect.stringContaining("spec.template.spec.affinity: StatefulSet nx-broker/db: nothing keeps two of its pods off one host"),
      expect.stringContaining("spec.template.spec.topologySpreadConstraints: StatefulSet nx-broker/db: no topology spread on topology.kubernetes.io/zone"),
    ]);
  });
});
