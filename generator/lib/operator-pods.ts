// Operators' pods: their own (a chart's Deployment, by its selector labels), and those an operator
// runs for a custom resource that holds no pod template: what the network checks and the flow docs
// must see as pods, with the labels and container ports the operator gives them. A CloudNativePG
// Cluster runs one pod per instance (pkg/specs/pods.go, v1.30.0): the primary and the standbys
// differ only in `cnpg.io/instanceRole`. (A Pooler has a pod template: it is read like a
// Deployment's.)
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { Environment } from "../config/types.ts";
import { groupKind } from "./identity.ts";
import type { Pods } from "./network.ts";

export interface OperatorPod {
  /** What the pod is, for messages and docs: `primary`, `replica`. */
  readonly role: string;
  /** How many such pods run. */
  readonly count: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name: string; readonly containerPort: number; readonly protocol: "TCP" }[];
  /** The affinity and topology spread the operator writes into each of these pods. */
  readonly placement: Pick<IPodSpec, "affinity" | "topologySpreadConstraints">;
  /** The PodDisruptionBudget the operator itself keeps over these pods (its name), if it keeps one. */
  readonly disruptionBudget?: string;
}
interface ClusterLike {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string };
  readonly spec?: unknown;
}

/** A chart's own pods, as its Deployment selects them: `app.kubernetes.io/name` and `/instance: <release>`. */
export const chartPods = (name: string, release: string): Pods => ({
  matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release },
});

/**
 * The CloudNativePG operator's pods (its chart's release `cloudnative-pg`), where config installs
 * it: its own policies let them out, the instances' let them in, with this one selector.
 */
export const cloudNativePgOperator = (env: Environment) => ({ namespace: env.common.operatorNamespaces.cloudnativePg, pods: chartPods("cloudnative-pg", "cloudnative-pg") });

/** Kinds (by group) whose pods an operator builds from its own spec; operatorPodsOf knows each. */
export const operatorPodKinds: ReadonlySet<string> = new Set(["Cluster.postgresql.cnpg.io"]);

const instancePorts = [
  { name: "postgresql", containerPort: 5432, protocol: "TCP" as const },
  { name: "metrics", containerPort: 9187, protocol: "TCP" as const },
  { name: "status", containerPort: 8000, protocol: "TCP" as const },
];

interface ClusterSpec {
  readonly instances?: number;
  readonly enablePDB?: boolean;
  readonly affinity?: {
    readonly enablePodAntiAffinity?: boolean;
    readonly podAntiAffinityType?: string;
    readonly topologyKey?: string;
  };
  readonly topologySpreadConstraints?: IPodSpec["topologySpreadConstraints"];
}

/**
 * The anti-affinity CloudNativePG writes into every instance pod (pkg/specs/pods.go
 * CreateGeneratedAntiAffinity, v1.30.0): against the Cluster's other instances, on `topologyKey`
 * (default the hostname), `preferred` unless the Cluster says `required` (api/v1/cluster_defaults.go).
 */
function instanceAffinity(name: string, affinity: ClusterSpec["affinity"] = {}): IPodSpec["affinity"] {
  if (affinity.enablePodAntiAffinity === false) return undefined;
  const term = {
    labelSelector: {
      matchExpressions: [
        { key: "cnpg.io/cluster", operator: "In", values: [name] },
        { key: "cnpg.io/podRole", operator: "In", values: ["instance"] },
      ],
    },
    topologyKey: affinity.topologyKey || "kubernetes.io/hostname",
  };
  return (affinity.podAntiAffinityType ?? "preferred") === "required"
    ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }
    : { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] } };
}

/** The pods of an operator's resource, or [] for any other kind. */
export function operatorPodsOf(o: ClusterLike): OperatorPod[] {
  if (!operatorPodKinds.has(groupKind(o))) return [];
  const name = o.metadata?.name ?? "";
  const spec = (o.spec ?? {}) as ClusterSpec;
  const instances = spec.instances ?? 1;
  const labels = (instanceRole: string) => ({
    "cnpg.io/cluster": name,
    "cnpg.io/podRole": "instance",
    "cnpg.io/instanceRole": instanceRole,
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/component": "database",
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/managed-by": "cloudnative-pg",
  });
  const placement = {
    affinity: instanceAffinity(name, spec.affinity),
    ...(spec.topologySpreadConstraints ? { topologySpreadConstraints: spec.topologySpreadConstraints } : {}),
  };
  // With enablePDB (the default) the operator keeps `<cluster>-primary` (minAvailable 1) over the
  // primary and, from 3 instances on, `<cluster>` (minAvailable instances - 2) over the standbys
  // (internal/controller/cluster_create.go reconcilePodDisruptionBudget, pkg/specs/poddisruptionbudget.go).
  const pdbs = spec.enablePDB !== false;
  return [
    { role: "primary", count: 1, labels: labels("primary"), ports: instancePorts, placement, ...(pdbs ? { disruptionBudget: `${name}-primary` } : {}) },
    ...(instances > 1
      ? [{ role: "replica", count: instances - 1, labels: labels("replica"), ports: instancePorts, placement, ...(pdbs && instances >= 3 ? { disruptionBudget: name } : {}) }]
      : []),
  ];
}
