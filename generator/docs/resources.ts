// docs/resources.md: what each environment asks of the cluster (pods, CPU and memory requests and
// limits, volume storage), computed from the rendered objects, as the design document's "Resource
// Summary" does for staging. The environments' totals stand side by side; the Jobs, which run and
// complete (the init Jobs once, a CronJob's on its schedule), are counted apart.
import type { RenderedEnvironment } from "../components/render.ts";
import { generatedNotice } from "../lib/generated.ts";

interface Resources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

interface Container {
  name: string;
  resources?: Resources;
  restartPolicy?: string;
}

interface PodOwner {
  kind: string;
  metadata?: { name?: string; namespace?: string };
  spec?: {
    replicas?: number;
    parallelism?: number;
    jobTemplate?: { spec?: { parallelism?: number; template?: NonNullable<PodOwner["spec"]>["template"] } };
    template?: { spec?: { containers?: Container[]; initContainers?: Container[]; nodeSelector?: Record<string, string> } };
    volumeClaimTemplates?: { spec?: { resources?: { requests?: { storage?: string } } } }[];
  };
}

/** CPU in millicores and memory and storage in bytes; a limit is undefined when a container has none. */
export interface Amounts {
  readonly pods: number;
  readonly cpuRequest: number;
  readonly cpuLimit: number | undefined;
  readonly memoryRequest: number;
  readonly memoryLimit: number | undefined;
  readonly storage: number;
}

export interface ResourceRow extends Amounts {
  /** `StatefulSet nx-persistent/nx-postgresql-primary` */
  readonly workload: string;
  readonly nodePool: string;
}

export interface ResourceSummary {
  readonly workloads: ResourceRow[];
  readonly jobs: ResourceRow[];
}

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity (`500m`, `1.5`, `1280Mi`, `1G`) in base units (cores, bytes). */
export function quantity(text: string): number {
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(text);
  const factor = match ? (binary[match[2]!] ?? decimal[match[2]!]) : undefined;
  if (!match || factor === undefined) throw new Error(`docs/resources.md: ${JSON.stringify(text)} is not a quantity`);
  return Number(match[1]) * factor;
}

type Field = "cpu" | "memory";
type Kind = "requests" | "limits";

/** One container's amount in integer units (millicores, bytes); undefined for a missing limit. */
function amount(c: Container, kind: Kind, field: Field): number | undefined {
  const text = c.resources?.[kind]?.[field];
  if (text === undefined) return kind === "requests" ? 0 : undefined;
  return Math.round(quantity(text) * (field === "cpu" ? 1000 : 1));
}

const add = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a + b);
const max = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : Math.max(a, b));

/**
 * What one pod reserves, as the scheduler counts it: the larger of the containers' sum and the
 * largest init container (init containers run one at a time, before the others).
 */
function podAmount(owner: PodOwner, kind: Kind, field: Field): number | undefined {
  const pod = owner.spec?.template?.spec ?? {};
  const inits = pod.initContainers ?? [];
  // A sidecar (an init container that keeps running) adds to the sum instead: not counted here.
  const sidecar = inits.find((c) => c.restartPolicy === "Always");
  if (sidecar) throw new Error(`docs/resources.md: ${owner.kind} ${owner.metadata?.name} has sidecar ${sidecar.name}, which this summary does not count`);
  const containers = (pod.containers ?? []).map((c) => amount(c, kind, field)).reduce(add, 0);
  return inits.map((c) => amount(c, kind, field)).reduce(max, containers);
}

function row(owner: PodOwner, pods: number): ResourceRow {
  const times = (n: number | undefined) => (n === undefined ? undefined : n * pods);
  const claims = owner.spec?.volumeClaimTemplates ?? [];
  return {
    // A Job's name ends in a hash of its template, which would change this page with every change.
    workload: `${owner.kind} ${owner.metadata?.namespace}/${owner.kind === "Job" ? owner.metadata?.name?.replace(/-[0-9a-f]{8}$/, "") : owner.metadata?.name}`,
    nodePool: owner.spec?.template?.spec?.nodeSelector?.["node.kubernetes.io/pool"] ?? "(any)",
    pods,
    cpuRequest: pods * (podAmount(owner, "requests", "cpu") ?? 0),
    cpuLimit: times(podAmount(owner, "limits", "cpu")),
    memoryRequest: pods * (podAmount(owner, "requests", "memory") ?? 0),
    memoryLimit: times(podAmount(owner, "limits", "memory")),
    storage: pods * claims.reduce((sum, c) => sum + quantity(c.spec?.resources?.requests?.storage ?? "0"), 0),
  };
}

// Kinds known to run no pods and claim no volumes. Any other kind that is not counted below stops
// the summary, so a new kind (an operator's cluster resource) cannot leave its pods out unnoticed.
const podless = new Set([
  "Namespace", "NetworkPolicy", "ConfigMap", "Service", "ServiceAccount", "PodDisruptionBudget",
  // CloudNativePG's objects that its Cluster acts on, and the Barman Cloud plugin's store.
  "Database", "Publication", "ScheduledBackup", "ObjectStore",
  // The External Secrets Operator's: a Secret written from the store.
  "ExternalSecret",
  // Strimzi's topics and users, which its entity operator applies.
  "KafkaTopic", "KafkaUser",
]);
const counted = new Set(["StatefulSet", "Deployment", "Job", "CronJob", "Cluster", "Pooler", "Kafka", "KafkaNodePool"]);
const jobKinds = new Set(["Job", "CronJob"]);

/** A CronJob as the Job it starts: one run's pods. */
function asJob(o: PodOwner): PodOwner {
  const job = o.spec?.jobTemplate?.spec;
  return o.kind === "CronJob" ? { kind: o.kind, metadata: o.metadata, spec: { parallelism: job?.parallelism, template: job?.template } } : o;
}

interface StrimziObject {
  kind: string;
  metadata?: PodOwner["metadata"];
  spec?: {
    replicas?: number;
    resources?: Resources;
    storage?: { volumes?: { size?: string }[] };
    template?: { pod?: { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: { key: string; values?: string[] }[] }[] } } } } };
    entityOperator?: { topicOperator?: { resources?: Resources }; userOperator?: { resources?: Resources } };
    cruiseControl?: { resources?: Resources };
  };
}

/**
 * A Strimzi object as the workloads its operator makes of it: a KafkaNodePool's nodes, each with
 * the pool's resources and volumes (in the node pool its affinity requires); a Kafka's entity
 * operator (one pod, a topic and a user operator container) and Cruise Control (one pod). Their
 * sidecars and init containers state no resources: not counted.
 */
function strimziWorkloads(o: StrimziObject): PodOwner[] {
  const spec = o.spec ?? {};
  const pod = (containers: Container[], nodeSelector?: Record<string, string>) => ({ containers, ...(nodeSelector ? { nodeSelector } : {}) });
  if (o.kind === "KafkaNodePool") {
    const pool = spec.template?.pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e) => e.key === "node.kubernetes.io/pool")?.values?.[0];
    return [{
      kind: o.kind,
      metadata: o.metadata,
      spec: {
        replicas: spec.replicas ?? 0,
        template: { spec: pod([{ name: "kafka", resources: spec.resources }], pool ? { "node.kubernetes.io/pool": pool } : undefined) },
        volumeClaimTemplates: (spec.storage?.volumes ?? []).map((v) => ({ spec: { resources: { requests: { storage: v.size ?? "0" } } } })),
      },
    }];
  }
  const name = o.metadata?.name;
  return [
    ...(spec.entityOperator
      ? [{
          kind: o.kind,
          metadata: { ...o.metadata, name: `${name}-entity-operator` },
          spec: { replicas: 1, template: { spec: pod([
            { name: "topic-operator", resources: spec.entityOperator.topicOperator?.resources },
            { name: "user-operator", resources: spec.entityOperator.userOperator?.resources },
          ]) } },
        }]
      : []),
    ...(spec.cruiseControl
      ? [{ kind: o.kind, metadata: { ...o.metadata, name: `${name}-cruise-control` }, spec: { replicas: 1, template: { spec: pod([{ name: "cruise-control", resources: spec.cruiseControl.resources }]) } } }]
      : []),
  ];
}

interface CloudNativePgObject {
  kind: string;
  metadata?: PodOwner["metadata"];
  spec?: {
    instances?: number;
    resources?: Resources;
    storage?: { size?: string };
    walStorage?: { size?: string };
    affinity?: { nodeSelector?: Record<string, string> };
    template?: NonNullable<PodOwner["spec"]>["template"];
  };
}

/**
 * A CloudNativePG Cluster or Pooler as the workload its operator makes of it: a Cluster's instances
 * each run PostgreSQL with the Cluster's resources on a data and a WAL volume (the Barman Cloud
 * sidecar, which states no resources, is not counted); a Pooler's pods are its template's.
 */
function asWorkload(o: CloudNativePgObject): PodOwner {
  const spec = o.spec ?? {};
  if (o.kind === "Pooler") return { kind: o.kind, metadata: o.metadata, spec: { replicas: spec.instances ?? 1, template: spec.template } };
  const claim = (size: string | undefined) => ({ spec: { resources: { requests: { storage: size ?? "0" } } } });
  return {
    kind: o.kind,
    metadata: o.metadata,
    spec: {
      replicas: spec.instances ?? 1,
      template: { spec: { containers: [{ name: "postgres", resources: spec.resources }], nodeSelector: spec.affinity?.nodeSelector } },
      volumeClaimTemplates: [claim(spec.storage?.size), ...(spec.walStorage ? [claim(spec.walStorage.size)] : [])],
    },
  };
}

/** Every workload's and init Job's share of an environment, in rendered order. */
export function resourceSummary(env: RenderedEnvironment): ResourceSummary {
  const owners = env.objects.map(({ json }) => json as unknown as PodOwner);
  const unknown = owners.find((o) => !podless.has(o.kind) && !counted.has(o.kind));
  if (unknown) {
    throw new Error(
      `docs/resources.md: ${unknown.kind} ${unknown.metadata?.namespace}/${unknown.metadata?.name} may run pods or claim volumes; count it in generator/docs/resources.ts (or list its kind as podless there)`,
    );
  }
  return {
    workloads: owners
      .filter((o) => !jobKinds.has(o.kind) && counted.has(o.kind))
      .flatMap((o) =>
        o.kind === "Cluster" || o.kind === "Pooler"
          ? [asWorkload(o as CloudNativePgObject)]
          : o.kind === "Kafka" || o.kind === "KafkaNodePool"
            ? strimziWorkloads(o as StrimziObject)
            : [o],
      )
      .map((o) => row(o, o.spec?.replicas ?? 1)),
    jobs: owners.filter((o) => jobKinds.has(o.kind)).map(asJob).map((o) => row(o, o.spec?.parallelism ?? 1)),
  };
}

export function total(rows: readonly Amounts[]): Amounts {
  return rows.reduce<Amounts>(
    (t, r) => ({
      pods: t.pods + r.pods,
      cpuRequest: t.cpuRequest + r.cpuRequest,
      cpuLimit: add(t.cpuLimit, r.cpuLimit),
      memoryRequest: t.memoryRequest + r.memoryRequest,
      memoryLimit: add(t.memoryLimit, r.memoryLimit),
      storage: t.storage + r.storage,
    }),
    { pods: 0, cpuRequest: 0, cpuLimit: 0, memoryRequest: 0, memoryLimit: 0, storage: 0 },
  );
}

/** `500m`, `1.5`, `13` (cores), as the design document writes CPU. */
function cpu(millicores: number | undefined): string {
  if (millicores === undefined) return "no limit";
  return millicores < 1000 ? `${millicores}m` : String(millicores / 1000);
}

/** The largest binary unit that shows the amount exactly with at most three decimals: `1.125Gi`, `512Mi`. */
function bytes(amount: number | undefined): string {
  if (amount === undefined) return "no limit";
  if (amount === 0) return "-";
  for (const unit of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
    const value = amount / binary[unit]!;
    if (value >= 1 && Number.isInteger(value * 1000)) return `${value}${unit}`;
  }
  return String(amount);
}

const columns = (a: Amounts) => [String(a.pods), cpu(a.cpuRequest), cpu(a.cpuLimit), bytes(a.memoryRequest), bytes(a.memoryLimit), bytes(a.storage)];
const tableRow = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
const header = ["Pods", "CPU req", "CPU lim", "Mem req", "Mem lim", "Storage"];

export function resourcesDoc(environments: readonly RenderedEnvironment[]): string {
  const summaries = environments.map((env) => ({ name: env.environment.name, ...resourceSummary(env) }));
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Resources per environment",
    "",
    "What each environment asks of the cluster, computed from the rendered objects: pods, CPU and",
    "memory requests and limits (a pod counts the larger of its containers' sum and its largest init",
    "container, as the scheduler does) and the storage of its volume claims. Jobs run and then",
    "complete (the init Jobs once after a change, a CronJob's on its schedule); they are counted apart.",
    "",
    "## Totals",
    "",
    tableRow(["", ...summaries.map((s) => s.name)]),
    `|---|${summaries.map(() => "---").join("|")}|`,
  ];
  const totals = summaries.map((s) => columns(total(s.workloads)));
  const jobTotals = summaries.map((s) => columns(total(s.jobs)));
  ["Pods", "CPU requests", "CPU limits", "Memory requests", "Memory limits", "Storage (volume claims)"].forEach((label, i) =>
    lines.push(tableRow([label, ...totals.map((t) => t[i]!)])),
  );
  lines.push(
    tableRow(["Jobs while they run", ...jobTotals.map((t) => `${t[0]} pods: CPU ${t[1]} / ${t[2]}, memory ${t[3]} / ${t[4]}`)]),
    "",
  );
  for (const s of summaries) {
    lines.push(`## ${s.name}`, "", tableRow(["Workload", "Node pool", ...header]), `|---|---|${header.map(() => "---").join("|")}|`);
    for (const r of s.workloads) lines.push(tableRow([r.workload, r.nodePool, ...columns(r)]));
    lines.push(tableRow(["**Total**", "", ...columns(total(s.workloads)).map((c) => `**${c}**`)]), "");
    lines.push("Jobs (init Jobs, and one run of each CronJob):", "", tableRow(["Job", "Node pool", ...header]), `|---|---|${header.map(() => "---").join("|")}|`);
    for (const r of s.jobs) lines.push(tableRow([r.workload, r.nodePool, ...columns(r)]));
    lines.push(tableRow(["**Total**", "", ...columns(total(s.jobs)).map((c) => `**${c}**`)]), "");
  }
  return lines.join("\n");
}
