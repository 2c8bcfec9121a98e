// Small builders for the parts every pod of the layer shares: restricted security contexts,
// probes, Secret-backed env vars and resources.
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IPodSecurityContext } from "kubernetes-models/v1/PodSecurityContext";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import type { ContainerResources } from "../config/types.ts";
import { InvalidConfig } from "./errors.ts";
import type { SecretRef } from "./topology.ts";

/** Pod-level half of the restricted Pod Security Standard, running as the image's own user. */
export function restrictedPodSecurity(uid: number, opts: { fsGroup: boolean }): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    ...(opts.fsGroup ? { fsGroup: uid, fsGroupChangePolicy: "OnRootMismatch" as const } : {}),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level half of the restricted Pod Security Standard. */
const restrictedContainerSecurity: ISecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
};

/** A container with the restricted security context applied. */
export function container(spec: IContainer): IContainer {
  return { ...spec, securityContext: restrictedContainerSecurity };
}

export function resources(r: ContainerResources): IContainer["resources"] {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { cpu: r.limits.cpu, memory: r.limits.memory },
  };
}

/** The names of the Secrets a pod reads: env, envFrom and volumes, of every container. */
export function secretsReadBy(pod: Pick<IPodSpec, "containers" | "initContainers" | "volumes">): string[] {
  const containers = [...(pod.initContainers ?? []), ...pod.containers];
  return [
    ...containers.flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []))),
    ...containers.flatMap((c) => (c.envFrom ?? []).flatMap((e) => (e.secretRef ? [e.secretRef.name] : []))),
    ...(pod.volumes ?? []).flatMap((v) => [
      ...(v.secret?.secretName ? [v.secret.secretName] : []),
      ...(v.projected?.sources ?? []).flatMap((s) => (s.secret ? [s.secret.name] : [])),
    ]),
  ].filter((name): name is string => typeof name === "string");
}

export function secretEnv(name: string, secret: SecretRef): IEnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } } };
}

export function plainEnv(name: string, value: string): IEnvVar {
  return { name, value };
}

/** The pod's own name and IP from the downward API. */
export function podFieldEnv(name: string, fieldPath: "metadata.name" | "status.podIP"): IEnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** Probe timings: readiness reacts fast, liveness gives a slow server time before a restart. */
export interface ProbeTiming {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

export const readinessTiming: ProbeTiming = {
  initialDelaySeconds: 5,
  periodSeconds: 10,
  timeoutSeconds: 5,
  failureThreshold: 3,
};

export const livenessTiming: ProbeTiming = {
  initialDelaySeconds: 30,
  periodSeconds: 20,
  timeoutSeconds: 5,
  failureThreshold: 6,
};

export function tcpProbe(port: number | string, timing: ProbeTiming): IProbe {
  return { tcpSocket: { port }, ...timing };
}

export function httpProbe(path: string, port: number | string, timing: ProbeTiming): IProbe {
  return { httpGet: { path, port }, ...timing };
}

export function execProbe(script: string, timing: ProbeTiming): IProbe {
  return { exec: { command: ["sh", "-c", script] }, ...timing };
}

const mebibytes: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 };

/** A memory quantity (`2Gi`, `1536Mi`, `2G`, bytes) in MiB, or undefined when it is not one. */
export function memoryMiB(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(quantity);
  if (!m) return undefined;
  return m[2] === undefined ? Number(m[1]) / 2 ** 20 : Number(m[1]) * mebibytes[m[2]]!;
}

/** A config value and the field that sets it, for the error that names it. */
export type Setting<T> = readonly [field: string, value: T];

/**
 * The heap leaves at least this share of the memory limit to the JVM itself (metaspace, code cache,
 * thread stacks, GC structures, direct buffers) and, for a broker, to the page cache.
 */
const maxHeapFraction = 0.75;

/**
 * JVM heap flags sized from the container's memory limit. The scripts' own defaults ignore the
 * limit (Kafka Connect's `-Xmx2G` in a 2 GiB container is an OOM kill). Refuses a fraction that
 * leaves the JVM no room and a limit it cannot read, naming `object` and the field.
 */
export function jvmHeapOptions(object: string, [fractionField, fraction]: Setting<number>, [limitField, limit]: Setting<string>): string {
  if (!(fraction > 0 && fraction <= maxHeapFraction)) {
    throw new InvalidConfig(
      object,
      fractionField,
      `is ${fraction}; the heap must be more than 0 and at most ${maxHeapFraction} of the ${limit} memory limit, leaving the rest to the JVM itself and the page cache`,
    );
  }
  const mib = memoryMiB(limit);
  if (mib === undefined) {
    throw new InvalidConfig(object, limitField, `cannot size a JVM heap from ${limit} (use Ki, Mi, Gi, Ti, k, M or G)`);
  }
  const heap = Math.floor(mib * fraction);
  return `-Xms${heap}m -Xmx${heap}m`;
}
