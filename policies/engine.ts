import { groupKind } from "../generator/lib/identity.ts";
import { operatorPodsOf } from "../generator/lib/operator-pods.ts";

// Policy-as-code over rendered manifests: named rules, each with an id (`family/name`), a
// severity, what it requires and how to fix a violation. Exceptions are data (policies/
// exceptions.yaml: object, rule, reason), never a silent skip; an exception that no longer
// matches anything is itself reported, so the list cannot rot.

export type Severity = "error" | "warning";

/** A rendered Kubernetes object, as parsed from YAML. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** A manifest and where it came from: the YAML file that defines it, and the kustomization built. */
export interface Source {
  readonly manifest: Manifest;
  readonly file: string;
  /** The kustomization folder it was rendered through (`overlays/staging`), when it was built. */
  readonly via?: string;
}

/**
 * The environment a manifest belongs to, from where it was built or read (`overlays/<env>`,
 * `argocd/<env>`, `backend/<env>`); undefined for a file of no environment (base/, a loose file).
 */
export function environmentOf(source: Source): string | undefined {
  return (source.via ?? source.file).match(/^(?:overlays|argocd|backend)\/([^/]+)/)?.[1];
}

/** One breach of a rule by one object, at one field (`spec.template.spec.containers[0].image`). */
export interface Violation {
  readonly path: string;
  /** Specific to this breach; the rule's description when absent. */
  readonly message?: string;
}

export interface RuleContext {
  /** Every manifest of one environment being checked, for rules that look across objects. */
  readonly all: readonly Source[];
  /** Their environment (environmentOf); undefined for manifests of no environment. */
  readonly environment?: string;
}

export interface Rule {
  /** `family/name`, e.g. `pod-security/run-as-non-root`. */
  readonly id: string;
  readonly severity: Severity;
  /** What the rule requires, in one sentence. */
  readonly description: string;
  /** How to fix a violation. */
  readonly fix: string;
  /** Checks one manifest. */
  readonly check?: (manifest: Manifest, context: RuleContext) => readonly Violation[];
  /** Checks the whole set at once; each violation names the object it is about. */
  readonly checkAll?: (context: RuleContext) => readonly (Violation & { readonly source: Source })[];
}

export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  /** `Kind namespace/name` */
  readonly object: string;
  readonly file: string;
  readonly via?: string;
  readonly path: string;
  readonly message: string;
  readonly fix: string;
}

export function familyOf(ruleId: string): string {
  return ruleId.split("/")[0] ?? ruleId;
}

export function objectName(m: Manifest): string {
  const ns = m.metadata?.namespace;
  return `${m.kind} ${ns ? `${ns}/` : ""}${m.metadata?.name ?? "(unnamed)"}`;
}

/** A pod spec inside a manifest, with the path it sits at. */
export interface PodSpecAt {
  readonly spec: PodSpec;
  /** `spec` for a Pod, `spec.template.spec` for a Deployment, ... */
  readonly path: string;
  /** The pod's own metadata (a template's), for annotations and labels. */
  readonly metadata: Manifest["metadata"];
}

export interface Container {
  readonly name?: string;
  readonly image?: string;
  readonly [field: string]: unknown;
}

export interface PodSpec {
  readonly containers?: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly ephemeralContainers?: readonly Container[];
  readonly [field: string]: unknown;
}

/** Where each pod-owning kind (by group and kind: `Job.batch`, never another group's Job) keeps its pod spec. */
const podSpecPaths: ReadonlyMap<string, readonly string[]> = new Map([
  ["Pod", ["spec"]],
  ["PodTemplate", ["template", "spec"]],
  ["ReplicationController", ["spec", "template", "spec"]],
  ...["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].map((k): [string, string[]] => [`${k}.apps`, ["spec", "template", "spec"]]),
  ["Job.batch", ["spec", "template", "spec"]],
  ["CronJob.batch", ["spec", "jobTemplate", "spec", "template", "spec"]],
  // A CloudNativePG Pooler runs a Deployment of its `spec.template` (the operator adds to it).
  ["Pooler.postgresql.cnpg.io", ["spec", "template", "spec"]],
]);

/** Kinds that run pods, whose pod spec podSpecOf finds (and `kinds/pod-spec` requires). */
export const podKinds: ReadonlySet<string> = new Set(podSpecPaths.keys());

/**
 * Kinds whose pods an operator builds from its own fields, with no pod template to judge: the
 * network rules see their pods through operatorPodsOf (generator/lib/operator-pods.ts); the pod
 * rules cannot, and the operator runs them restricted (CloudNativePG docs/src/security.md; Strimzi
 * under STRIMZI_POD_SECURITY_PROVIDER_CLASS=restricted, docs/operators.md).
 */
export { operatorPodKinds } from "../generator/lib/operator-pods.ts";

/**
 * Kinds known to run no pod of their own, by group and kind, so the pod rules may pass over them.
 * A kind in neither set is an error (`kinds/known`): an operator's resource may run pods the rules
 * would never see.
 */
export const podlessKinds: ReadonlySet<string> = new Set([
  "Namespace",
  "Service",
  "ConfigMap",
  "Secret",
  "ServiceAccount",
  "PersistentVolumeClaim",
  "NetworkPolicy.networking.k8s.io",
  "PodDisruptionBudget.policy",
  ...["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"].map((k) => `${k}.rbac.authorization.k8s.io`),
  "CustomResourceDefinition.apiextensions.k8s.io",
  "Application.argoproj.io",
  "AppProject.argoproj.io",
  // The External Secrets Operator writes a Secret from it; it runs nothing.
  "ExternalSecret.external-secrets.io",
  // What CloudNativePG acts on inside a Cluster's pods (a database, a publication, a backup schedule)
  // and the Barman Cloud plugin's store: none runs a pod of its own.
  "Database.postgresql.cnpg.io",
  "Publication.postgresql.cnpg.io",
  "ScheduledBackup.postgresql.cnpg.io",
  "ObjectStore.barmancloud.cnpg.io",
  // Strimzi's: the entity operator applies them to their Kafka; they run nothing of their own.
  "KafkaTopic.kafka.strimzi.io",
  "KafkaUser.kafka.strimzi.io",
]);

/** The pod spec of a pod-owning kind, or undefined (for such a kind, `kinds/pod-spec` reports it). */
export function podSpecOf(m: Manifest): PodSpecAt | undefined {
  const path = podSpecPaths.get(groupKind(m));
  if (!path) return undefined;
  const spec = path.reduce<any>((at, key) => (at !== null && typeof at === "object" ? at[key] : undefined), m);
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return undefined;
  const template = path.length > 1 ? path.slice(0, -1).reduce<any>((at, key) => at[key], m) : undefined;
  return { spec, path: path.join("."), metadata: template ? template.metadata : m.metadata };
}

/**
 * Where a kind that keeps copies of one pod template running says how many (absent: 1). Jobs finish
 * and a DaemonSet runs one pod per node by design: neither is a replicated workload.
 */
const replicaFields: ReadonlyMap<string, string> = new Map([
  ...["Deployment", "StatefulSet", "ReplicaSet"].map((k): [string, string] => [`${k}.apps`, "replicas"]),
  ["ReplicationController", "replicas"],
  ["Pooler.postgresql.cnpg.io", "instances"],
]);

/** One kind of pod a workload keeps running: how many, their labels, and where they may be scheduled. */
export interface ServingPods {
  /** `Cluster nx-persistent/pg (replica)`, for messages. */
  readonly what: string;
  readonly count: number;
  /** The workload the pods are members of (generator/lib/operator-pods.ts): members count together. */
  readonly workload: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The container ports the operator gives these pods (a pod template's are read from its containers). */
  readonly ports?: readonly { readonly name: string; readonly containerPort: number }[];
  readonly placement: { readonly affinity?: unknown; readonly topologySpreadConstraints?: readonly unknown[] };
  /** Where the placement sits in the manifest (`spec.template.spec`, or `spec` for an operator's resource). */
  readonly path: string;
  /** A PodDisruptionBudget the operator keeps over these pods itself (its name), never rendered. */
  readonly operatorBudget?: string;
}

/**
 * The pods a manifest keeps running: its pod template times its replicas, or each kind of pod an
 * operator runs for it (generator/lib/operator-pods.ts); [] for anything else.
 */
export function servingPodsOf(m: Manifest): ServingPods[] {
  const field = replicaFields.get(groupKind(m));
  const pod = field ? podSpecOf(m) : undefined;
  if (field && pod) {
    const count = (m.spec as Record<string, unknown> | undefined)?.[field];
    return [{
      what: objectName(m),
      count: typeof count === "number" ? count : 1,
      workload: objectName(m),
      labels: { ...pod.metadata?.labels },
      placement: pod.spec as ServingPods["placement"],
      path: pod.path,
    }];
  }
  return operatorPodsOf(m).map((p) => ({
    what: `${objectName(m)} (${p.role})`,
    count: p.count,
    workload: p.workload,
    labels: p.labels,
    ports: p.ports,
    placement: p.placement,
    path: "spec",
    ...(p.disruptionBudget ? { operatorBudget: p.disruptionBudget } : {}),
  }));
}

/** Every container of a pod (init, regular and ephemeral), with its path. */
export function containersOf(pod: PodSpecAt): { container: Container; path: string; kind: "initContainers" | "containers" | "ephemeralContainers" }[] {
  return (["initContainers", "containers", "ephemeralContainers"] as const).flatMap((kind) =>
    (pod.spec[kind] ?? []).map((container, i) => ({ container, path: `${pod.path}.${kind}[${i}]`, kind })),
  );
}

/** The containers of a manifest's pods (none when it runs no pods), each with its path. */
export function containersOfManifest(m: Manifest): ReturnType<typeof containersOf> {
  const pod = podSpecOf(m);
  return pod ? containersOf(pod) : [];
}

export interface Exception {
  /** `Kind namespace/name`, as findings name objects. */
  readonly object: string;
  readonly rule: string;
  readonly reason: string;
  /** Only in this environment (its object is built otherwise elsewhere); every environment when absent. */
  readonly environment?: string;
}

export interface PolicyReport {
  readonly findings: readonly Finding[];
  /** Findings an exception covers, with its reason: reported, but not failing. */
  readonly excepted: readonly (Finding & { readonly reason: string })[];
  /** Exceptions that matched nothing in this run. */
  readonly unusedExceptions: readonly Exception[];
}

/**
 * Runs every rule over every source, each environment's manifests apart (one environment's
 * NetworkPolicies say nothing of another's pods); applies the exceptions.
 */
export function runPolicies(rules: readonly Rule[], sources: readonly Source[], exceptions: readonly Exception[]): PolicyReport {
  const byEnvironment = new Map<string | undefined, Source[]>();
  for (const source of sources) {
    const environment = environmentOf(source);
    byEnvironment.set(environment, [...(byEnvironment.get(environment) ?? []), source]);
  }
  const contexts: RuleContext[] = [...byEnvironment].map(([environment, all]) => (environment === undefined ? { all } : { all, environment }));
  // Each finding with its environment, which an exception of one environment must match.
  const raw: (Finding & { readonly environment?: string | undefined })[] = [];
  const finding = (rule: Rule, source: Source, v: Violation): Finding & { readonly environment?: string | undefined } => ({
    environment: environmentOf(source),
    rule: rule.id,
    severity: rule.severity,
    object: objectName(source.manifest),
    file: source.file,
    ...(source.via ? { via: source.via } : {}),
    path: v.path,
    message: v.message ?? rule.description,
    fix: rule.fix,
  });
  for (const context of contexts) {
    for (const rule of rules) {
      if (rule.check) {
        for (const source of context.all) for (const v of rule.check(source.manifest, context)) raw.push(finding(rule, source, v));
      }
      if (rule.checkAll) for (const v of rule.checkAll(context)) raw.push(finding(rule, v.source, v));
    }
  }
  const used = new Set<Exception>();
  const findings: Finding[] = [];
  const excepted: (Finding & { reason: string })[] = [];
  const inScope = (e: Exception, environment: string | undefined) => e.environment === undefined || e.environment === environment;
  for (const { environment, ...f } of raw) {
    const exception = exceptions.find((e) => e.rule === f.rule && e.object === f.object && inScope(e, environment));
    if (exception) {
      used.add(exception);
      excepted.push({ ...f, reason: exception.reason });
    } else {
      findings.push(f);
    }
  }
  // Only exceptions this run could have used count as unused: their rule ran and their object was
  // checked (in their environment, for an exception of one).
  const ruleIds = new Set(rules.map((r) => r.id));
  const checked = sources.map((s) => ({ object: objectName(s.manifest), environment: environmentOf(s) }));
  return {
    findings,
    excepted,
    unusedExceptions: exceptions.filter(
      (e) => ruleIds.has(e.rule) && checked.some((c) => c.object === e.object && inScope(e, c.environment)) && !used.has(e),
    ),
  };
}
