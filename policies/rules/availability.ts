// What keeps a replicated workload up through a drain, a lost host and a lost zone: a
// PodDisruptionBudget over its pods, no two of them on one host, and a spread over zones. Judged on
// the pods each manifest keeps running (engine servingPodsOf): a pod template times its replicas,
// or the pods an operator runs for its resource with the placement it writes into them and the
// budget it keeps itself (generator/lib/operator-pods.ts), so a new workload kind is covered once
// its pods are modelled, not by a list here.
import { namespaceOf } from "../../generator/lib/identity.ts";
import { type LabelSelector, selectsPod } from "../../generator/lib/reachability.ts";
import { type Manifest, type Rule, type RuleContext, type ServingPods, servingPodsOf } from "../engine.ts";

const hostname = "kubernetes.io/hostname";
const zone = "topology.kubernetes.io/zone";

interface SpreadConstraint {
  readonly topologyKey?: string;
  readonly whenUnsatisfiable?: string;
  readonly labelSelector?: LabelSelector;
}
interface AffinityTerm {
  readonly topologyKey?: string;
  readonly labelSelector?: LabelSelector;
  readonly namespaces?: readonly string[];
  readonly namespaceSelector?: LabelSelector;
}

/** The pods of a manifest's workloads that keep more than one pod running. */
function replicated(m: Manifest): ServingPods[] {
  const pods = servingPodsOf(m);
  const members = (workload: string) => pods.filter((p) => p.workload === workload).reduce((sum, p) => sum + p.count, 0);
  return pods.filter((p) => members(p.workload) > 1);
}

/** A term or constraint counts only when it is about these very pods (its selector selects them). */
const aboutThem = (selector: LabelSelector | undefined, pods: ServingPods) => selector !== undefined && selectsPod(selector, pods.labels);

const spreads = (pods: ServingPods): readonly SpreadConstraint[] => (pods.placement.topologySpreadConstraints ?? []) as SpreadConstraint[];

function apartOnHosts(pods: ServingPods): boolean {
  const required = ((pods.placement.affinity as { podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: AffinityTerm[] } } | undefined)
    ?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []);
  // A term that names other namespaces may not be about these pods' own.
  const antiAffinity = required.some((t) => t.topologyKey === hostname && !t.namespaces && !t.namespaceSelector && aboutThem(t.labelSelector, pods));
  const hardSpread = spreads(pods).some((c) => c.topologyKey === hostname && c.whenUnsatisfiable === "DoNotSchedule" && aboutThem(c.labelSelector, pods));
  return antiAffinity || hardSpread;
}

const overZones = (pods: ServingPods) => spreads(pods).some((c) => c.topologyKey === zone && aboutThem(c.labelSelector, pods));

function budgetsOver(pods: ServingPods, namespace: string, context: RuleContext): string[] {
  if (pods.operatorBudget) return [pods.operatorBudget];
  return context.all
    .map((s) => s.manifest)
    .filter((b) => b.kind === "PodDisruptionBudget" && namespaceOf(b) === namespace)
    .filter((b) => {
      const selector = (b.spec as { selector?: LabelSelector } | undefined)?.selector;
      // policy/v1: no selector selects no pod.
      return selector !== undefined && selectsPod(selector, pods.labels);
    })
    .map((b) => b.metadata?.name ?? "");
}

export const availabilityRules: Rule[] = [
  {
    id: "availability/disruption-budget",
    severity: "error",
    description: "Every workload with more than one pod has a PodDisruptionBudget selecting its pods (its own, or one its operator keeps).",
    fix: "render a PodDisruptionBudget whose selector matches the pod labels (generator/lib/objects.ts podDisruptionBudget), or leave the operator's own on",
    check: (m, context) =>
      replicated(m)
        .filter((pods) => budgetsOver(pods, namespaceOf(m), context).length === 0)
        .map((pods) => ({ path: pods.path, message: `${pods.what}: ${pods.count} pod(s) that no PodDisruptionBudget selects: a drain may evict them all at once` })),
  },
  {
    id: "availability/spread",
    severity: "error",
    description: `Every workload with more than one pod keeps its pods on different hosts (required anti-affinity or a DoNotSchedule spread on ${hostname}) and spreads them over zones (a topology spread on ${zone}).`,
    fix: "give the pod template required podAntiAffinity on kubernetes.io/hostname (or a DoNotSchedule hostname spread) and a topologySpreadConstraint on topology.kubernetes.io/zone, both selecting its own pods",
    check: (m) =>
      replicated(m).flatMap((pods) => [
        ...(apartOnHosts(pods) ? [] : [{
          path: `${pods.path}.affinity`,
          message: `${pods.what}: nothing keeps two of its pods off one host (required anti-affinity or a DoNotSchedule spread on ${hostname}, selecting them)`,
        }]),
        ...(overZones(pods) ? [] : [{
          path: `${pods.path}.topologySpreadConstraints`,
          message: `${pods.what}: no topology spread on ${zone} selects its pods: one zone may hold them all`,
        }]),
      ]),
  },
];
