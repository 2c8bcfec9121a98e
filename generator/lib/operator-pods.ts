// Operators' pods: their own (a chart's Deployment, by its selector labels), and those an operator
// runs for a custom resource that holds no pod template: what the network checks and the flow docs
// must see as pods, with the labels and container ports the operator gives them. A CloudNativePG
// Cluster runs one pod per instance (pkg/specs/pods.go, v1.30.0): the primary and the standbys
// differ only in `cnpg.io/instanceRole`. (A Pooler has a pod template: it is read like a
// Deployment's.) Strimzi runs a Kafka's node pools as pods of their own (one per node, labelled
// with the pool's roles: KafkaCluster.java, KafkaPool.java, Labels.java, 1.2.0), and for the Kafka
// itself its entity operator and Cruise Control (EntityOperator.java, CruiseControl.java).
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { Environment } from "../config/types.ts";
import { groupKind } from "./identity.ts";
import type { Pods } from "./network.ts";

export interface OperatorPod {
  /** What the pod is, for messages and docs: `primary`, `replica`. */
  readonly role: string;
  /** How many such pods run. */
  readonly count: number;
  /**
   * The workload they are members of: pods of one workload count together when judging whether it
   * is replicated (a Cluster's primary and standbys), those of another apart (a Kafka's entity
   * operator and its Cruise Control).
   */
  readonly workload: string;
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
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
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

/**
 * The Strimzi cluster operator's pods (its chart's Deployment selects them by these labels, not by
 * `app.kubernetes.io/*`): its own policies let them out, the Kafka pods' let them in.
 */
export const strimziOperator = (env: Environment) => ({
  namespace: env.common.operatorNamespaces.strimzi,
  pods: { matchLabels: { name: "strimzi-cluster-operator", "strimzi.io/kind": "cluster-operator" } },
});

/** The pods Strimzi runs for the Kafka `cluster`, by what they are, as selectors. */
export const strimziPods = (cluster: string) => ({
  controllers: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/controller-role": "true" } },
  brokers: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/broker-role": "true" } },
  /** Every Kafka node, controller or broker. */
  nodes: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/component-type": "kafka" } },
  entityOperator: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/name": `${cluster}-entity-operator` } },
  cruiseControl: { matchLabels: { "strimzi.io/cluster": cluster, "strimzi.io/name": `${cluster}-cruise-control` } },
});

/** Kinds (by group) whose pods an operator builds from its own spec; operatorPodsOf knows each. */
export const operatorPodKinds: ReadonlySet<string> = new Set(["Cluster.postgresql.cnpg.io", "Kafka.kafka.strimzi.io", "KafkaNodePool.kafka.strimzi.io"]);

const tcp = (name: string, containerPort: number) => ({ name, containerPort, protocol: "TCP" as const });
/** A node's ports by role: KRaft (controlplane), replication (brokers, Strimzi's own components), clients, the Kafka agent. */
const nodePorts = { controller: [tcp("tcp-ctrlplane", 9090), tcp("tcp-kafkaagent", 8443)], broker: [tcp("tcp-replication", 9091), tcp("tcp-clients", 9092), tcp("tcp-kafkaagent", 8443)] };

/** A KafkaNodePool's pods, labelled as Strimzi labels them (the pool's own `strimzi.io/cluster` names the Kafka). */
function nodePoolPods(o: ClusterLike): OperatorPod[] {
  const spec = (o.spec ?? {}) as { replicas?: number; roles?: string[]; template?: { pod?: Pick<IPodSpec, "affinity" | "topologySpreadConstraints"> } };
  const pod = spec.template?.pod ?? {};
  const cluster = o.metadata?.labels?.["strimzi.io/cluster"] ?? "";
  const roles = spec.roles ?? [];
  const has = (r: string) => String(roles.includes(r));
  return [{
    role: roles.join("+"),
    count: spec.replicas ?? 0,
    workload: o.metadata?.name ?? "",
    labels: {
      "strimzi.io/cluster": cluster,
      "strimzi.io/kind": "Kafka",
      "strimzi.io/name": `${cluster}-kafka`,
      "strimzi.io/pool-name": o.metadata?.name ?? "",
      "strimzi.io/component-type": "kafka",
      "strimzi.io/controller-role": has("controller"),
      "strimzi.io/broker-role": has("broker"),
      "app.kubernetes.io/name": "kafka",
    },
    ports: [...new Map(roles.flatMap((r) => nodePorts[r as keyof typeof nodePorts] ?? []).map((p) => [p.containerPort, p])).values()],
    placement: { ...(pod.affinity ? { affinity: pod.affinity } : {}), ...(pod.topologySpreadConstraints ? { topologySpreadConstraints: pod.topologySpreadConstraints } : {}) },
    // Strimzi keeps one budget over every node of the Kafka, whatever its pool (KafkaCluster.java).
    disruptionBudget: `${cluster}-kafka`,
  }];
}

/** A Kafka's own pods besides its nodes: the entity operator (topic and user operators) and Cruise Control, where it has them. */
function kafkaPods(o: ClusterLike): OperatorPod[] {
  const cluster = o.metadata?.name ?? "";
  const spec = (o.spec ?? {}) as { entityOperator?: unknown; cruiseControl?: unknown };
  const pod = (what: string, componentType: string, ports: OperatorPod["ports"]): OperatorPod => ({
    role: what,
    count: 1,
    workload: `${cluster}-${what}`,
    labels: { "strimzi.io/cluster": cluster, "strimzi.io/kind": "Kafka", "strimzi.io/name": `${cluster}-${what}`, "strimzi.io/component-type": componentType },
    ports,
    // One pod: nothing to spread.
    placement: {},
  });
  return [
    ...(spec.entityOperator ? [pod("entity-operator", "entity-operator", [tcp("healthcheck", 8080), tcp("uo-healthcheck", 8081)])] : []),
    ...(spec.cruiseControl ? [pod("cruise-control", "cruise-control", [tcp("rest-api", 9090)])] : []),
  ];
}

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
  const kind = groupKind(o);
  if (!operatorPodKinds.has(kind)) return [];
  if (kind === "KafkaNodePool.kafka.strimzi.io") return nodePoolPods(o);
  if (kind === "Kafka.kafka.strimzi.io") return kafkaPods(o);
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
    { role: "primary", count: 1, workload: name, labels: labels("primary"), ports: instancePorts, placement, ...(pdbs ? { disruptionBudget: `${name}-primary` } : {}) },
    ...(instances > 1
      ? [{ role: "replica", count: instances - 1, workload: name, labels: labels("replica"), ports: instancePorts, placement, ...(pdbs && instances >= 3 ? { disruptionBudget: name } : {}) }]
      : []),
  ];
}
