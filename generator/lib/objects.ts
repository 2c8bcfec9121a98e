// Builders for the object shapes the layer repeats: StatefulSets with one data volume, Services,
// Deployments and one-time init Jobs. Each fills in what the layer always wants (labels, selectors,
// node pool, restricted pods, retained volumes) so a component states only what is its own.
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { IObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { ITopologySpreadConstraint } from "kubernetes-models/v1/TopologySpreadConstraint";
import { Service } from "kubernetes-models/v1/Service";
import type { IServicePort } from "kubernetes-models/v1/ServicePort";
import type { Environment, Quantity } from "../config/types.ts";
import { contentHash } from "./hash.ts";
import { holdsData, objectMeta, type Role, recommendedLabels, secretRevisions, selectorLabels } from "./labels.ts";
import type { PodRole } from "./topology.ts";
import { container, resources, restrictedPodSecurity, secretsReadBy } from "./pod.ts";

/** What every component returns: typed objects that can validate and serialize themselves. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  metadata?: IObjectMeta;
  validate(): void;
  toJSON(): unknown;
}

/** A typed object as its YAML holds it: the plain JSON its `toJSON()` gives (a deep copy). */
export function plain<T>(object: unknown): T {
  return JSON.parse(JSON.stringify(object)) as T;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Name of the data volume claim template of every StatefulSet. */
export const dataVolume = "data";

/** A pod spec without what the builders add (security context, node pool). */
export type PodParts = Omit<IPodSpec, "securityContext" | "nodeSelector">;

export interface StatefulSetParts extends PodOwnerParts {
  readonly name: string;
  readonly namespace: string;
  readonly role: Role;
  readonly serviceName: string;
  readonly replicas: number;
  readonly uid: number;
  readonly storage: Quantity;
  readonly pod: PodParts;
  /** Parallel for clustered servers whose peers must all start before any becomes useful. */
  readonly parallel?: boolean;
  /** Replicated servers spread their pods over nodes and zones (see `spreadOverNodes`). */
  readonly spread?: boolean;
}

/**
 * At most one pod more on any node than on another, so one node lost (or drained) takes at most
 * one member of a three-node cluster; zones are spread when the cluster has them, but a cluster
 * with fewer zones than pods still schedules. A cordoned (tainted) node does not count as a place
 * to spread to, so a pod evicted by a drain is placed again at once instead of waiting for the
 * drained node to come back.
 */
export function spreadOverNodes(role: PodRole): ITopologySpreadConstraint[] {
  const labelSelector = { matchLabels: selectorLabels(role) };
  return [
    { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector },
    { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector },
  ];
}

/** What the builders of pod-owning objects share: extra pod annotations, and rotation. */
interface PodOwnerParts {
  readonly podAnnotations?: Record<string, string>;
  /**
   * The pods read their Secrets only at start (or, for a Job, once): a raised revision of one of
   * them in `secretRevisions` restarts them (runs the Job again under a new name).
   */
  readonly followsSecretRotation?: boolean;
}

function podMetadata(env: Environment, role: Role, parts: PodOwnerParts, pod: PodParts) {
  const annotations = {
    ...parts.podAnnotations,
    ...(parts.followsSecretRotation ? secretRevisions(env, secretsReadBy(pod)) : {}),
  };
  return { labels: recommendedLabels(env, role), ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
}

export function statefulSet(env: Environment, parts: StatefulSetParts): StatefulSet {
  return new StatefulSet({
    metadata: { ...objectMeta(env, parts.role, parts.name, parts.namespace), annotations: holdsData },
    spec: {
      serviceName: parts.serviceName,
      replicas: parts.replicas,
      ...(parts.parallel ? { podManagementPolicy: "Parallel" as const } : {}),
      selector: { matchLabels: selectorLabels(parts.role) },
      // Removing or scaling down a StatefulSet never deletes a database's volumes.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: {
        metadata: podMetadata(env, parts.role, parts, parts.pod),
        spec: {
          ...parts.pod,
          ...(parts.spread ? { topologySpreadConstraints: spreadOverNodes(parts.role) } : {}),
          nodeSelector: { "node.kubernetes.io/pool": env.common.nodePools.stateful },
          securityContext: restrictedPodSecurity(parts.uid, { fsGroup: true }),
        },
      },
      volumeClaimTemplates: [
        {
          // apiVersion/kind are what the API server stores; rendering them avoids permanent drift.
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: dataVolume, labels: selectorLabels(parts.role) },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: env.common.storageClassName,
            resources: { requests: { storage: parts.storage } },
          },
        },
      ],
    },
  });
}

export interface DeploymentParts extends PodOwnerParts {
  readonly name: string;
  readonly namespace: string;
  readonly role: Role;
  readonly replicas: number;
  readonly uid: number;
  readonly pod: PodParts;
  /** Replicated workers spread their pods over nodes and zones (see `spreadOverNodes`). */
  readonly spread?: boolean;
}

export function deployment(env: Environment, parts: DeploymentParts): Deployment {
  return new Deployment({
    metadata: objectMeta(env, parts.role, parts.name, parts.namespace),
    spec: {
      replicas: parts.replicas,
      selector: { matchLabels: selectorLabels(parts.role) },
      template: {
        metadata: podMetadata(env, parts.role, parts, parts.pod),
        spec: {
          ...parts.pod,
          ...(parts.spread ? { topologySpreadConstraints: spreadOverNodes(parts.role) } : {}),
          nodeSelector: { "node.kubernetes.io/pool": env.common.nodePools.stateful },
          securityContext: restrictedPodSecurity(parts.uid, { fsGroup: false }),
        },
      },
    },
  });
}

export interface InitJobParts extends PodOwnerParts {
  readonly name: string;
  readonly namespace: string;
  readonly role: Role;
  readonly uid: number;
  /** The Job's one container; resources come from the common Job limits. */
  readonly container: Omit<IContainer, "resources" | "securityContext">;
  readonly volumes?: IPodSpec["volumes"];
}

/**
 * A one-time initialization Job, named `<name>-<hash of its pod template>`. A Job's template is
 * immutable: changing it in place would fail every sync, so a change makes a new Job instead (it
 * runs again, which is safe: the scripts are idempotent) and the old one is pruned. No
 * `ttlSecondsAfterFinished`: under Argo CD a Job deleted by the TTL controller turns OutOfSync and
 * is recreated, running again.
 */
export function initJob(env: Environment, parts: InitJobParts): Job {
  const template = {
    metadata: podMetadata(env, parts.role, parts, { containers: [parts.container], ...(parts.volumes ? { volumes: parts.volumes } : {}) }),
    spec: {
      restartPolicy: "OnFailure" as const,
      containers: [container({ ...parts.container, resources: resources(env.common.jobs.resources) })],
      ...(parts.volumes ? { volumes: parts.volumes } : {}),
      nodeSelector: { "node.kubernetes.io/pool": env.common.nodePools.jobs },
      securityContext: restrictedPodSecurity(parts.uid, { fsGroup: false }),
    },
  };
  const name = `${parts.name}-${contentHash(JSON.stringify(template)).slice(0, jobHashLength)}`;
  return new Job({
    metadata: objectMeta(env, parts.role, name, parts.namespace),
    spec: {
      backoffLimit: env.common.jobs.backoffLimit,
      activeDeadlineSeconds: env.common.jobs.activeDeadlineSeconds,
      template,
    },
  });
}

const jobHashLength = 8;
const jobHash = new RegExp(`-[0-9a-f]{${jobHashLength}}$`);

/**
 * An object's name without what its content adds to it: an init Job's name without the hash of
 * its template (see `initJob`). Two copies of one Job that differ in content share it, which is
 * how the layout knows that an environment's Job is the base's Job changed.
 */
export function stableName(object: KubeObject): string {
  const name = object.metadata?.name ?? "";
  return object.kind === "Job" ? name.replace(jobHash, "") : name;
}

export interface ServiceParts {
  readonly name: string;
  readonly namespace: string;
  readonly role: Role;
  readonly ports: readonly IServicePort[];
  /** Headless Services give StatefulSet pods their stable DNS names. */
  readonly headless?: boolean;
  /** Publish pods before they are ready, so clustered peers can find each other at bootstrap. */
  readonly publishNotReadyAddresses?: boolean;
}

export function service(env: Environment, parts: ServiceParts): Service {
  return new Service({
    metadata: objectMeta(env, parts.role, parts.name, parts.namespace),
    spec: {
      type: "ClusterIP",
      ...(parts.headless ? { clusterIP: "None" } : {}),
      ...(parts.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
      selector: selectorLabels(parts.role),
      ports: parts.ports.map((p) => ({ protocol: "TCP" as const, ...p })),
    },
  });
}

export function configMap(
  env: Environment,
  parts: { name: string; namespace: string; role: Role; data: Record<string, string> },
): ConfigMap {
  return new ConfigMap({
    metadata: objectMeta(env, parts.role, parts.name, parts.namespace),
    data: parts.data,
  });
}

/**
 * Voluntary disruptions (node drains, cluster upgrades) evict at most `maxUnavailable` pods of the
 * role (or of `pods`, when one budget covers several roles) at a time; an eviction that would
 * exceed it waits.
 */
export function podDisruptionBudget(
  env: Environment,
  parts: { name: string; namespace: string; role: Role; maxUnavailable: number; pods?: ILabelSelector },
): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: objectMeta(env, parts.role, parts.name, parts.namespace),
    spec: { maxUnavailable: parts.maxUnavailable, selector: parts.pods ?? { matchLabels: selectorLabels(parts.role) } },
  });
}
