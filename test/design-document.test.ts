// The rendered staging overlay, checked fact by fact against the design document of the data
// layer (shared/spec/data-layer.md, with its YAML blocks as indented in data-layer-indented.txt).
//
// Every table below is transcribed from the document; the comment above it names the section.
// The facts are checked on what `kustomize build overlays/staging` really renders, never on the
// generator's own config. Where the generator deliberately departs from the document (a "Fix:"
// or an explanation in generator/, listed in README "Fixes to the design document"), the test
// asserts the fixed behaviour and names the fix in its title; everywhere else the document's fact
// is asserted as written.
import { fileURLToPath } from "node:url";
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import type { INetworkPolicyPort } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IService } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { decide, type Endpoint, type NetworkPolicyLike, policyTypes as typesOf, selectsPod } from "../generator/lib/reachability.ts";
import { kustomizeBuild, type PlainObject } from "./support/repo.ts";

// =============================================================================================
// The rendered overlay
// =============================================================================================

const overlay = fileURLToPath(new URL("../overlays/staging", import.meta.url));

/** Everything `kustomize build overlays/staging` renders (the real kustomize, v5+). */
const rendered: readonly PlainObject[] = kustomizeBuild(overlay);

const layerNamespaces = ["nx-persistent", "nx-broker", "nx-search"] as const;
const clusterDomain = "cluster.local";
const serviceDns = (name: string, namespace: string) => `${name}.${namespace}.svc.${clusterDomain}`;

type Workload = IStatefulSet | IDeployment | IJob;
type WorkloadKind = Workload["kind"];
type Labels = Record<string, string>;

// Jobs are named `<document name>-<hash of the pod template>`, so a changed Job is a new Job.
const sameName = (kind: string, actual: string | undefined, name: string) =>
  kind === "Job" ? new RegExp(`^${name}-[0-9a-f]{8}$`).test(actual ?? "") : actual === name;

function only<T>(kind: string, namespace: string | undefined, name: string): T {
  const found = rendered.filter(
    (o) => o.kind === kind && sameName(kind, o.metadata?.name, name) && (namespace === undefined || o.metadata?.namespace === namespace),
  );
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind} ${namespace ?? ""}/${name} in the rendered overlay, found ${found.length}`);
  }
  return found[0] as unknown as T;
}

const statefulSet = (namespace: string, name: string) => only<IStatefulSet>("StatefulSet", namespace, name);
const deployment = (namespace: string, name: string) => only<IDeployment>("Deployment", namespace, name);
const job = (namespace: string, name: string) => only<IJob>("Job", namespace, name);
const service = (namespace: string, name: string) => only<IService>("Service", namespace, name);
const configMap = (namespace: string, name: string) => only<IConfigMap>("ConfigMap", namespace, name);
const networkPolicy = (namespace: string, name: string) => only<INetworkPolicy>("NetworkPolicy", namespace, name);
const workload = (kind: WorkloadKind, namespace: string, name: string) => only<Workload>(kind, namespace, name);

const ofKind = <T>(kind: string): T[] => rendered.filter((o) => o.kind === kind) as unknown as T[];

/** One test per row of a table transcribed from the document, titled from the row. */
function eachRow<T>(rows: readonly T[], title: (row: T) => string, test: (row: T) => void): void {
  for (const row of rows) it(title(row), () => test(row));
}

/** The document's port lists ("6379, 16379, 9092") as numbers. */
const portList = (text: string): number[] => text.split(",").map((p) => Number(p.trim()));

/** Every rendered object that runs pods. */
const workloads: Workload[] = rendered.filter((o) => ["StatefulSet", "Deployment", "Job"].includes(o.kind)) as unknown as Workload[];

const id = (o: { kind: string; metadata?: { name?: string; namespace?: string } }) =>
  `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

function podSpec(w: Workload): IPodSpec {
  const spec = w.spec?.template.spec;
  if (!spec) throw new Error(`${id(w)} has no pod template spec`);
  return spec;
}

function podLabels(w: Workload): Labels {
  return (w.spec?.template.metadata?.labels ?? {}) as Labels;
}

function replicas(w: IStatefulSet | IDeployment): number {
  return w.spec?.replicas ?? 1;
}

function containerOf(w: Workload, name: string): IContainer {
  const c = podSpec(w).containers.find((x) => x.name === name);
  if (!c) throw new Error(`${id(w)} has no container ${name} (has ${podSpec(w).containers.map((x) => x.name).join(", ")})`);
  return c;
}

function initContainerOf(w: Workload, name: string): IContainer {
  const c = (podSpec(w).initContainers ?? []).find((x) => x.name === name);
  if (!c) throw new Error(`${id(w)} has no init container ${name}`);
  return c;
}

function allContainers(w: Workload): IContainer[] {
  return [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers];
}

/** The script of a `sh -c <script>` container. */
function shellScript(c: IContainer): string {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const dashC = argv.indexOf("-c");
  const script = argv[dashC + 1];
  if (!["sh", "bash", "/bin/sh", "/bin/bash"].includes(argv[0] ?? "") || dashC < 0 || script === undefined) {
    throw new Error(`container ${c.name} does not run a shell script: ${JSON.stringify(argv)}`);
  }
  return script;
}

/** The script with backslash-newline continuations joined, so one command is one line. */
const joinContinuations = (script: string) => script.replace(/\\\n\s*/g, " ");

function plainEnv(c: IContainer, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

/** The container's env vars with a value of their own (not from a Secret or the pod), by name. */
function plainEnvVars(c: IContainer): Record<string, string> {
  return Object.fromEntries((c.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}

/** A container's shell script with the env vars it is given expanded, as the shell would run it. */
function scriptWithEnv(c: IContainer): string {
  return expandShell(shellScript(c), plainEnvVars(c));
}

function secretEnv(c: IContainer, name: string): { name?: string; key?: string } | undefined {
  const ref = c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
  return ref ? { name: ref.name, key: ref.key } : undefined;
}

function fieldEnv(c: IContainer, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
}

/** Shell variables assigned as `name="value"` (or unquoted) in a script. */
function shellAssignments(script: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of script.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/gm)) {
    vars[m[1] as string] = m[2] ?? m[3] ?? m[4] ?? "";
  }
  return vars;
}

/** Expands `$name` and `${name}` for the variables given (repeatedly: values may refer to others). */
function expandShell(text: string, vars: Record<string, string>): string {
  let out = text;
  for (let i = 0; i < 5; i++) {
    out = out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => {
      const value = vars[(a ?? b) as string];
      return value === undefined ? whole : value;
    });
  }
  return out;
}

/** Expands Kubernetes `$(NAME)` references in command/args. */
const expandKube = (text: string, vars: Record<string, string>) =>
  text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => vars[name] ?? whole);

/** `-c name=value` server settings of a PostgreSQL container, in order. */
function postgresSettings(c: IContainer): [string, string][] {
  const args = c.args ?? [];
  const settings: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) {
    const setting = args[i + 1];
    if (args[i] !== "-c" || setting === undefined || !setting.includes("=")) {
      throw new Error(`postgres args are not "-c name=value" pairs at ${i}: ${JSON.stringify(args.slice(i, i + 2))}`);
    }
    const eq = setting.indexOf("=");
    settings.push([setting.slice(0, eq), setting.slice(eq + 1)]);
  }
  return settings;
}

/** `--flag value` pairs after `program` in a container's full command line (command + args). */
function flagPairs(c: IContainer, program: string): [string, string][] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const start = argv.indexOf(program);
  if (start < 0) throw new Error(`container ${c.name} never runs ${program}: ${JSON.stringify(argv)}`);
  const rest = argv.slice(start + 1);
  const pairs: [string, string][] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i] as string;
    const value = rest[i + 1];
    if (!flag.startsWith("--") || value === undefined) {
      throw new Error(`${program} arguments are not "--flag value" pairs at ${flag}: ${JSON.stringify(rest)}`);
    }
    pairs.push([flag, value]);
  }
  return pairs;
}

/** key=value lines (comments and blank lines skipped). */
function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith("!")) continue;
    const eq = trimmed.indexOf("=");
    if (eq < 0) continue;
    map.set(trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
  }
  return map;
}

/** An INI file as section -> key -> value. */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  sections.set("", current);
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = trimmed.indexOf("=");
    if (eq >= 0) current.set(trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
  }
  return sections;
}

function selectorMatches(selector: ILabelSelector | undefined, labels: Labels): boolean {
  return selector === undefined || selectsPod(selector, labels);
}

/** The workloads (in the Service's namespace) whose pods a Service selects. */
function selectedWorkloads(svc: IService): Workload[] {
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  return workloads.filter(
    (w) => w.metadata?.namespace === svc.metadata?.namespace && selectorMatches({ matchLabels: selector }, podLabels(w)),
  );
}

/** A container port of the workload's pods, found by number or name (a Service's targetPort). */
function resolvePort(w: Workload, target: number | string): IContainerPort | undefined {
  const ports = podSpec(w).containers.flatMap((c) => c.ports ?? []);
  return ports.find((p) => (typeof target === "number" ? p.containerPort === target : p.name === target));
}

/** Service port -> container port number on the pods behind it. */
function targetPortOf(svc: IService, port: number): { workload: string; containerPort: number | undefined }[] {
  const sp = svc.spec?.ports?.find((p) => p.port === port);
  if (!sp) throw new Error(`${id({ kind: "Service", metadata: svc.metadata })} has no port ${port}`);
  const target = sp.targetPort ?? sp.port;
  return selectedWorkloads(svc).map((w) => ({ workload: id(w), containerPort: resolvePort(w, target)?.containerPort }));
}

// CPU in millicores, memory and storage in bytes: integers, so sums are exact.
function millicores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q);
  if (!m) throw new Error(`not a CPU quantity: ${q}`);
  return Math.round(Number(m[1]) * (m[2] === "m" ? 1 : 1000));
}

function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/.exec(q);
  if (!m) throw new Error(`not a binary quantity: ${q}`);
  const unit = { "": 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] ?? ""] as number;
  return Math.round(Number(m[1]) * unit);
}

function dataClaim(sts: IStatefulSet) {
  const claims = sts.spec?.volumeClaimTemplates ?? [];
  const claim = claims.find((c) => c.metadata?.name === "data");
  if (!claim) throw new Error(`${id(sts)} has no volume claim template "data"`);
  return claim;
}

/** Every Secret a namespace's pods read: env secretKeyRefs, envFrom and secret volumes. */
function secretReferences(namespace: string): { secret: string; key?: string; by: string }[] {
  const refs: { secret: string; key?: string; by: string }[] = [];
  for (const w of workloads.filter((x) => x.metadata?.namespace === namespace)) {
    for (const c of allContainers(w)) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref?.name) refs.push({ secret: ref.name, key: ref.key, by: `${id(w)} ${c.name}` });
      }
      for (const e of c.envFrom ?? []) if (e.secretRef?.name) refs.push({ secret: e.secretRef.name, by: `${id(w)} ${c.name}` });
    }
    for (const v of podSpec(w).volumes ?? []) {
      if (v.secret?.secretName) refs.push({ secret: v.secret.secretName, by: `${id(w)} volume ${v.name}` });
      for (const s of v.projected?.sources ?? []) if (s.secret?.name) refs.push({ secret: s.secret.name, by: `${id(w)} volume ${v.name}` });
    }
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy evaluation with the product's evaluator (generator/lib/reachability.ts, tested on
// its own in test/reachability.test.ts): egress where a flow starts AND ingress where it ends.
// Namespaces outside the layer have no policies here, so they are open.

interface Pod {
  readonly namespace: string;
  readonly labels: Labels;
  readonly ports: readonly IContainerPort[];
  readonly what: string;
}

const podOf = (w: Workload): Pod => ({
  namespace: w.metadata?.namespace ?? "",
  labels: podLabels(w),
  ports: allContainers(w).flatMap((c) => c.ports ?? []),
  what: id(w),
});

/** Any pod of a backend service in nx-backend (the document's "nx-backend"). */
const backendPod: Pod = { namespace: "nx-backend", labels: { "app.kubernetes.io/name": "commerce" }, ports: [], what: "a pod in nx-backend" };
const kubeDnsPod: Pod = {
  namespace: "kube-system",
  labels: { "k8s-app": "kube-dns" },
  ports: [
    { containerPort: 53, protocol: "UDP", name: "dns" },
    { containerPort: 53, protocol: "TCP", name: "dns-tcp" },
  ],
  what: "CoreDNS in kube-system",
};

const policies = () => ofKind<INetworkPolicy>("NetworkPolicy") as unknown as NetworkPolicyLike[];
const namespaces = () =>
  ofKind<INamespace>("Namespace").map((n) => ({ name: n.metadata?.name ?? "", labels: (n.metadata?.labels ?? {}) as Labels }));
type Direction = "Ingress" | "Egress";
const policyTypes = (p: INetworkPolicy): readonly Direction[] => typesOf(p as unknown as NetworkPolicyLike);
const endpointOf = (pod: Pod) => ({ namespace: pod.namespace, labels: pod.labels, ports: pod.ports as Endpoint["ports"], what: pod.what });

/** "allowed", or why the NetworkPolicies block the connection (the product's evaluator). */
function flow(src: Pod, dst: Pod, port: number, protocol: "TCP" | "UDP" = "TCP"): string {
  const d = decide(policies(), namespaces(), endpointOf(src), endpointOf(dst), port, protocol);
  const blocked: string[] = [];
  if (d.egress.isolated && d.egress.allowedBy.length === 0) blocked.push(`no egress rule in ${src.namespace} lets ${src.what} out`);
  if (d.ingress.isolated && d.ingress.allowedBy.length === 0) blocked.push(`no ingress rule in ${dst.namespace} lets it into ${dst.what}`);
  return blocked.length === 0 ? "allowed" : `blocked on ${port}/${protocol}: ${blocked.join("; ")}`;
}

function namespaceLabels(namespace: string): Labels {
  const ns = ofKind<INamespace>("Namespace").find((n) => n.metadata?.name === namespace);
  return { ...((ns?.metadata?.labels ?? {}) as Labels), "kubernetes.io/metadata.name": namespace };
}

/** The pod behind a Service port, and the container port the connection really arrives on. */
function behindService(namespace: string, name: string, port: number): { pod: Pod; containerPort: number } {
  const svc = service(namespace, name);
  const [target, ...more] = targetPortOf(svc, port);
  if (!target || more.length > 0 || target.containerPort === undefined) {
    throw new Error(`Service ${namespace}/${name}:${port} does not resolve to one workload's container port`);
  }
  const w = workloads.find((x) => id(x) === target.workload) as Workload;
  return { pod: podOf(w), containerPort: target.containerPort };
}

// =============================================================================================
// Architecture Overview
// =============================================================================================

interface ComponentRow {
  readonly component: string;
  readonly kind: "StatefulSet" | "Deployment";
  readonly name: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly image: string;
  /** Per pod; null for the document's "-". */
  readonly storage: string | null;
}

// Design document, "Architecture Overview › Component Summary". The workload names come from the
// component sections (StatefulSet YAML blocks; PgBouncer and Debezium are named by their Services).
const componentSummary: readonly ComponentRow[] = [
  { component: "PostgreSQL primary", kind: "StatefulSet", name: "nx-postgresql-primary", namespace: "nx-persistent", replicas: 1, image: "postgres:17-alpine", storage: "20Gi" },
  { component: "PostgreSQL replica", kind: "StatefulSet", name: "nx-postgresql-replica", namespace: "nx-persistent", replicas: 1, image: "postgres:17-alpine", storage: "20Gi" },
  { component: "PgBouncer", kind: "Deployment", name: "nx-pgbouncer", namespace: "nx-persistent", replicas: 1, image: "ghcr.io/icoretech/pgbouncer-docker:1.24.1", storage: null },
  { component: "Redis", kind: "StatefulSet", name: "nx-redis", namespace: "nx-broker", replicas: 3, image: "redis:7-alpine", storage: "5Gi" },
  { component: "Kafka", kind: "StatefulSet", name: "nx-kafka", namespace: "nx-broker", replicas: 3, image: "apache/kafka:4.1.1", storage: "10Gi" },
  { component: "Typesense", kind: "StatefulSet", name: "nx-typesense", namespace: "nx-search", replicas: 1, image: "typesense/typesense:27.1", storage: "5Gi" },
  // The document's debezium/connect:3.0.0.Final, moved to quay.io 3.6.0.Final (docs/design-document-fixes.md).
  { component: "Debezium", kind: "Deployment", name: "nx-debezium", namespace: "nx-search", replicas: 1, image: "quay.io/debezium/connect:3.6.0.Final", storage: null },
];

// Design document, "Data Layer" (introduction) and "Volume Expansion".
const storageClass = "csi-sc-vnpaycloud";

describe("Architecture Overview › Component Summary", () => {
  it("the long-running workloads are exactly the document's components", () => {
    const running = workloads.filter((w) => w.kind !== "Job").map(id).sort();
    expect(running).toEqual(componentSummary.map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort());
  });

  eachRow(componentSummary, (r) => `${r.component} is ${r.kind} ${r.namespace}/${r.name} with ${r.replicas} replica(s)`, (row) => {
    const w = workload(row.kind, row.namespace, row.name) as IStatefulSet | IDeployment;
    expect(replicas(w)).toBe(row.replicas);
  });

  eachRow(componentSummary, (r) => `${r.component} runs ${r.image} in every container`, (row) => {
    const w = workload(row.kind, row.namespace, row.name);
    for (const c of allContainers(w)) expect(c.image, `${id(w)} container ${c.name}`).toBe(row.image);
  });

  it("PostgreSQL has 2 instances: 1 primary + 1 replica", () => {
    const primary = statefulSet("nx-persistent", "nx-postgresql-primary");
    const replica = statefulSet("nx-persistent", "nx-postgresql-replica");
    expect([replicas(primary), replicas(replica)]).toEqual([1, 1]);
  });

  it("Redis has 3 masters and 0 replicas (a 3-pod cluster created with --cluster-replicas 0)", () => {
    expect(replicas(statefulSet("nx-broker", "nx-redis"))).toBe(3);
    const script = scriptWithEnv(containerOf(job("nx-broker", "nx-redis-cluster-init"), "cluster-init"));
    expect(script).toMatch(/--cluster create\b[^\n]*--cluster-replicas 0\b/);
  });

  const stateful = componentSummary.filter((r) => r.storage !== null);
  eachRow(
    stateful,
    (r) => `${r.component} keeps its data on a ${r.storage} ReadWriteOnce volume of StorageClass ${storageClass}, per pod`,
    (row) => {
      const claim = dataClaim(statefulSet(row.namespace, row.name));
      expect(claim.spec?.resources?.requests?.storage).toBe(row.storage);
      expect(claim.spec?.storageClassName).toBe(storageClass);
      expect(claim.spec?.accessModes).toEqual(["ReadWriteOnce"]);
    },
  );

  eachRow(componentSummary.filter((r) => r.storage === null), (r) => `${r.component} has no persistent storage ("-")`, (row) => {
    const w = workload(row.kind, row.namespace, row.name);
    expect((podSpec(w).volumes ?? []).filter((v) => v.persistentVolumeClaim || v.hostPath)).toEqual([]);
  });

  it(`every volume claim of the layer uses StorageClass ${storageClass}`, () => {
    const claims = ofKind<IStatefulSet>("StatefulSet").flatMap((s) =>
      (s.spec?.volumeClaimTemplates ?? []).map((c) => ({ of: id(s), storageClassName: c.spec?.storageClassName })),
    );
    expect(claims.length).toBeGreaterThan(0);
    for (const c of claims) expect(c.storageClassName, c.of).toBe(storageClass);
    expect(ofKind("PersistentVolumeClaim")).toEqual([]);
  });

  it("the data layer runs on the stateful node pool (node.kubernetes.io/pool=stateful)", () => {
    for (const row of componentSummary) {
      const w = workload(row.kind, row.namespace, row.name);
      expect(podSpec(w).nodeSelector, id(w)).toEqual({ "node.kubernetes.io/pool": "stateful" });
    }
  });

  it("every object is in one of the layer's namespaces nx-persistent, nx-broker, nx-search", () => {
    const outside = rendered
      .filter((o) => o.kind !== "Namespace" && !(layerNamespaces as readonly string[]).includes(o.metadata?.namespace ?? ""))
      .map(id);
    expect(outside).toEqual([]);
  });
});

// =============================================================================================
// Resource Summary
// =============================================================================================

interface Figures {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

interface ResourceRow {
  readonly workload: string;
  readonly kind: "StatefulSet" | "Deployment";
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly pods: number;
  /** One container, as the component's YAML block gives it (or the table, for 1-pod rows). */
  readonly perPod: Figures;
  /** The table's row: the whole workload. */
  readonly row: { readonly cpuReq: string; readonly cpuLim: string; readonly memReq: string; readonly memLim: string; readonly storage: string | null };
}

const figures = (cpuReq: string, memReq: string, cpuLim: string, memLim: string): Figures => ({
  requests: { cpu: cpuReq, memory: memReq },
  limits: { cpu: cpuLim, memory: memLim },
});

// Design document, "Resource Summary › Staging (stateful node pool)" (per workload), with the
// per-pod figures of the YAML blocks in "PostgreSQL", "Redis", "Kafka" and "Typesense".
const resourceSummary: readonly ResourceRow[] = [
  { workload: "PG Primary", kind: "StatefulSet", namespace: "nx-persistent", name: "nx-postgresql-primary", container: "postgresql", pods: 1,
    perPod: figures("500m", "1Gi", "2", "4Gi"), row: { cpuReq: "500m", cpuLim: "2", memReq: "1Gi", memLim: "4Gi", storage: "20Gi" } },
  { workload: "PG Replica", kind: "StatefulSet", namespace: "nx-persistent", name: "nx-postgresql-replica", container: "postgresql", pods: 1,
    perPod: figures("250m", "512Mi", "1", "2Gi"), row: { cpuReq: "250m", cpuLim: "1", memReq: "512Mi", memLim: "2Gi", storage: "20Gi" } },
  { workload: "PgBouncer", kind: "Deployment", namespace: "nx-persistent", name: "nx-pgbouncer", container: "pgbouncer", pods: 1,
    perPod: figures("100m", "256Mi", "500m", "512Mi"), row: { cpuReq: "100m", cpuLim: "500m", memReq: "256Mi", memLim: "512Mi", storage: null } },
  { workload: "Redis (x3)", kind: "StatefulSet", namespace: "nx-broker", name: "nx-redis", container: "redis", pods: 3,
    perPod: figures("100m", "384Mi", "1", "512Mi"), row: { cpuReq: "300m", cpuLim: "3", memReq: "1.125Gi", memLim: "1.5Gi", storage: "15Gi" } },
  { workload: "Kafka (x3)", kind: "StatefulSet", namespace: "nx-broker", name: "nx-kafka", container: "kafka", pods: 3,
    perPod: figures("500m", "1280Mi", "1.5", "2Gi"), row: { cpuReq: "1.5", cpuLim: "4.5", memReq: "3.75Gi", memLim: "6Gi", storage: "30Gi" } },
  { workload: "Typesense", kind: "StatefulSet", namespace: "nx-search", name: "nx-typesense", container: "typesense", pods: 1,
    perPod: figures("200m", "512Mi", "1", "2Gi"), row: { cpuReq: "200m", cpuLim: "1", memReq: "512Mi", memLim: "2Gi", storage: "5Gi" } },
  { workload: "Debezium", kind: "Deployment", namespace: "nx-search", name: "nx-debezium", container: "debezium", pods: 1,
    perPod: figures("250m", "512Mi", "1", "2Gi"), row: { cpuReq: "250m", cpuLim: "1", memReq: "512Mi", memLim: "2Gi", storage: null } },
];

// Design document, "Resource Summary", row "Total".
const resourceTotal = { pods: 11, cpuReq: "3.1", cpuLim: "13", memReq: "7.67Gi", memLim: "18Gi", storage: "90Gi" };

/** What the rendered workload of a row adds up to (main containers; replicas x per-pod). */
function renderedRow(row: ResourceRow) {
  const w = workload(row.kind, row.namespace, row.name) as IStatefulSet | IDeployment;
  const n = replicas(w);
  const containers = podSpec(w).containers;
  const sum = (pick: (c: IContainer) => string | number | undefined, parse: (q: string) => number) =>
    n * containers.reduce((total, c) => total + parse(String(pick(c) ?? "0")), 0);
  return {
    pods: n,
    cpuReq: sum((c) => c.resources?.requests?.cpu, millicores),
    cpuLim: sum((c) => c.resources?.limits?.cpu, millicores),
    memReq: sum((c) => c.resources?.requests?.memory, bytes),
    memLim: sum((c) => c.resources?.limits?.memory, bytes),
    storage: w.kind === "StatefulSet" ? n * bytes(String(dataClaim(w).spec?.resources?.requests?.storage ?? "0")) : 0,
  };
}

describe("Resource Summary › Staging (stateful node pool)", () => {
  eachRow(
    resourceSummary,
    ({ workload: w, container, perPod: { requests, limits } }) =>
      `${w}: container ${container} requests ${requests.cpu} CPU / ${requests.memory}, limited to ${limits.cpu} CPU / ${limits.memory}`,
    (row) => {
      const c = containerOf(workload(row.kind, row.namespace, row.name), row.container);
      expect(c.resources).toEqual({ requests: row.perPod.requests, limits: row.perPod.limits });
    },
  );

  eachRow(
    resourceSummary,
    ({ workload: w, pods, row: r }) =>
      `${w}: ${pods} pod(s) add up to the row: CPU ${r.cpuReq} / ${r.cpuLim}, memory ${r.memReq} / ${r.memLim}, storage ${r.storage ?? "-"}`,
    (row) => {
      expect(renderedRow(row)).toEqual({
        pods: row.pods,
        cpuReq: millicores(row.row.cpuReq),
        cpuLim: millicores(row.row.cpuLim),
        memReq: bytes(row.row.memReq),
        memLim: bytes(row.row.memLim),
        storage: row.row.storage === null ? 0 : bytes(row.row.storage),
      });
    },
  );

  it("Total: 11 pods, 3.1 CPU requested, 13 CPU limit, 18Gi memory limit, 90Gi storage", () => {
    const rows = resourceSummary.map(renderedRow);
    const total = (k: keyof ReturnType<typeof renderedRow>) => rows.reduce((t, r) => t + r[k], 0);
    expect({
      pods: total("pods"),
      cpuReq: total("cpuReq"),
      cpuLim: total("cpuLim"),
      memLim: total("memLim"),
      storage: total("storage"),
    }).toEqual({
      pods: resourceTotal.pods,
      cpuReq: millicores(resourceTotal.cpuReq),
      cpuLim: millicores(resourceTotal.cpuLim),
      memLim: bytes(resourceTotal.memLim),
      storage: bytes(resourceTotal.storage),
    });
  });

  // The document's Total row prints 7.67Gi of requested memory, but its own rows add up to
  // 1 + 0.5 + 0.25 + 1.125 + 3.75 + 0.5 + 0.5 = 7.625Gi; no rendering can satisfy both, so the
  // rows (which agree with every YAML block) are what is checked. (A document error, reported.)
  it("Total memory requested is the sum of the rows, 7.625Gi (the document's Total row misprints it as 7.67Gi)", () => {
    const sumOfDocumentRows = resourceSummary.reduce((t, r) => t + bytes(r.row.memReq), 0);
    expect(sumOfDocumentRows).toBe(bytes("7.625Gi"));
    expect(resourceSummary.map(renderedRow).reduce((t, r) => t + r.memReq, 0)).toBe(sumOfDocumentRows);
  });
});

// =============================================================================================
// PostgreSQL
// =============================================================================================

// Design document, "PostgreSQL › Primary StatefulSet" (the `-c` args of the YAML block, in order).
const primarySettings: readonly (readonly [string, string])[] = [
  ["wal_level", "logical"],
  ["max_wal_senders", "10"],
  ["max_replication_slots", "10"],
  ["hot_standby", "on"],
  ["shared_buffers", "512MB"],
  ["effective_cache_size", "1536MB"],
  ["work_mem", "8MB"],
  ["maintenance_work_mem", "128MB"],
  ["max_connections", "100"],
  ["random_page_cost", "1.1"],
  ["effective_io_concurrency", "200"],
  ["log_statement", "ddl"],
  ["log_min_duration_statement", "1000"],
  ["password_encryption", "scram-sha-256"],
  ["timezone", "Asia/Ho_Chi_Minh"],
];

// Design document, "PostgreSQL › Replica StatefulSet" (the `-c` args of the YAML block, in order).
const replicaSettings: readonly (readonly [string, string])[] = [
  ["hot_standby", "on"],
  ["hot_standby_feedback", "on"],
  ["shared_buffers", "512MB"],
  ["max_connections", "100"],
];

// Deliberate additions (generator/config/staging.ts): pg_stat_statements only works when
// preloaded, and a replica that is down must not make the primary keep WAL until its disk is full.
const addedPrimarySettings = ["shared_preload_libraries", "max_slot_wal_keep_size"];
// A replica is a primary in waiting: a promoted one serves Debezium (wal_level=logical) and caps
// the WAL kept for a lost standby; it streams with a password file its init rewrites from the
// Secret (primary_conninfo), so a rotated password reaches it.
const addedReplicaSettings = ["shared_preload_libraries", "wal_level", "max_slot_wal_keep_size", "primary_conninfo"];

// Design document, "PostgreSQL › Users & Secrets".
const postgresUsers = [
  { user: "postgres", purpose: "Superuser", secret: "nx-postgresql-superuser-secret" },
  { user: "nx_seller_operator", purpose: "Application user (CREATEDB)", secret: "nx-postgresql-app-secret" },
  { user: "repl_user", purpose: "Streaming replication", secret: "nx-postgresql-replication-secret" },
] as const;

// Design document, "PostgreSQL › Database Schemas" (7 schemas in nx_seller_core).
const schemas = ["public", "pricing", "allocation", "inventory", "finance", "payment", "sale"] as const;

/**
 * What init-primary runs: its script, followed by each SQL file it hands psql (`-f <path>`), read
 * from the ConfigMap mounted there.
 */
function initPrimaryRuns(sts: IStatefulSet, init: IContainer): string {
  const script = shellScript(init);
  const files = [...script.matchAll(/\spsql\s[^\n]*-f\s+(\S+)/g)].map((m) => m[1] as string);
  const sql = files.map((path) => {
    const mount = (init.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
    const name = (podSpec(sts).volumes ?? []).find((v) => v.name === mount?.name)?.configMap?.name;
    if (!mount || !name) throw new Error(`${path} is not on a ConfigMap volume`);
    const text = configMap("nx-persistent", name).data?.[path.slice(mount.mountPath.length + 1)];
    if (text === undefined) throw new Error(`ConfigMap ${name} has no ${path}`);
    return text;
  });
  return [script, ...sql].join("\n");
}

describe("PostgreSQL › Primary StatefulSet", () => {
  const primary = () => statefulSet("nx-persistent", "nx-postgresql-primary");
  const server = () => containerOf(primary(), "postgresql");
  const init = () => initContainerOf(primary(), "init-primary");
  // The SQL of the first start lives in a ConfigMap (fix: a change to it re-runs the setup Job
  // instead of restarting the primary); init-primary runs it with psql -f.
  const runs = () => initPrimaryRuns(primary(), init());

  it("is StatefulSet nx-postgresql-primary in nx-persistent: serviceName nx-postgresql-primary-headless, 1 replica", () => {
    expect(primary().spec?.serviceName).toBe("nx-postgresql-primary-headless");
    expect(primary().spec?.replicas).toBe(1);
  });

  it("runs on node.kubernetes.io/pool=stateful", () => {
    expect(podSpec(primary()).nodeSelector).toEqual({ "node.kubernetes.io/pool": "stateful" });
  });

  it("runs as non-root uid/gid 70 with fsGroup 70 and seccomp RuntimeDefault", () => {
    expect(podSpec(primary()).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 70,
      runAsGroup: 70,
      fsGroup: 70,
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("container postgresql runs postgres:17-alpine on containerPort 5432", () => {
    expect(server().image).toBe("postgres:17-alpine");
    expect((server().ports ?? []).map((p) => p.containerPort)).toContain(5432);
  });

  it("starts postgres with every -c setting of the document, as -c pairs, in the document's order", () => {
    const documented = new Set(primarySettings.map(([k]) => k));
    const settings = postgresSettings(server());
    expect(settings.filter(([k]) => documented.has(k))).toEqual(primarySettings.map(([k, v]) => [k, v]));
  });

  eachRow(primarySettings, ([name, value]) => `sets ${name}=${value}`, ([name, value]) => {
    expect(postgresSettings(server())).toContainEqual([name, value]);
  });

  it("adds only shared_preload_libraries=pg_stat_statements and max_slot_wal_keep_size (fix: pg_stat_statements needs preloading; a down replica must not fill the primary's disk)", () => {
    const documented = new Set(primarySettings.map(([k]) => k));
    const extra = postgresSettings(server()).filter(([k]) => !documented.has(k));
    expect(extra.map(([k]) => k)).toEqual(addedPrimarySettings);
    expect(extra.find(([k]) => k === "shared_preload_libraries")?.[1].split(",")).toContain("pg_stat_statements");
  });

  it("init container init-primary runs postgres:17-alpine", () => {
    expect(init().image).toBe("postgres:17-alpine");
  });

  // Design document, "PostgreSQL › Primary StatefulSet": what the init container creates.
  const initCreates: readonly { fact: string; pattern: RegExp }[] = [
    { fact: "the app user nx_seller_operator", pattern: /CREATE (?:ROLE|USER) nx_seller_operator\b/ },
    { fact: "nx_seller_operator with CREATEDB", pattern: /ROLE nx_seller_operator\b[^;\n]*\bCREATEDB\b/ },
    { fact: "the database nx_seller_core", pattern: /CREATE DATABASE nx_seller_core\b/ },
    { fact: "the extension pg_stat_statements", pattern: /CREATE EXTENSION (?:IF NOT EXISTS )?pg_stat_statements\b/ },
    { fact: "the extension pgcrypto", pattern: /CREATE EXTENSION (?:IF NOT EXISTS )?pgcrypto\b/ },
    { fact: "the replication user repl_user", pattern: /CREATE (?:ROLE|USER) repl_user\b/ },
    { fact: "repl_user with REPLICATION", pattern: /ROLE repl_user\b[^;\n]*\bREPLICATION\b/ },
  ];

  eachRow(initCreates, ({ fact }) => `init-primary creates ${fact}`, ({ pattern }) => {
    expect(runs()).toMatch(pattern);
  });

  it("init-primary enables the extensions inside nx_seller_core", () => {
    const script = runs();
    const connect = script.search(/\\(?:connect|c) nx_seller_core\b/);
    expect(connect).toBeGreaterThanOrEqual(0);
    expect(script.indexOf("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")).toBeGreaterThan(connect);
    expect(script.indexOf("CREATE EXTENSION IF NOT EXISTS pgcrypto")).toBeGreaterThan(connect);
  });

  it("init-primary writes pg_hba.conf entries for replication (repl_user) and SCRAM auth", () => {
    const script = shellScript(init());
    expect(script).toMatch(/pg_hba\.conf/);
    expect(script).toMatch(/^\s*host\s+replication\s+(?:repl_user|all)\s+\S+\s+scram-sha-256\s*$/m);
    expect(script).toMatch(/^\s*host\s+all\s+all\s+\S+\s+scram-sha-256\s*$/m);
    const hostLines = script.split("\n").filter((l) => /^\s*host(?:ssl)?\s/.test(l));
    // Fix: PgBouncer's admin console user is refused as a database login (reject).
    for (const line of hostLines) expect(line, "every network entry uses SCRAM or rejects").toMatch(/\b(?:scram-sha-256|reject)\s*$/);
  });

  it("init-primary takes the passwords of postgres, nx_seller_operator and repl_user from their Secrets", () => {
    const secrets = (init().env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name).filter(Boolean);
    expect(secrets).toEqual(expect.arrayContaining(postgresUsers.map((u) => u.secret)));
  });

  eachRow(schemas.filter((s) => s !== "public"), (schema) => `init-primary creates schema ${schema} in nx_seller_core (Database Schemas; public is built in)`, (schema) => {
    const script = runs();
    expect(script).toMatch(new RegExp(`CREATE SCHEMA (?:IF NOT EXISTS )?${schema}\\b`));
    expect(script.search(new RegExp(`CREATE SCHEMA (?:IF NOT EXISTS )?${schema}\\b`))).toBeGreaterThan(
      script.search(/\\(?:connect|c) nx_seller_core\b/),
    );
  });

  it("keeps its data on volume claim template \"data\" (20Gi, csi-sc-vnpaycloud, ReadWriteOnce)", () => {
    expect(dataClaim(primary()).spec).toMatchObject({
      accessModes: ["ReadWriteOnce"],
      storageClassName: "csi-sc-vnpaycloud",
      resources: { requests: { storage: "20Gi" } },
    });
  });
});

describe("PostgreSQL › Replica StatefulSet", () => {
  const replica = () => statefulSet("nx-persistent", "nx-postgresql-replica");
  const server = () => containerOf(replica(), "postgresql");
  const init = () => initContainerOf(replica(), "init-replica");

  it("is StatefulSet nx-postgresql-replica in nx-persistent: serviceName nx-postgresql-replica-headless, 1 replica", () => {
    expect(replica().spec?.serviceName).toBe("nx-postgresql-replica-headless");
    expect(replica().spec?.replicas).toBe(1);
  });

  it("container postgresql runs postgres:17-alpine", () => {
    expect(server().image).toBe("postgres:17-alpine");
  });

  it("starts postgres with hot_standby=on, hot_standby_feedback=on, shared_buffers=512MB, max_connections=100, in that order", () => {
    const documented = new Set(replicaSettings.map(([k]) => k));
    expect(postgresSettings(server()).filter(([k]) => documented.has(k))).toEqual(replicaSettings.map(([k, v]) => [k, v]));
  });

  it("adds only shared_preload_libraries, wal_level, max_slot_wal_keep_size and primary_conninfo (fix: same libraries as the primary it replays, ready to be promoted, rotated password)", () => {
    const documented = new Set(replicaSettings.map(([k]) => k));
    const extra = postgresSettings(server()).filter(([k]) => !documented.has(k));
    expect(extra.map(([k]) => k)).toEqual(addedReplicaSettings);
  });

  it("init container init-replica (postgres:17-alpine) clones the primary with pg_basebackup as repl_user", () => {
    const c = init();
    expect(c.image).toBe("postgres:17-alpine");
    const vars = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    const script = expandShell(joinContinuations(shellScript(c)), vars);
    const basebackup = script.split("\n").find((l) => l.includes("pg_basebackup"));
    expect(basebackup).toBeDefined();
    expect(basebackup).toMatch(/-h\s+"?nx-postgresql-primary(?:\.nx-persistent(?:\.svc\.cluster\.local)?)?"?(?:\s|$)/);
    expect(basebackup).toMatch(/-U\s+"?repl_user"?(?:\s|$)/);
    expect(secretEnv(c, "REPLICATION_PASSWORD")?.name ?? JSON.stringify(c.env)).toBe("nx-postgresql-replication-secret");
  });

  // Fix: the document's "standby.signal on restart" demoted a promoted replica at its next
  // restart; pg_basebackup -R writes standby.signal once, with the first clone.
  it("init-replica enters hot standby: pg_basebackup -R writes standby.signal at the first clone, never again", () => {
    const script = joinContinuations(shellScript(init()));
    expect(script.split("\n").find((l) => l.includes("pg_basebackup"))).toMatch(/\s-R(?:\s|$)/);
    // It only reads standby.signal (a standby checks its slot on the primary), never writes it.
    expect(script).not.toMatch(/(touch|>)[^\n]*standby\.signal/);
  });

  it("keeps its data on volume claim template \"data\" (20Gi, csi-sc-vnpaycloud)", () => {
    expect(dataClaim(replica()).spec).toMatchObject({
      storageClassName: "csi-sc-vnpaycloud",
      resources: { requests: { storage: "20Gi" } },
    });
  });
});

// =============================================================================================
// Services
// =============================================================================================

interface ServiceRow {
  readonly name: string;
  readonly namespace: string;
  /** The document's DNS column; "(pod DNS)" for the headless Services of PostgreSQL. */
  readonly dns: string;
  /** The document's Port(s) column. */
  readonly ports: string;
  readonly headless: boolean;
  /** The workload whose pods the Service fronts, and the container port each Service port reaches. */
  readonly backend: string;
  readonly targetPorts: string;
}

// Design document: "PostgreSQL › Services", "Redis › Services", "Kafka › Services",
// "Typesense › Service", "Debezium › Service". Headless: "(pod DNS)"/"StatefulSet stable DNS" and
// "Headless"; nx-redis and nx-kafka are "ClusterIP". Backends and container ports: the
// components' sections (PgBouncer: "port 5432 externally, mapping to 6432 internally").
const services: readonly ServiceRow[] = [
  { name: "nx-pgbouncer", namespace: "nx-persistent", dns: "nx-pgbouncer.nx-persistent.svc.cluster.local", ports: "5432", headless: false, backend: "Deployment nx-persistent/nx-pgbouncer", targetPorts: "6432" },
  { name: "nx-postgresql-primary", namespace: "nx-persistent", dns: "nx-postgresql-primary.nx-persistent.svc.cluster.local", ports: "5432", headless: false, backend: "StatefulSet nx-persistent/nx-postgresql-primary", targetPorts: "5432" },
  { name: "nx-postgresql-replica", namespace: "nx-persistent", dns: "nx-postgresql-replica.nx-persistent.svc.cluster.local", ports: "5432", headless: false, backend: "StatefulSet nx-persistent/nx-postgresql-replica", targetPorts: "5432" },
  { name: "nx-postgresql-primary-headless", namespace: "nx-persistent", dns: "(pod DNS)", ports: "5432", headless: true, backend: "StatefulSet nx-persistent/nx-postgresql-primary", targetPorts: "5432" },
  { name: "nx-postgresql-replica-headless", namespace: "nx-persistent", dns: "(pod DNS)", ports: "5432", headless: true, backend: "StatefulSet nx-persistent/nx-postgresql-replica", targetPorts: "5432" },
  { name: "nx-redis-headless", namespace: "nx-broker", dns: "nx-redis-headless.nx-broker.svc.cluster.local", ports: "6379, 16379", headless: true, backend: "StatefulSet nx-broker/nx-redis", targetPorts: "6379, 16379" },
  { name: "nx-redis", namespace: "nx-broker", dns: "nx-redis.nx-broker.svc.cluster.local", ports: "6379, 16379", headless: false, backend: "StatefulSet nx-broker/nx-redis", targetPorts: "6379, 16379" },
  { name: "nx-kafka-headless", namespace: "nx-broker", dns: "nx-kafka-headless.nx-broker.svc.cluster.local", ports: "29092, 9092, 9093", headless: true, backend: "StatefulSet nx-broker/nx-kafka", targetPorts: "29092, 9092, 9093" },
  { name: "nx-kafka", namespace: "nx-broker", dns: "nx-kafka.nx-broker.svc.cluster.local", ports: "29092, 9092", headless: false, backend: "StatefulSet nx-broker/nx-kafka", targetPorts: "29092, 9092" },
  { name: "nx-typesense", namespace: "nx-search", dns: "nx-typesense.nx-search.svc.cluster.local", ports: "8108", headless: false, backend: "StatefulSet nx-search/nx-typesense", targetPorts: "8108" },
  { name: "nx-debezium", namespace: "nx-search", dns: "nx-debezium.nx-search.svc.cluster.local", ports: "8083", headless: false, backend: "Deployment nx-search/nx-debezium", targetPorts: "8083" },
];

describe("Services (PostgreSQL, Redis, Kafka, Typesense, Debezium)", () => {
  it("the rendered Services are exactly the document's", () => {
    expect(ofKind<IService>("Service").map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).sort()).toEqual(
      services.map((s) => `${s.namespace}/${s.name}`).sort(),
    );
  });

  eachRow(services, (r) => `${r.name} (${r.dns}) exposes port(s) ${r.ports}`, (row) => {
    const svc = service(row.namespace, row.name);
    if (row.dns !== "(pod DNS)") expect(serviceDns(row.name, row.namespace)).toBe(row.dns);
    expect((svc.spec?.ports ?? []).map((p) => p.port)).toEqual(portList(row.ports));
    for (const p of svc.spec?.ports ?? []) expect(p.protocol ?? "TCP").toBe("TCP");
  });

  eachRow(services, (r) => `${r.name} is ${r.headless ? "headless (clusterIP None)" : "a ClusterIP Service"}`, (row) => {
    const svc = service(row.namespace, row.name);
    if (row.headless) expect(svc.spec?.clusterIP).toBe("None");
    else {
      expect(svc.spec?.clusterIP).not.toBe("None");
      expect(svc.spec?.type ?? "ClusterIP").toBe("ClusterIP");
    }
  });

  eachRow(services, (r) => `${r.name} fronts the pods of ${r.backend}: port(s) ${r.ports} reach container port(s) ${r.targetPorts}`, (row) => {
    const svc = service(row.namespace, row.name);
    const reached = portList(row.ports).flatMap((port) => targetPortOf(svc, port));
    expect(reached).toEqual(portList(row.targetPorts).map((containerPort) => ({ workload: row.backend, containerPort })));
  });

  it("PgBouncer listens on 6432 behind Service port 5432", () => {
    const pool = deployment("nx-persistent", "nx-pgbouncer");
    expect(targetPortOf(service("nx-persistent", "nx-pgbouncer"), 5432)).toEqual([
      { workload: "Deployment nx-persistent/nx-pgbouncer", containerPort: 6432 },
    ]);
    expect((containerOf(pool, "pgbouncer").ports ?? []).map((p) => p.containerPort)).toEqual([6432]);
  });

  it("nx-kafka-headless publishes not-ready addresses (publishNotReadyAddresses: true, for KRaft bootstrap)", () => {
    expect(service("nx-broker", "nx-kafka-headless").spec?.publishNotReadyAddresses).toBe(true);
  });

  it("the StatefulSets' serviceNames are their headless Services", () => {
    const expected: Record<string, string> = {
      "nx-persistent/nx-postgresql-primary": "nx-postgresql-primary-headless",
      "nx-persistent/nx-postgresql-replica": "nx-postgresql-replica-headless",
      "nx-broker/nx-redis": "nx-redis-headless",
      "nx-broker/nx-kafka": "nx-kafka-headless",
      "nx-search/nx-typesense": "nx-typesense",
    };
    const actual = Object.fromEntries(
      ofKind<IStatefulSet>("StatefulSet").map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s.spec?.serviceName]),
    );
    expect(actual).toEqual(expected);
  });
});

// =============================================================================================
// PgBouncer
// =============================================================================================

// Design document, "PostgreSQL › PgBouncer Connection Pooling" (the ConfigMap's pgbouncer.ini).
const pgbouncerIni = {
  databases: [["nx_seller_core", "host=nx-postgresql-primary.nx-persistent.svc.cluster.local port=5432 dbname=nx_seller_core"]],
  pgbouncer: [
    ["listen_addr", "0.0.0.0"],
    ["listen_port", "6432"],
    ["auth_type", "scram-sha-256"],
    ["pool_mode", "transaction"],
    ["max_client_conn", "200"],
    ["default_pool_size", "20"],
    ["min_pool_size", "5"],
    ["reserve_pool_size", "5"],
    ["max_db_connections", "50"],
  ],
} as const;

/** The pgbouncer.ini PgBouncer is started with, read from the ConfigMap mounted where it points. */
function renderedPgbouncerIni(): { configMap: string; text: string } {
  const pool = deployment("nx-persistent", "nx-pgbouncer");
  const c = containerOf(pool, "pgbouncer");
  const path = [...(c.command ?? []), ...(c.args ?? [])].find((a) => a.endsWith(".ini"));
  if (!path) throw new Error("the pgbouncer container is not given an .ini file");
  const mount = (c.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = (podSpec(pool).volumes ?? []).find((v) => v.name === mount?.name);
  const name = volume?.configMap?.name;
  if (!mount || !name) throw new Error(`${path} is not on a ConfigMap volume`);
  const key = path.slice(mount.mountPath.length + 1);
  const text = configMap("nx-persistent", name).data?.[key];
  if (text === undefined) throw new Error(`ConfigMap ${name} has no key ${key}`);
  return { configMap: name, text };
}

describe("PostgreSQL › PgBouncer Connection Pooling", () => {
  const ini = () => parseIni(renderedPgbouncerIni().text);
  const pool = () => deployment("nx-persistent", "nx-pgbouncer");

  it("PgBouncer is a Deployment in nx-persistent reading its pgbouncer.ini from a ConfigMap", () => {
    expect(renderedPgbouncerIni().configMap).toBeTruthy();
  });

  eachRow(pgbouncerIni.databases, ([key, value]) => `[databases] ${key} = ${value} (in front of the primary)`, ([key, value]) => {
    expect(ini().get("databases")?.get(key)).toBe(value);
  });

  eachRow(pgbouncerIni.pgbouncer, ([key, value]) => `[pgbouncer] ${key} = ${value}`, ([key, value]) => {
    expect(ini().get("pgbouncer")?.get(key)).toBe(value);
  });

  it("the [databases] host is the primary's Service, which serves port 5432", () => {
    const svc = service("nx-persistent", "nx-postgresql-primary");
    expect(targetPortOf(svc, 5432)).toEqual([{ workload: "StatefulSet nx-persistent/nx-postgresql-primary", containerPort: 5432 }]);
  });

  // Fix: the document lists the superuser, which made the pooler a path to a superuser session;
  // the admin console has a user of its own that is not a PostgreSQL role.
  it("an init container generates userlist.txt from the app user's Secret and the admin console user's, not the superuser's", () => {
    const inits = podSpec(pool()).initContainers ?? [];
    const generator = inits.find((c) => /userlist\.txt/.test(shellScript(c)));
    expect(generator, "an init container writing userlist.txt").toBeDefined();
    const c = generator as IContainer;
    const secrets = (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name);
    expect(secrets.sort()).toEqual(["nx-pgbouncer-admin-secret", "nx-postgresql-app-secret"]);
    const script = shellScript(c);
    expect(script).toMatch(/\bnx_seller_operator\b/);
    expect(script).not.toMatch(/\bpostgres\b/);
  });

  it("PgBouncer authenticates against the generated userlist.txt (auth_file on a volume the init container fills)", () => {
    const authFile = ini().get("pgbouncer")?.get("auth_file");
    expect(authFile).toMatch(/userlist\.txt$/);
    const dir = (authFile as string).slice(0, (authFile as string).lastIndexOf("/"));
    const generator = (podSpec(pool()).initContainers ?? []).find((c) => /userlist\.txt/.test(shellScript(c))) as IContainer;
    expect(shellScript(generator)).toContain(authFile as string);
    const writer = (generator.volumeMounts ?? []).find((m) => m.mountPath === dir);
    const reader = (containerOf(pool(), "pgbouncer").volumeMounts ?? []).find((m) => m.mountPath === dir);
    expect(writer?.name).toBeDefined();
    expect(reader?.name).toBe(writer?.name);
  });
});

// =============================================================================================
// Users & Secrets
// =============================================================================================

describe("Users & Secrets", () => {
  eachRow(postgresUsers, (u) => `${u.user} (${u.purpose}) uses Secret ${u.secret}, referenced in nx-persistent`, ({ secret }) => {
    expect(secretReferences("nx-persistent").map((r) => r.secret)).toContain(secret);
  });

  it("PgBouncer reads nx-postgresql-app-secret, never nx-postgresql-superuser-secret (fix); the replica reads nx-postgresql-replication-secret", () => {
    const by = (secret: string) => secretReferences("nx-persistent").filter((r) => r.secret === secret).map((r) => r.by.split(" ").slice(0, 2).join(" "));
    expect(by("nx-postgresql-app-secret")).toContain("Deployment nx-persistent/nx-pgbouncer");
    expect(by("nx-postgresql-superuser-secret")).not.toContain("Deployment nx-persistent/nx-pgbouncer");
    expect(by("nx-postgresql-replication-secret")).toContain("StatefulSet nx-persistent/nx-postgresql-replica");
  });

  it("Redis reads REDIS_PASSWORD from key REDIS_PASSWORD of Secret nx-redis-secret", () => {
    const redis = containerOf(statefulSet("nx-broker", "nx-redis"), "redis");
    expect(secretEnv(redis, "REDIS_PASSWORD")).toEqual({ name: "nx-redis-secret", key: "REDIS_PASSWORD" });
  });

  it("the Kafka JAAS config comes from Secret nx-kafka-jaas, mounted read-only at /etc/kafka-jaas and loaded through KAFKA_OPTS", () => {
    const kafka = statefulSet("nx-broker", "nx-kafka");
    const c = containerOf(kafka, "kafka");
    const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === "/etc/kafka-jaas");
    expect(mount?.readOnly).toBe(true);
    const volume = (podSpec(kafka).volumes ?? []).find((v) => v.name === mount?.name);
    expect(volume?.secret?.secretName).toBe("nx-kafka-jaas");
    const items = volume?.secret?.items;
    if (items) expect(items.map((i) => i.path)).toContain("kafka_server_jaas.conf");
    expect(plainEnv(c, "KAFKA_OPTS")).toBe("-Djava.security.auth.login.config=/etc/kafka-jaas/kafka_server_jaas.conf");
  });

  it("Typesense reads TYPESENSE_API_KEY from key TYPESENSE_API_KEY of Secret nx-typesense-secret", () => {
    const c = containerOf(statefulSet("nx-search", "nx-typesense"), "typesense");
    expect(secretEnv(c, "TYPESENSE_API_KEY")).toEqual({ name: "nx-typesense-secret", key: "TYPESENSE_API_KEY" });
  });

  it("no Secret object is rendered: Git only references Secrets", () => {
    expect(rendered.filter((o) => o.kind === "Secret").map(id)).toEqual([]);
  });
});

// =============================================================================================
// Redis
// =============================================================================================

// Design document, "Redis › StatefulSet" (the redis-server flags of the YAML block, in order).
const redisFlags: readonly (readonly [string, string])[] = [
  ["--requirepass", "$(REDIS_PASSWORD)"],
  ["--masterauth", "$(REDIS_PASSWORD)"],
  ["--cluster-enabled", "yes"],
  ["--cluster-config-file", "/data/nodes.conf"],
  ["--cluster-node-timeout", "5000"],
  ["--appendonly", "yes"],
  ["--appendfsync", "everysec"],
  ["--maxmemory", "256mb"],
  ["--maxmemory-policy", "noeviction"],
];

// Design document, "Redis › Services": the pod addresses used by backend services.
const redisPodAddresses = [
  "nx-redis-0.nx-redis-headless.nx-broker.svc.cluster.local:6379",
  "nx-redis-1.nx-redis-headless.nx-broker.svc.cluster.local:6379",
  "nx-redis-2.nx-redis-headless.nx-broker.svc.cluster.local:6379",
];

describe("Redis › StatefulSet (cluster mode, 3 masters)", () => {
  const redis = () => statefulSet("nx-broker", "nx-redis");
  const server = () => containerOf(redis(), "redis");

  it("is StatefulSet nx-redis in nx-broker: serviceName nx-redis-headless, 3 replicas", () => {
    expect(redis().spec?.serviceName).toBe("nx-redis-headless");
    expect(redis().spec?.replicas).toBe(3);
  });

  it("runs on node.kubernetes.io/pool=stateful as non-root uid/gid/fsGroup 999 with seccomp RuntimeDefault", () => {
    expect(podSpec(redis()).nodeSelector).toEqual({ "node.kubernetes.io/pool": "stateful" });
    expect(podSpec(redis()).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("container redis runs redis:7-alpine", () => {
    expect(server().image).toBe("redis:7-alpine");
  });

  it("runs redis-server with every flag of the document, in order, as flag/value pairs", () => {
    const documented = new Set(redisFlags.map(([f]) => f));
    const pairs = flagPairs(server(), "redis-server");
    expect(pairs.filter(([f]) => documented.has(f))).toEqual(redisFlags.map(([f, v]) => [f, v]));
  });

  eachRow(redisFlags, ([flag, value]) => `redis-server ${flag} ${value}`, ([flag, value]) => {
    expect(flagPairs(server(), "redis-server")).toContainEqual([flag, value]);
  });

  it("adds only the announce flags: each node announces its pod hostname (fix: nodes.conf keeps peer IPs that change on restart)", () => {
    const documented = new Set(redisFlags.map(([f]) => f));
    const extra = Object.fromEntries(flagPairs(server(), "redis-server").filter(([f]) => !documented.has(f)));
    expect(Object.keys(extra).sort()).toEqual(
      ["--cluster-announce-hostname", "--cluster-announce-ip", "--cluster-preferred-endpoint-type"].sort(),
    );
    expect(extra["--cluster-announce-hostname"]).toBe("$(POD_NAME).nx-redis-headless.nx-broker.svc.cluster.local");
    expect(extra["--cluster-preferred-endpoint-type"]).toBe("hostname");
    expect(fieldEnv(server(), "POD_NAME")).toBe("metadata.name");
    expect(fieldEnv(server(), "POD_IP")).toBe("status.podIP");
  });

  it("redis-server is exec'd by a start-up wrapper that refreshes peer addresses in nodes.conf (fix: pod IPs change on restart)", () => {
    const c = server();
    const script = shellScript(c);
    expect(script).toMatch(/\/data\/nodes\.conf/);
    expect(script).toMatch(/exec "\$@"\s*$/);
    expect(c.args?.[0]).toBe("redis-server");
  });

  it("port 6379 is named redis, port 16379 cluster-bus", () => {
    expect((server().ports ?? []).map((p) => [p.name, p.containerPort])).toEqual([
      ["redis", 6379],
      ["cluster-bus", 16379],
    ]);
  });

  it("nodes.conf and the AOF live on the data volume, mounted at /data (Backup & Recovery: restart from AOF)", () => {
    expect(server().volumeMounts).toContainEqual(expect.objectContaining({ name: "data", mountPath: "/data" }));
  });

  eachRow(["nx-redis-headless", "nx-redis"], (name) => `Service ${name} exposes both 6379 (redis) and 16379 (cluster-bus)`, (name) => {
    const svc = service("nx-broker", name);
    expect((svc.spec?.ports ?? []).map((p) => p.port)).toEqual([6379, 16379]);
    expect(targetPortOf(svc, 6379)[0]?.containerPort).toBe(6379);
    expect(targetPortOf(svc, 16379)[0]?.containerPort).toBe(16379);
  });
});

describe("Redis › Cluster Initialization (Job nx-redis-cluster-init)", () => {
  const initJob = () => job("nx-broker", "nx-redis-cluster-init");
  const c = () => containerOf(initJob(), "cluster-init");

  it("is Job nx-redis-cluster-init in nx-broker with backoffLimit 3 and restartPolicy OnFailure", () => {
    expect(initJob().spec?.backoffLimit).toBe(3);
    expect(podSpec(initJob()).restartPolicy).toBe("OnFailure");
  });

  it("has no ttlSecondsAfterFinished (fix: the document's 600 s TTL makes Argo CD re-create and re-run the finished Job)", () => {
    expect(initJob().spec?.ttlSecondsAfterFinished).toBeUndefined();
  });

  it("runs on node.kubernetes.io/pool=default", () => {
    expect(podSpec(initJob()).nodeSelector).toEqual({ "node.kubernetes.io/pool": "default" });
  });

  it("PodSecurity restricted: runAsNonRoot, uid/gid 999, seccomp RuntimeDefault, capabilities drop ALL", () => {
    expect(podSpec(initJob()).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c().securityContext?.capabilities?.drop).toContain("ALL");
    expect(c().securityContext?.allowPrivilegeEscalation).toBe(false);
  });

  it("container cluster-init runs redis:7-alpine authenticated with REDIS_PASSWORD (REDISCLI_AUTH)", () => {
    expect(c().image).toBe("redis:7-alpine");
    expect(secretEnv(c(), "REDIS_PASSWORD")).toEqual({ name: "nx-redis-secret", key: "REDIS_PASSWORD" });
    expect(shellScript(c())).toMatch(/export REDISCLI_AUTH="\$REDIS_PASSWORD"/);
  });

  it("waits for each of nx-redis-{0,1,2}.nx-redis-headless.nx-broker.svc.cluster.local to answer PONG on 6379", () => {
    const script = scriptWithEnv(c());
    for (const address of redisPodAddresses) expect(script).toContain(address.replace(/:6379$/, ""));
    expect(script).toMatch(/redis-cli -h "\$\w+"[^\n]*\bping\b/);
    expect(script).toMatch(/PONG/);
    expect(script).toMatch(/\b6379\b/);
  });

  it("runs `redis-cli --cluster create` with --cluster-replicas 0 over the three pod hostnames, non-interactively", () => {
    const script = scriptWithEnv(c());
    expect(script).toMatch(/redis-cli --cluster create \S+[^\n]*--cluster-replicas 0\b/);
    expect(script).toMatch(/--cluster-yes|echo\s+"?yes"?\s*\|\s*redis-cli --cluster create/);
    // The node list handed to --cluster create is built from the three hostnames (resolved to the
    // IPs redis-cli requires; the nodes announce their hostnames themselves).
    const loop = /for \w+ in ([^;\n]+)/.exec(script)?.[1]?.trim().split(/\s+/) ?? [];
    expect(loop).toEqual(redisPodAddresses.map((a) => a.replace(/:6379$/, "")));
  });

  it("does not create the cluster again when it already exists (fix: a re-run of the Job is harmless)", () => {
    const script = shellScript(c());
    expect(script).toMatch(/cluster_known_nodes|cluster_slots_assigned/);
    // Created only in the branch where no node knows a peer.
    expect(script).toMatch(/if \[ "\$formed" = 1 \]; then\n(?:(?!redis-cli --cluster create)[\s\S])*\nelse\n[\s\S]*redis-cli --cluster create[\s\S]*\nfi\n/);
  });
});

// =============================================================================================
// Kafka
// =============================================================================================

// Design document, "Kafka › Listeners".
const kafkaListeners = [
  { listener: "INTERNAL", port: 29092, protocol: "PLAINTEXT", containerPortName: "internal" },
  { listener: "CLIENT", port: 9092, protocol: "SASL_PLAINTEXT", containerPortName: "client" },
  { listener: "CONTROLLER", port: 9093, protocol: "PLAINTEXT", containerPortName: "controller" },
] as const;

// Design document, "Kafka › Key Configuration (from generated server.properties)".
const kafkaKeyConfiguration: readonly (readonly [string, string])[] = [
  ["offsets.topic.replication.factor", "3"],
  ["transaction.state.log.replication.factor", "3"],
  ["transaction.state.log.min.isr", "2"],
  ["default.replication.factor", "3"],
  ["min.insync.replicas", "2"],
  ["num.partitions", "3"],
  ["log.retention.hours", "168"], // 7 days
  ["log.retention.bytes", "1073741824"], // 1 GB per partition
  ["log.segment.bytes", "1073741824"],
  ["auto.create.topics.enable", "false"],
];

// Design document, "Kafka › Backend Connection Config" (APP_ENV_KAFKA_BROKERS).
const kafkaBrokerAddresses = [
  "nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
  "nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
  "nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
];

/** The server.properties template of the brokers (ConfigMap), found through the pod's volumes. */
function kafkaServerProperties(): Map<string, string> {
  const kafka = statefulSet("nx-broker", "nx-kafka");
  const texts = (podSpec(kafka).volumes ?? [])
    .map((v) => v.configMap?.name)
    .filter((n): n is string => n !== undefined)
    .map((n) => configMap("nx-broker", n).data?.["server.properties"])
    .filter((t): t is string => t !== undefined);
  if (texts.length !== 1) throw new Error(`expected one ConfigMap with server.properties mounted into nx-kafka, found ${texts.length}`);
  return parseProperties(texts[0] as string);
}

/** `NAME://host:port,...` as name -> [host, port]. */
function listenerList(value: string): Map<string, [string, number]> {
  return new Map(
    value.split(",").map((entry) => {
      const m = /^([A-Za-z_]+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
      if (!m) throw new Error(`not a listener: ${entry}`);
      return [m[1] as string, [m[2] as string, Number(m[3])]];
    }),
  );
}

describe("Kafka › KRaft StatefulSet with SASL/SCRAM-SHA-512", () => {
  const kafka = () => statefulSet("nx-broker", "nx-kafka");
  const broker = () => containerOf(kafka(), "kafka");
  const init = () => initContainerOf(kafka(), "kafka-init-config");

  it("is StatefulSet nx-kafka in nx-broker: serviceName nx-kafka-headless, 3 replicas, podManagementPolicy Parallel", () => {
    expect(kafka().spec?.serviceName).toBe("nx-kafka-headless");
    expect(kafka().spec?.replicas).toBe(3);
    expect(kafka().spec?.podManagementPolicy).toBe("Parallel");
  });

  it("runs on node.kubernetes.io/pool=stateful as non-root uid/gid/fsGroup 1000 with seccomp RuntimeDefault", () => {
    expect(podSpec(kafka()).nodeSelector).toEqual({ "node.kubernetes.io/pool": "stateful" });
    expect(podSpec(kafka()).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("init container kafka-init-config (apache/kafka:4.1.1) generates /config/server.properties with node.id from the pod ordinal", () => {
    expect(init().image).toBe("apache/kafka:4.1.1");
    const script = shellScript(init());
    expect(script).toMatch(/>\s*\/config\/server\.properties/);
    expect(script).toMatch(/node\.id=/);
    expect(fieldEnv(init(), "POD_NAME")).toBe("metadata.name");
    expect(script).toMatch(/node\.id=\$\{POD_NAME##\*-\}/);
  });

  it("kafka-init-config removes lost+found from the data volume", () => {
    const script = shellScript(init());
    expect(script).toMatch(/(?:rmdir|rm -r[f]?|rm -fr)\s+\S*\/var\/lib\/kafka\/data\/lost\+found/);
    expect(init().volumeMounts).toContainEqual(expect.objectContaining({ name: "data", mountPath: "/var/lib/kafka/data" }));
  });

  it("kafka-init-config runs kafka-storage.sh format on first boot", () => {
    const script = joinContinuations(shellScript(init()));
    expect(script).toMatch(/kafka-storage\.sh format\b/);
    expect(script).toMatch(/meta\.properties|--ignore-formatted/);
  });

  it("kafka-init-config and the broker share the config volume at /config", () => {
    const fromInit = (init().volumeMounts ?? []).find((m) => m.mountPath === "/config")?.name;
    const fromBroker = (broker().volumeMounts ?? []).find((m) => m.mountPath === "/config")?.name;
    expect(fromInit).toBeDefined();
    expect(fromBroker).toBe(fromInit);
  });

  it("container kafka runs apache/kafka:4.1.1: /opt/kafka/bin/kafka-server-start.sh /config/server.properties", () => {
    expect(broker().image).toBe("apache/kafka:4.1.1");
    expect([...(broker().command ?? []), ...(broker().args ?? [])]).toEqual([
      "/opt/kafka/bin/kafka-server-start.sh",
      "/config/server.properties",
    ]);
  });

  it("KAFKA_OPTS=-Djava.security.auth.login.config=/etc/kafka-jaas/kafka_server_jaas.conf", () => {
    expect(plainEnv(broker(), "KAFKA_OPTS")).toBe("-Djava.security.auth.login.config=/etc/kafka-jaas/kafka_server_jaas.conf");
  });

  eachRow(kafkaListeners, (l) => `${l.listener} listener: container port ${l.port} named ${l.containerPortName}`, ({ port, containerPortName }) => {
    expect(broker().ports).toContainEqual(expect.objectContaining({ containerPort: port, name: containerPortName }));
  });

  // Design document, "Kafka › StatefulSet": the volumeMounts of the YAML block.
  eachRow(
    [
      { volume: "data", mountPath: "/var/lib/kafka/data", readOnly: false },
      { volume: "config", mountPath: "/config", readOnly: false },
      { volume: "jaas", mountPath: "/etc/kafka-jaas", readOnly: true },
    ],
    (m) => `mounts ${m.volume} at ${m.mountPath}${m.readOnly ? " read-only" : ""}`,
    ({ volume, mountPath, readOnly }) => {
      const mount = (broker().volumeMounts ?? []).find((m) => m.mountPath === mountPath);
      expect(mount?.name).toBe(volume);
      expect(mount?.readOnly ?? false).toBe(readOnly);
    },
  );

  it("volume config is an emptyDir with sizeLimit 8Mi; volume jaas is Secret nx-kafka-jaas; data is the 10Gi claim", () => {
    const volumes = podSpec(kafka()).volumes ?? [];
    expect(volumes.find((v) => v.name === "config")?.emptyDir).toMatchObject({ sizeLimit: "8Mi" });
    expect(volumes.find((v) => v.name === "jaas")?.secret?.secretName).toBe("nx-kafka-jaas");
    expect(dataClaim(kafka()).spec?.resources?.requests?.storage).toBe("10Gi");
  });
});

describe("Kafka › server.properties", () => {
  eachRow(kafkaKeyConfiguration, ([key, value]) => `${key}=${value}`, ([key, value]) => {
    expect(kafkaServerProperties().get(key)).toBe(value);
  });

  it("KRaft, no ZooKeeper: every node is broker and controller (process.roles=broker,controller)", () => {
    const props = kafkaServerProperties();
    expect(props.get("process.roles")).toBe("broker,controller");
    expect(props.has("zookeeper.connect")).toBe(false);
    expect(props.get("controller.listener.names")).toBe("CONTROLLER");
  });

  it("the controller quorum is the three brokers on the CONTROLLER port 9093", () => {
    // Shared by every broker; the init container writes it into each node's own server.properties.
    const props = kafkaServerProperties();
    const written = /controller\.quorum\.voters=([^"\n]+)/.exec(scriptWithEnv(initContainerOf(statefulSet("nx-broker", "nx-kafka"), "kafka-init-config")))?.[1];
    const quorum = props.get("controller.quorum.voters") ?? props.get("controller.quorum.bootstrap.servers") ?? written ?? "";
    for (const i of [0, 1, 2]) expect(quorum).toContain(`nx-kafka-${i}.nx-kafka-headless.nx-broker.svc.cluster.local:9093`);
  });

  eachRow(kafkaListeners, (l) => `listener ${l.listener} on port ${l.port} speaks ${l.protocol}`, ({ listener, port, protocol }) => {
    const props = kafkaServerProperties();
    expect(listenerList(props.get("listeners") ?? "").get(listener)?.[1]).toBe(port);
    const map = new Map((props.get("listener.security.protocol.map") ?? "").split(",").map((e) => e.split(":") as [string, string]));
    expect(map.get(listener)).toBe(protocol);
  });

  it("CLIENT authenticates with SCRAM-SHA-512", () => {
    const props = kafkaServerProperties();
    const mechanisms = props.get("listener.name.client.sasl.enabled.mechanisms") ?? props.get("sasl.enabled.mechanisms") ?? "";
    expect(mechanisms.split(",")).toEqual(["SCRAM-SHA-512"]);
  });

  it("brokers talk to each other on INTERNAL (inter-broker communication)", () => {
    expect(kafkaServerProperties().get("inter.broker.listener.name")).toBe("INTERNAL");
  });

  it("data lives on the mounted volume (log.dirs=/var/lib/kafka/data)", () => {
    expect(kafkaServerProperties().get("log.dirs")).toBe("/var/lib/kafka/data");
  });

  it("Backup & Recovery: Kafka retains logs 7 days / 1 GB per partition", () => {
    const props = kafkaServerProperties();
    expect(Number(props.get("log.retention.hours"))).toBe(7 * 24);
    expect(Number(props.get("log.retention.bytes"))).toBe(2 ** 30);
  });
});

describe("Kafka › Services and SASL/SCRAM user initialization", () => {
  it("nx-kafka-headless: ports 29092, 9092, 9093, headless, publishNotReadyAddresses true", () => {
    const svc = service("nx-broker", "nx-kafka-headless");
    expect((svc.spec?.ports ?? []).map((p) => p.port)).toEqual([29092, 9092, 9093]);
    expect(svc.spec?.clusterIP).toBe("None");
    expect(svc.spec?.publishNotReadyAddresses).toBe(true);
  });

  it("nx-kafka: ClusterIP with ports 29092, 9092", () => {
    const svc = service("nx-broker", "nx-kafka");
    expect((svc.spec?.ports ?? []).map((p) => p.port)).toEqual([29092, 9092]);
    expect(svc.spec?.clusterIP).not.toBe("None");
  });

  const scram = () => containerOf(job("nx-broker", "nx-kafka-scram-init"), "scram-init");
  /** The kafka-configs.sh --alter command line, with the script's variables expanded. */
  const alterCommand = () => {
    const script = joinContinuations(shellScript(scram()));
    const line = script.split("\n").find((l) => /kafka-configs\.sh\b.*--alter\b/.test(l));
    if (!line) throw new Error("the scram-init script has no kafka-configs.sh --alter command");
    return expandShell(line, { ...plainEnvVars(scram()), ...shellAssignments(script) });
  };

  it("Job nx-kafka-scram-init runs apache/kafka:4.1.1 in nx-broker", () => {
    expect(scram().image).toBe("apache/kafka:4.1.1");
  });

  it("creates SCRAM-SHA-512 user nx.staging: kafka-configs.sh --alter --add-config SCRAM-SHA-512=[iterations=8192,password=…] --entity-type users --entity-name nx.staging", () => {
    const command = alterCommand();
    expect(command).toMatch(/\/opt\/kafka\/bin\/kafka-configs\.sh /);
    expect(command).toMatch(/--add-config "SCRAM-SHA-512=\[iterations=8192,password=\$\{?KAFKA_SASL_PASSWORD\}?\]"/);
    expect(command).toMatch(/--entity-type users\b/);
    expect(command).toMatch(/--entity-name "?nx\.staging"?(?:\s|$)/);
    expect(secretEnv(scram(), "KAFKA_SASL_PASSWORD")?.name).toBeTruthy();
  });

  it("talks to the INTERNAL listener (:29092, PLAINTEXT, no SASL), starting with nx-kafka-0", () => {
    const bootstrap = /--bootstrap-server "?([^"\s]+)"?/.exec(alterCommand())?.[1] ?? "";
    const addresses = bootstrap.split(",");
    expect(addresses).toContain("nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:29092");
    for (const a of addresses) expect(a).toMatch(/:29092$/);
    expect(alterCommand()).not.toMatch(/--command-config/);
  });

  it("the Job has no ttlSecondsAfterFinished (fix: under Argo CD a TTL-deleted Job is re-created and re-run)", () => {
    expect(job("nx-broker", "nx-kafka-scram-init").spec?.ttlSecondsAfterFinished).toBeUndefined();
  });
});

// =============================================================================================
// Typesense
// =============================================================================================

describe("Typesense › Single Instance", () => {
  const typesense = () => statefulSet("nx-search", "nx-typesense");
  const c = () => containerOf(typesense(), "typesense");

  it("is StatefulSet nx-typesense in nx-search: serviceName nx-typesense, 1 replica", () => {
    expect(typesense().spec?.serviceName).toBe("nx-typesense");
    expect(typesense().spec?.replicas).toBe(1);
  });

  it("runs on node.kubernetes.io/pool=stateful as non-root uid/gid/fsGroup 1000 with seccomp RuntimeDefault", () => {
    expect(podSpec(typesense()).nodeSelector).toEqual({ "node.kubernetes.io/pool": "stateful" });
    expect(podSpec(typesense()).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("container typesense runs typesense/typesense:27.1 with exactly --data-dir=/data --api-port=8108 --api-key=$(TYPESENSE_API_KEY) --enable-cors", () => {
    expect(c().image).toBe("typesense/typesense:27.1");
    expect(c().args).toEqual(["--data-dir=/data", "--api-port=8108", "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors"]);
  });

  it("port 8108 is named http", () => {
    expect(c().ports).toEqual([expect.objectContaining({ containerPort: 8108, name: "http" })]);
  });

  it("the data dir /data is the 5Gi claim", () => {
    expect(c().volumeMounts).toContainEqual(expect.objectContaining({ name: "data", mountPath: "/data" }));
    expect(dataClaim(typesense()).spec?.resources?.requests?.storage).toBe("5Gi");
  });

  it("Service nx-typesense serves 8108", () => {
    expect(targetPortOf(service("nx-search", "nx-typesense"), 8108)).toEqual([
      { workload: "StatefulSet nx-search/nx-typesense", containerPort: 8108 },
    ]);
  });
});

// =============================================================================================
// Debezium
// =============================================================================================

describe("Debezium › CDC Connector", () => {
  const connect = () => deployment("nx-search", "nx-debezium");
  const c = () => containerOf(connect(), "debezium");
  const initJob = () => job("nx-search", "nx-debezium-init");

  // Design document, "Debezium › Deployment".
  const properties: readonly { property: string; value: string; actual: () => string }[] = [
    // Fixed: quay.io/debezium/connect:3.6.0.Final (docs/design-document-fixes.md).
    { property: "Image", value: "quay.io/debezium/connect:3.6.0.Final", actual: () => c().image ?? "" },
    { property: "Namespace", value: "nx-search", actual: () => connect().metadata?.namespace ?? "" },
    { property: "Replicas", value: "1", actual: () => String(connect().spec?.replicas) },
    { property: "Port", value: "8083", actual: () => (c().ports ?? []).map((p) => p.containerPort).join(", ") },
  ];
  eachRow(properties, (p) => `Deployment nx-debezium › ${p.property}: ${p.value}`, ({ value, actual }) => {
    expect(actual()).toBe(value);
  });

  it("Service nx-debezium serves 8083", () => {
    expect(targetPortOf(service("nx-search", "nx-debezium"), 8083)).toEqual([
      { workload: "Deployment nx-search/nx-debezium", containerPort: 8083 },
    ]);
  });

  it("Job nx-debezium-init registers a PostgreSQL source connector with Kafka Connect at nx-debezium:8083", () => {
    const spec = podSpec(initJob());
    const container = spec.containers[0] as IContainer;
    const script = joinContinuations(shellScript(container));
    expect(script).toMatch(/curl\b[^\n]*-X\s*(?:PUT|POST)\b[^\n]*http:\/\/nx-debezium(?:\.nx-search(?:\.svc(?:\.cluster\.local)?)?)?:8083\/connectors\b/);
    // The connector configuration it sends: the JSON it assembles from the keys (one a property)
    // of the ConfigMap mounted into the Job.
    expect(script).toMatch(/--data(?:-binary)? @"?\$body"?/);
    const folder = /for \w+ in (\S+)\/\*; do/.exec(script)?.[1] ?? "";
    const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === folder);
    const cm = (spec.volumes ?? []).find((v) => v.name === mount?.name)?.configMap?.name;
    expect(cm, `the folder ${folder} is a ConfigMap`).toBeDefined();
    const config = configMap("nx-search", cm as string).data ?? {};
    expect(config).toMatchObject({
      "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
      "database.hostname": "nx-postgresql-primary.nx-persistent.svc.cluster.local",
      "database.port": "5432",
      "database.dbname": "nx_seller_core",
    });
  });

  it("Debezium streams into Kafka on the CLIENT listener (the three brokers on 9092, SASL_PLAINTEXT, SCRAM-SHA-512)", () => {
    expect(plainEnv(c(), "BOOTSTRAP_SERVERS")?.split(",")).toEqual(kafkaBrokerAddresses);
    expect(plainEnv(c(), "CONNECT_SECURITY_PROTOCOL")).toBe("SASL_PLAINTEXT");
    expect(plainEnv(c(), "CONNECT_SASL_MECHANISM")).toBe("SCRAM-SHA-512");
    expect(plainEnv(c(), "CONNECT_SASL_JAAS_CONFIG")).toMatch(/ScramLoginModule required username="nx\.staging"/);
  });
});

// =============================================================================================
// Pod Security (restricted) — "Redis › PodSecurity Restricted": the restricted PodSecurity
// Standard is enforced on all namespaces.
// =============================================================================================

const restrictedVolumeTypes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "name"];

describe("PodSecurity restricted on every namespace and every pod", () => {
  eachRow(layerNamespaces, (name) => `Namespace ${name} enforces pod-security.kubernetes.io/enforce=restricted`, (name) => {
    const ns = only<INamespace>("Namespace", undefined, name);
    expect(ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("the pods checked are those of the 7 workloads of the Component Summary and of the 4 init Jobs", () => {
    expect(workloads.map((w) => id(w).replace(/^(Job .*)-[0-9a-f]{8}$/, "$1")).sort()).toEqual(
      [
        ...componentSummary.map((r) => `${r.kind} ${r.namespace}/${r.name}`),
        "Job nx-persistent/nx-postgresql-setup",
        "Job nx-broker/nx-redis-cluster-init",
        "Job nx-broker/nx-kafka-scram-init",
        "Job nx-search/nx-debezium-init",
      ].sort(),
    );
  });

  const pods = workloads.map((w) => ({ workload: id(w), w }));

  eachRow(pods, (p) => `${p.workload}: runAsNonRoot and seccomp RuntimeDefault for every container`, ({ w }) => {
    const pod = podSpec(w).securityContext;
    for (const c of allContainers(w)) {
      const sc = c.securityContext;
      expect(sc?.runAsNonRoot ?? pod?.runAsNonRoot, `${c.name} runAsNonRoot`).toBe(true);
      expect(sc?.runAsUser ?? pod?.runAsUser, `${c.name} runAsUser`).not.toBe(0);
      expect((sc?.seccompProfile ?? pod?.seccompProfile)?.type, `${c.name} seccomp`).toBe("RuntimeDefault");
    }
  });

  eachRow(pods, (p) => `${p.workload}: every container and init container has allowPrivilegeEscalation false and drops ALL`, ({ w }) => {
    for (const c of allContainers(w)) {
      expect(c.securityContext?.allowPrivilegeEscalation, `${c.name} allowPrivilegeEscalation`).toBe(false);
      expect(c.securityContext?.capabilities?.drop, `${c.name} capabilities.drop`).toContain("ALL");
      for (const cap of c.securityContext?.capabilities?.add ?? []) expect(cap, `${c.name} capabilities.add`).toBe("NET_BIND_SERVICE");
      expect(c.securityContext?.privileged ?? false, `${c.name} privileged`).toBe(false);
    }
  });

  eachRow(pods, (p) => `${p.workload}: no host namespaces and only restricted volume types`, ({ w }) => {
    const spec = podSpec(w);
    expect([spec.hostNetwork, spec.hostPID, spec.hostIPC].filter(Boolean)).toEqual([]);
    for (const v of spec.volumes ?? []) {
      expect(Object.keys(v).filter((k) => !restrictedVolumeTypes.includes(k)), `volume ${v.name}`).toEqual([]);
    }
  });
});

// =============================================================================================
// Network Policies
// =============================================================================================

interface AllowRow {
  readonly policy: string;
  readonly namespace: string;
  readonly direction: "Ingress" | "Egress" | "Both";
  /** The document's From/To column. */
  readonly fromTo: string;
  /** Namespaces of the peers the From/To column names. */
  readonly peerNamespaces: readonly string[];
  /** The document's Ports column. */
  readonly ports: string;
  /** Workloads the policy must apply to, where the From/To column names them. */
  readonly appliesTo?: readonly string[];
  /** Workloads the peers must select, where the From/To column names them. */
  readonly peers?: readonly string[];
  /** Set where the generator deliberately corrects the row (checked by its own tests below). */
  readonly fix?: string;
}

// Design document, "Network Policies › Allow Rules": the rows of the layer's three namespaces
// (nx-persistent, nx-broker, nx-search; the nx-backend rows belong to the backend's repository).
const allowRules: readonly AllowRow[] = [
  { policy: "allow-from-backend", namespace: "nx-broker", direction: "Ingress", fromTo: "nx-backend + nx-broker", peerNamespaces: ["nx-backend", "nx-broker"], ports: "6379, 16379, 9092, 29092, 9093",
    fix: "clients get Redis 6379 and Kafka CLIENT 9092 only; nx-broker's own traffic moves to allow-redis-cluster / allow-kafka-cluster" },
  { policy: "allow-broker-internal", namespace: "nx-broker", direction: "Egress", fromTo: "nx-broker", peerNamespaces: ["nx-broker"], ports: "6379, 16379, 9092, 29092, 9093" },
  { policy: "allow-pg-replication", namespace: "nx-persistent", direction: "Both", fromTo: "PG pods within nx-persistent", peerNamespaces: ["nx-persistent"], ports: "5432",
    appliesTo: ["StatefulSet nx-persistent/nx-postgresql-primary", "StatefulSet nx-persistent/nx-postgresql-replica"],
    peers: ["StatefulSet nx-persistent/nx-postgresql-primary", "StatefulSet nx-persistent/nx-postgresql-replica"] },
  { policy: "allow-pgbouncer-to-primary", namespace: "nx-persistent", direction: "Egress", fromTo: "PgBouncer → PG primary", peerNamespaces: ["nx-persistent"], ports: "5432",
    appliesTo: ["Deployment nx-persistent/nx-pgbouncer"], peers: ["StatefulSet nx-persistent/nx-postgresql-primary"] },
  { policy: "allow-pgbouncer-from-backend", namespace: "nx-persistent", direction: "Ingress", fromTo: "nx-backend → PgBouncer", peerNamespaces: ["nx-backend"], ports: "6432",
    appliesTo: ["Deployment nx-persistent/nx-pgbouncer"] },
  { policy: "allow-from-backend", namespace: "nx-persistent", direction: "Ingress", fromTo: "nx-backend", peerNamespaces: ["nx-backend"], ports: "5432, 6432" },
  { policy: "allow-from-backend", namespace: "nx-search", direction: "Ingress", fromTo: "nx-backend", peerNamespaces: ["nx-backend"], ports: "8108" },
  { policy: "allow-search-internal", namespace: "nx-search", direction: "Both", fromTo: "Within nx-search", peerNamespaces: ["nx-search"], ports: "8083, 8108",
    fix: "8108 only: Kafka Connect's REST API (8083) reveals the worker's passwords; allow-connect-rest opens it to the registration Job" },
  { policy: "egress-nx-search", namespace: "nx-search", direction: "Egress", fromTo: "nx-persistent, nx-broker", peerNamespaces: ["nx-persistent", "nx-broker"], ports: "5432, 9092",
    fix: "applies to the Debezium pods and names the primary (5432) and the brokers (9092) instead of whole namespaces" },
];

// Policies the generator adds to fix flows the document's rows would block or open too widely
// (generator/components/network-policies.ts, each marked "Fix:").
const fixPolicies = [
  { policy: "allow-primary-from-pgbouncer", namespace: "nx-persistent", fix: "the document allows PgBouncer's egress but not the primary's ingress from it" },
  { policy: "allow-primary-from-debezium", namespace: "nx-persistent", fix: "Debezium (nx-search) reads the primary's logical replication stream" },
  { policy: "allow-setup-to-primary", namespace: "nx-persistent", fix: "the setup Job's egress to the primary, and nowhere else (allow-pg-replication leaves it out)" },
  { policy: "allow-primary-from-setup", namespace: "nx-persistent", fix: "the primary admits the setup Job" },
  { policy: "allow-redis-cluster", namespace: "nx-broker", fix: "only Redis pods (and the init Job) reach Redis; the cluster bus is not namespace-wide" },
  { policy: "allow-kafka-cluster", namespace: "nx-broker", fix: "only brokers (and the SCRAM Job) reach the PLAINTEXT INTERNAL and CONTROLLER listeners" },
  { policy: "allow-kafka-from-debezium", namespace: "nx-broker", fix: "Debezium (nx-search) produces change events to Kafka" },
  { policy: "allow-connect-rest", namespace: "nx-search", fix: "Kafka Connect's REST API admits the registration Job and the workers only" },
  { policy: "allow-connector-registration", namespace: "nx-search", fix: "the registration Job's egress to Kafka Connect's REST API" },
];

const knownNamespaces = [...layerNamespaces, "nx-backend", "nx-app", "nx-internal", "kube-system"];

/** Namespaces a peer list reaches (a peer without namespaceSelector is the policy's own namespace). */
function peerNamespacesOf(policyNamespace: string, peers: readonly INetworkPolicyPeer[] | undefined): string[] {
  if (!peers || peers.length === 0) return ["(any)"];
  const names = new Set<string>();
  for (const peer of peers) {
    if (peer.ipBlock) names.add(`ipBlock ${peer.ipBlock.cidr}`);
    else if (!peer.namespaceSelector) names.add(policyNamespace);
    else for (const ns of knownNamespaces) if (selectorMatches(peer.namespaceSelector, namespaceLabels(ns))) names.add(ns);
  }
  return [...names].sort();
}

type PolicyRule = { peers: INetworkPolicyPeer[] | undefined; ports: INetworkPolicyPort[] | undefined };

function rulesOf(p: INetworkPolicy, direction: Direction): PolicyRule[] {
  return direction === "Ingress"
    ? (p.spec?.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
    : (p.spec?.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
}

const numeric = (a: number, b: number) => a - b;

/** Every TCP port the rules open, sorted (named ports are reported as NaN, so they never match). */
const tcpPorts = (rules: PolicyRule[]): number[] =>
  [...new Set(rules.flatMap((r) => (r.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP").map((p) => Number(p.port))))].sort(numeric);

function workloadsSelected(namespace: string, selector: ILabelSelector | undefined): string[] {
  return workloads
    .filter((w) => w.kind !== "Job" && w.metadata?.namespace === namespace && selectorMatches(selector, podLabels(w)))
    .map(id)
    .sort();
}

describe("Network Policies › Deny Defaults", () => {
  eachRow(layerNamespaces, (ns) => `default-deny-all in ${ns} denies all Ingress and Egress of every pod`, (namespace) => {
    const p = networkPolicy(namespace, "default-deny-all");
    expect(Object.keys(p.spec?.podSelector?.matchLabels ?? {})).toEqual([]);
    expect(p.spec?.podSelector?.matchExpressions ?? []).toEqual([]);
    expect(p.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(p.spec?.ingress ?? []).toEqual([]);
    expect(p.spec?.egress ?? []).toEqual([]);
  });
});

describe("Network Policies › Allow Rules", () => {
  eachRow(layerNamespaces, (ns) => `allow-dns in ${ns}: Egress to kube-system on 53 (UDP+TCP)`, (namespace) => {
    const p = networkPolicy(namespace, "allow-dns");
    expect(policyTypes(p)).toEqual(["Egress"]);
    expect(Object.keys(p.spec?.podSelector?.matchLabels ?? {})).toEqual([]);
    const rules = rulesOf(p, "Egress");
    expect(rules.flatMap((r) => peerNamespacesOf(namespace, r.peers))).toEqual(["kube-system"]);
    const ports = rules.flatMap((r) => (r.ports ?? []).map((x) => `${x.port}/${x.protocol ?? "TCP"}`)).sort();
    expect(ports).toEqual(["53/TCP", "53/UDP"]);
  });

  it("the policies of the layer are exactly the document's rows plus the named fixes", () => {
    const documented = [
      ...layerNamespaces.flatMap((ns) => [`${ns}/default-deny-all`, `${ns}/allow-dns`]),
      ...allowRules.map((r) => `${r.namespace}/${r.policy}`),
      ...fixPolicies.map((f) => `${f.namespace}/${f.policy}`),
    ].sort();
    expect(policies().map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort()).toEqual(documented);
  });

  eachRow(
    allowRules.filter((r) => !r.fix),
    (r) => `${r.policy} in ${r.namespace}: ${r.direction}, ${r.fromTo}, ports ${r.ports}`,
    (row) => {
      const p = networkPolicy(row.namespace, row.policy);
      const directions: Direction[] = row.direction === "Both" ? ["Ingress", "Egress"] : [row.direction];
      expect([...policyTypes(p)].sort()).toEqual([...directions].sort());
      for (const direction of directions) {
        const rules = rulesOf(p, direction);
        expect(rules.length, `${direction} rules`).toBeGreaterThan(0);
        expect(
          [...new Set(rules.flatMap((r) => peerNamespacesOf(row.namespace, r.peers)))].sort(),
          `${direction} peers' namespaces`,
        ).toEqual([...row.peerNamespaces].sort());
        expect(tcpPorts(rules), `${direction} ports`).toEqual(portList(row.ports).sort(numeric));
        if (row.peers) {
          for (const r of rules) {
            const selected = (r.peers ?? []).flatMap((peer) => workloadsSelected(row.namespace, peer.podSelector));
            expect([...new Set(selected)].sort(), `${direction} peers`).toEqual([...row.peers].sort());
          }
        }
      }
      if (row.appliesTo) expect(workloadsSelected(row.namespace, p.spec?.podSelector)).toEqual([...row.appliesTo].sort());
    },
  );

  // The document's row: Ingress from "nx-backend + nx-broker" on 6379, 16379, 9092, 29092, 9093.
  it("allow-from-backend in nx-broker opens only 6379 and 9092 to nx-backend (fix: cluster bus, INTERNAL and CONTROLLER closed to clients)", () => {
    const documentRow = allowRules.find((r) => r.namespace === "nx-broker" && r.policy === "allow-from-backend");
    expect(documentRow?.fix).toBeDefined();
    const p = networkPolicy("nx-broker", "allow-from-backend");
    expect(policyTypes(p)).toEqual(["Ingress"]);
    const rules = rulesOf(p, "Ingress");
    expect([...new Set(rules.flatMap((r) => peerNamespacesOf("nx-broker", r.peers)))]).toEqual(["nx-backend"]);
    expect(tcpPorts(rules)).toEqual([6379, 9092]);
  });

  // The document's row: Egress from nx-search to "nx-persistent, nx-broker" on 5432, 9092.
  it("egress-nx-search lets Debezium out to the PostgreSQL primary on 5432 and the Kafka brokers on 9092 (fix: Debezium's pods and the named targets instead of whole namespaces)", () => {
    const documentRow = allowRules.find((r) => r.namespace === "nx-search" && r.policy === "egress-nx-search");
    expect(documentRow?.fix).toBeDefined();
    const p = networkPolicy("nx-search", "egress-nx-search");
    expect(policyTypes(p)).toEqual(["Egress"]);
    expect(workloadsSelected("nx-search", p.spec?.podSelector)).toEqual(["Deployment nx-search/nx-debezium"]);
    const targets = rulesOf(p, "Egress").flatMap((r) =>
      (r.peers ?? []).flatMap((peer) =>
        peerNamespacesOf("nx-search", [peer]).flatMap((ns) =>
          workloadsSelected(ns, peer.podSelector).map((w) => `${w}:${tcpPorts([r]).join(",")}`),
        ),
      ),
    );
    expect(targets.sort()).toEqual(["StatefulSet nx-broker/nx-kafka:9092", "StatefulSet nx-persistent/nx-postgresql-primary:5432"]);
    // Still the document's namespaces and ports, only narrowed.
    const rules = rulesOf(p, "Egress");
    expect([...new Set(rules.flatMap((r) => peerNamespacesOf("nx-search", r.peers)))].sort()).toEqual(["nx-broker", "nx-persistent"]);
    expect(tcpPorts(rules)).toEqual(portList(documentRow?.ports ?? "").sort(numeric));
  });

  // The document's row: Both directions within nx-search on 8083, 8108.
  it("allow-search-internal keeps both directions within nx-search on 8108 only (fix: Kafka Connect's 8083 goes through allow-connect-rest)", () => {
    const documentRow = allowRules.find((r) => r.namespace === "nx-search" && r.policy === "allow-search-internal");
    expect(documentRow?.fix).toBeDefined();
    const p = networkPolicy("nx-search", "allow-search-internal");
    expect([...policyTypes(p)].sort()).toEqual(["Egress", "Ingress"]);
    for (const direction of ["Ingress", "Egress"] as const) {
      const rules = rulesOf(p, direction);
      expect([...new Set(rules.flatMap((r) => peerNamespacesOf("nx-search", r.peers)))]).toEqual(["nx-search"]);
      expect(tcpPorts(rules)).toEqual([8108]);
    }
  });

  eachRow(fixPolicies, (f) => `${f.policy} in ${f.namespace} exists (fix: ${f.fix})`, ({ policy, namespace }) => {
    expect(networkPolicy(namespace, policy).metadata?.name).toBe(policy);
  });
});

describe("Network Policies › the flows the document describes get through", () => {
  const pod = (kind: WorkloadKind, namespace: string, name: string) => podOf(workload(kind, namespace, name));
  const primary = () => pod("StatefulSet", "nx-persistent", "nx-postgresql-primary");
  const replicaPod = () => pod("StatefulSet", "nx-persistent", "nx-postgresql-replica");
  const pgbouncerPod = () => pod("Deployment", "nx-persistent", "nx-pgbouncer");
  const redisPod = () => pod("StatefulSet", "nx-broker", "nx-redis");
  const kafkaPod = () => pod("StatefulSet", "nx-broker", "nx-kafka");
  const typesensePod = () => pod("StatefulSet", "nx-search", "nx-typesense");
  const debeziumPod = () => pod("Deployment", "nx-search", "nx-debezium");

  // Design document: "Default Connection Path", "Redis › Services", "Kafka › Backend Connection
  // Config", "Typesense › Service" — what backend services connect to, through the Services.
  const clientPaths = [
    { what: "nx-pgbouncer:5432 (pooled PostgreSQL, PgBouncer's 6432)", namespace: "nx-persistent", service: "nx-pgbouncer", port: 5432 },
    { what: "nx-postgresql-primary:5432 (direct primary)", namespace: "nx-persistent", service: "nx-postgresql-primary", port: 5432 },
    { what: "nx-redis:6379", namespace: "nx-broker", service: "nx-redis", port: 6379 },
    { what: "nx-kafka:9092 (CLIENT, SASL/SCRAM)", namespace: "nx-broker", service: "nx-kafka", port: 9092 },
    { what: "nx-typesense:8108", namespace: "nx-search", service: "nx-typesense", port: 8108 },
  ];
  eachRow(clientPaths, (p) => `nx-backend reaches ${p.what}`, ({ namespace, service: name, port }) => {
    const target = behindService(namespace, name, port);
    expect(flow(backendPod, target.pod, target.containerPort)).toBe("allowed");
  });

  it("the replica streams WAL from the primary on 5432 (allow-pg-replication)", () => {
    expect(flow(replicaPod(), primary(), 5432)).toBe("allowed");
  });

  it("PgBouncer reaches the primary on 5432 (fix: allow-primary-from-pgbouncer adds the primary's ingress the document lacks)", () => {
    expect(flow(pgbouncerPod(), primary(), 5432)).toBe("allowed");
  });

  it("Debezium in nx-search reaches the primary on 5432 and Kafka on 9092 (fix: allow-primary-from-debezium, allow-kafka-from-debezium)", () => {
    expect(flow(debeziumPod(), primary(), 5432)).toBe("allowed");
    expect(flow(debeziumPod(), kafkaPod(), 9092)).toBe("allowed");
  });

  it("Redis nodes reach each other on 6379 and the cluster bus 16379 (fix: via allow-redis-cluster)", () => {
    expect(flow(redisPod(), redisPod(), 6379)).toBe("allowed");
    expect(flow(redisPod(), redisPod(), 16379)).toBe("allowed");
  });

  it("Kafka brokers reach each other on INTERNAL 29092 and CONTROLLER 9093 (fix: via allow-kafka-cluster)", () => {
    expect(flow(kafkaPod(), kafkaPod(), 29092)).toBe("allowed");
    expect(flow(kafkaPod(), kafkaPod(), 9093)).toBe("allowed");
  });

  it("the init Jobs reach what they initialize: Redis 6379, Kafka INTERNAL 29092, Debezium 8083", () => {
    expect(flow(pod("Job", "nx-broker", "nx-redis-cluster-init"), redisPod(), 6379)).toBe("allowed");
    expect(flow(pod("Job", "nx-broker", "nx-kafka-scram-init"), kafkaPod(), 29092)).toBe("allowed");
    expect(flow(pod("Job", "nx-search", "nx-debezium-init"), debeziumPod(), 8083)).toBe("allowed");
  });

  it("pods in nx-search reach Typesense on 8108 (allow-search-internal); Debezium's 8083 only the registration Job and the workers (fix)", () => {
    expect(flow(debeziumPod(), typesensePod(), 8108)).toBe("allowed");
    expect(flow(typesensePod(), debeziumPod(), 8083)).not.toBe("allowed");
    expect(flow(debeziumPod(), debeziumPod(), 8083)).toBe("allowed");
  });

  eachRow(workloads, (w) => `${id(w)} resolves names through kube-system DNS on 53 UDP and TCP`, (w) => {
    expect(flow(podOf(w), kubeDnsPod, 53, "UDP")).toBe("allowed");
    expect(flow(podOf(w), kubeDnsPod, 53, "TCP")).toBe("allowed");
  });

  const closedToClients = [
    { what: "the Redis cluster bus 16379", workload: "nx-redis", port: 16379 },
    { what: "Kafka INTERNAL 29092", workload: "nx-kafka", port: 29092 },
    { what: "Kafka CONTROLLER 9093", workload: "nx-kafka", port: 9093 },
  ];
  eachRow(closedToClients, (c) => `nx-backend cannot reach ${c.what} (fix: closed to clients)`, ({ workload: name, port }) => {
    expect(flow(backendPod, pod("StatefulSet", "nx-broker", name), port)).not.toBe("allowed");
  });
});

// =============================================================================================
// Backend connection facts
// =============================================================================================

/** `<pod>.<service>.<namespace>.svc.cluster.local:<port>` -> the StatefulSet pod it names. */
function resolvePodAddress(address: string) {
  const m = /^([a-z0-9-]+)-(\d+)\.([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(address);
  if (!m) throw new Error(`not a StatefulSet pod address: ${address}`);
  const [, set, ordinal, serviceName, namespace, port] = m as unknown as [string, string, string, string, string, string];
  return { set, ordinal: Number(ordinal), serviceName, namespace, port: Number(port) };
}

describe("Backend connection config resolves to real pods", () => {
  eachRow([...redisPodAddresses, ...kafkaBrokerAddresses], (a) => `${a} is a pod of a StatefulSet behind its headless Service`, (address) => {
    const a = resolvePodAddress(address);
    const sts = statefulSet(a.namespace, a.set);
    expect(sts.spec?.serviceName).toBe(a.serviceName);
    expect(a.ordinal).toBeLessThan(replicas(sts));
    const headless = service(a.namespace, a.serviceName);
    expect(headless.spec?.clusterIP).toBe("None");
    expect(selectedWorkloads(headless).map(id)).toEqual([id(sts)]);
    expect(podSpec(sts).containers.flatMap((c) => c.ports ?? []).map((p) => p.containerPort)).toContain(a.port);
    expect((headless.spec?.ports ?? []).map((p) => p.port)).toContain(a.port);
  });

  it("APP_ENV_CACHE_REDIS_CLUSTER_NODES lists exactly the cluster's 3 nodes, and each node announces that hostname", () => {
    const redis = statefulSet("nx-broker", "nx-redis");
    const announce = Object.fromEntries(flagPairs(containerOf(redis, "redis"), "redis-server"))["--cluster-announce-hostname"] ?? "";
    const announced = [0, 1, 2].map((i) => `${expandKube(announce, { POD_NAME: `nx-redis-${i}` })}:6379`);
    expect(announced).toEqual(redisPodAddresses);
    expect(replicas(redis)).toBe(redisPodAddresses.length);
  });

  it("APP_ENV_KAFKA_BROKERS lists exactly the 3 brokers on 9092, and each broker advertises that address for CLIENT", () => {
    const kafka = statefulSet("nx-broker", "nx-kafka");
    const script = shellScript(initContainerOf(kafka, "kafka-init-config"));
    const advertised = /advertised\.listeners=([^"\n]+)/.exec(script)?.[1] ?? "";
    const vars = shellAssignments(script);
    const clients = [0, 1, 2].map((i) => {
      const listeners = listenerList(expandShell(advertised, { ...vars, POD_NAME: `nx-kafka-${i}` }));
      const client = listeners.get("CLIENT");
      return client ? `${client[0]}:${client[1]}` : "(no CLIENT listener advertised)";
    });
    expect(clients).toEqual(kafkaBrokerAddresses);
    expect(replicas(kafka)).toBe(kafkaBrokerAddresses.length);
  });

  it("APP_ENV_KAFKA_SASL_USERNAME nx.staging with SCRAM-SHA-512 is the user the SCRAM Job creates", () => {
    const script = joinContinuations(scriptWithEnv(containerOf(job("nx-broker", "nx-kafka-scram-init"), "scram-init")));
    expect(script).toMatch(/--add-config "SCRAM-SHA-512=[^\n]*--entity-name "?nx\.staging\b/);
  });

  it("APP_ENV_POSTGRES_HOST nx-pgbouncer.nx-persistent.svc.cluster.local:5432 is PgBouncer", () => {
    expect(targetPortOf(service("nx-persistent", "nx-pgbouncer"), 5432)).toEqual([
      { workload: "Deployment nx-persistent/nx-pgbouncer", containerPort: 6432 },
    ]);
  });

  // Design document, "Volume Expansion": the PVCs it patches, named <claim template>-<pod>.
  eachRow(["data-nx-redis-0", "data-nx-redis-1", "data-nx-redis-2"], (pvc) => `Volume Expansion: PVC ${pvc} in nx-broker is a claim of a Redis pod`, (pvc) => {
    const redis = statefulSet("nx-broker", "nx-redis");
    const claims = Array.from({ length: replicas(redis) }, (_, i) => `${dataClaim(redis).metadata?.name}-${redis.metadata?.name}-${i}`);
    expect(claims).toContain(pvc);
  });
});
