// Operators' pods: their own (a chart's Deployment, by its selector labels), and those an operator
// runs for a custom resource that holds no pod template: what the network checks and the flow docs
// must see as pods, with the labels and container ports the operator gives them. A CloudNativePG
// Cluster runs one pod per instance (pkg/specs/pods.go, v1.30.0): the primary and the standbys
// differ only in `cnpg.io/instanceRole`. (A Pooler has a pod template: it is read like a
// Deployment's.)
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

/** The pods of an operator's resource, or [] for any other kind. */
export function operatorPodsOf(o: ClusterLike): OperatorPod[] {
  if (!operatorPodKinds.has(groupKind(o))) return [];
  const name = o.metadata?.name ?? "";
  const instances = (o.spec as { instances?: number } | undefined)?.instances ?? 1;
  const labels = (instanceRole: string) => ({
    "cnpg.io/cluster": name,
    "cnpg.io/podRole": "instance",
    "cnpg.io/instanceRole": instanceRole,
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/component": "database",
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/managed-by": "cloudnative-pg",
  });
  return [
    { role: "primary", count: 1, labels: labels("primary"), ports: instancePorts },
    ...(instances > 1 ? [{ role: "replica", count: instances - 1, labels: labels("replica"), ports: instancePorts }] : []),
  ];
}
