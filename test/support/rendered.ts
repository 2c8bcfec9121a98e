// An overlay as the real `kustomize build` renders it, with typed look-ups of its objects, their
// pods and containers, and the Services in front of them: what an acceptance test reads, never
// the generator's own config.
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IContainerPort } from "kubernetes-models/v1/ContainerPort";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IService } from "kubernetes-models/v1/Service";
import { join } from "node:path";
import { selectsPod } from "../../generator/lib/reachability.ts";
import { kustomizeBuild, type PlainObject, repoRoot } from "./repo.ts";

export type Workload = IStatefulSet | IDeployment | IJob;
export type WorkloadKind = Workload["kind"];
export type Labels = Record<string, string>;

/** `Kind namespace/name`, as the policies name objects. */
export const id = (o: { kind: string; metadata?: { name?: string; namespace?: string } }) =>
  `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

// Jobs are named `<name>-<hash of the pod template>`, so a changed Job is a new Job.
const sameName = (kind: string, actual: string | undefined, name: string) =>
  kind === "Job" ? new RegExp(`^${name}-[0-9a-f]{8}$`).test(actual ?? "") : actual === name;

const built = new Map<string, ReturnType<typeof build>>();

/**
 * What `kustomize build overlays/<environment>` renders, and look-ups that fail naming what is
 * missing; built once per process (test files that share a worker share the build).
 */
export function renderOverlay(environment: string): Rendered {
  if (!built.has(environment)) built.set(environment, build(environment));
  return built.get(environment) as Rendered;
}

function build(environment: string) {
  const objects: readonly PlainObject[] = kustomizeBuild(join(repoRoot, "overlays", environment));

  function only<T>(kind: string, namespace: string | undefined, name: string): T {
    const found = objects.filter(
      (o) => o.kind === kind && sameName(kind, o.metadata?.name, name) && (namespace === undefined || o.metadata?.namespace === namespace),
    );
    if (found.length !== 1) throw new Error(`expected exactly one ${kind} ${namespace ?? ""}/${name} in overlays/${environment}, found ${found.length}`);
    return found[0] as unknown as T;
  }
  const ofKind = <T>(kind: string): T[] => objects.filter((o) => o.kind === kind) as unknown as T[];
  /** Every object that runs pods. */
  const workloads = objects.filter((o) => ["StatefulSet", "Deployment", "Job"].includes(o.kind)) as unknown as Workload[];

  /** The workloads (in the Service's namespace) whose pods a Service selects. */
  const selectedWorkloads = (svc: IService): Workload[] => {
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return [];
    return workloads.filter((w) => w.metadata?.namespace === svc.metadata?.namespace && selectsPod({ matchLabels: selector }, podLabels(w)));
  };

  return {
    objects,
    workloads,
    ofKind,
    only,
    statefulSet: (namespace: string, name: string) => only<IStatefulSet>("StatefulSet", namespace, name),
    deployment: (namespace: string, name: string) => only<IDeployment>("Deployment", namespace, name),
    job: (namespace: string, name: string) => only<IJob>("Job", namespace, name),
    workload: (kind: WorkloadKind, namespace: string, name: string) => only<Workload>(kind, namespace, name),
    service: (namespace: string, name: string) => only<IService>("Service", namespace, name),
    configMap: (namespace: string, name: string) => only<IConfigMap>("ConfigMap", namespace, name),
    networkPolicy: (namespace: string, name: string) => only<INetworkPolicy>("NetworkPolicy", namespace, name),
    /** A Namespace's labels, with the one the API server sets on every namespace. */
    namespaceLabels(namespace: string): Labels {
      const ns = ofKind<INamespace>("Namespace").find((n) => n.metadata?.name === namespace);
      return { ...((ns?.metadata?.labels ?? {}) as Labels), "kubernetes.io/metadata.name": namespace };
    },
    selectedWorkloads,
    /** Service port -> the container port each workload behind it receives it on. */
    targetPortOf(svc: IService, port: number): { workload: string; containerPort: number | undefined }[] {
      const sp = svc.spec?.ports?.find((p) => p.port === port);
      if (!sp) throw new Error(`${id({ kind: "Service", metadata: svc.metadata })} has no port ${port}`);
      const target = sp.targetPort ?? sp.port;
      return selectedWorkloads(svc).map((w) => ({ workload: id(w), containerPort: resolvePort(w, target)?.containerPort }));
    },
    /** The text of the file a container reads at `path`, from the ConfigMap volume mounted above it. */
    configMapFile(w: Workload, c: IContainer, path: string): { configMap: string; text: string } {
      const mount = (c.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
      const name = (podSpec(w).volumes ?? []).find((v) => v.name === mount?.name)?.configMap?.name;
      if (!mount || !name) throw new Error(`${path} is not on a ConfigMap volume of ${id(w)} ${c.name}`);
      const key = path.slice(mount.mountPath.length + 1);
      const text = only<IConfigMap>("ConfigMap", w.metadata?.namespace, name).data?.[key];
      if (text === undefined) throw new Error(`ConfigMap ${name} has no key ${key}`);
      return { configMap: name, text };
    },
  };
}

export type Rendered = ReturnType<typeof build>;

export function podSpec(w: Workload): IPodSpec {
  const spec = w.spec?.template.spec;
  if (!spec) throw new Error(`${id(w)} has no pod template spec`);
  return spec;
}

export const podLabels = (w: Workload): Labels => (w.spec?.template.metadata?.labels ?? {}) as Labels;

export const replicas = (w: IStatefulSet | IDeployment): number => w.spec?.replicas ?? 1;

export function containerOf(w: Workload, name: string): IContainer {
  const c = podSpec(w).containers.find((x) => x.name === name);
  if (!c) throw new Error(`${id(w)} has no container ${name} (has ${podSpec(w).containers.map((x) => x.name).join(", ")})`);
  return c;
}

export function initContainerOf(w: Workload, name: string): IContainer {
  const c = (podSpec(w).initContainers ?? []).find((x) => x.name === name);
  if (!c) throw new Error(`${id(w)} has no init container ${name}`);
  return c;
}

export const allContainers = (w: Workload): IContainer[] => [...(podSpec(w).initContainers ?? []), ...podSpec(w).containers];

/** A container port of the workload's pods, by number or name (a Service's targetPort). */
function resolvePort(w: Workload, target: number | string): IContainerPort | undefined {
  return podSpec(w).containers.flatMap((c) => c.ports ?? []).find((p) => (typeof target === "number" ? p.containerPort === target : p.name === target));
}

/** The volume claim template `name` of a StatefulSet. */
export function claimTemplate(sts: IStatefulSet, name = "data") {
  const claim = (sts.spec?.volumeClaimTemplates ?? []).find((c) => c.metadata?.name === name);
  if (!claim) throw new Error(`${id(sts)} has no volume claim template "${name}"`);
  return claim;
}

export const plainEnv = (c: IContainer, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;

/** The container's env vars with a value of their own (not from a Secret or the pod), by name. */
export const plainEnvVars = (c: IContainer): Record<string, string> =>
  Object.fromEntries((c.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));

export function secretEnv(c: IContainer, name: string): { name?: string; key?: string } | undefined {
  const ref = c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
  return ref ? { name: ref.name, key: ref.key } : undefined;
}

export const fieldEnv = (c: IContainer, name: string): string | undefined => c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
