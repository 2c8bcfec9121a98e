import type { Environment } from "../config/types.ts";
import type { PodRole } from "./topology.ts";

/** What an object is part of: the app (`postgresql`), its role in it (`primary`) and its instance. */
export interface Role extends PodRole {
  readonly instance: string;
  /** Image the role runs; its tag becomes `app.kubernetes.io/version`. Absent for layer-wide objects. */
  readonly image?: string;
}

export function role(pod: PodRole, instance: string, image?: string): Role {
  return image === undefined ? { ...pod, instance } : { ...pod, instance, image };
}

/**
 * The minimal, stable label subset used in selectors. It never contains a version (selectors are
 * immutable) nor `app.kubernetes.io/instance` (Argo CD may use it for tracking).
 */
export function selectorLabels(role: PodRole): Record<string, string> {
  return { "app.kubernetes.io/name": role.app, "app.kubernetes.io/component": role.component };
}

/** The recommended `app.kubernetes.io/*` labels, carried by every object. */
export function recommendedLabels(env: Environment, role: Role): Record<string, string> {
  return {
    ...selectorLabels(role),
    "app.kubernetes.io/instance": role.instance,
    "app.kubernetes.io/version": role.image ? imageTag(role.image) : env.common.layerVersion,
    "app.kubernetes.io/part-of": env.common.partOf,
    "app.kubernetes.io/managed-by": env.common.managedBy,
  };
}

/** The tag of `registry:port/name:tag@digest`; a colon before the last slash is a registry port. */
function imageTag(image: string): string {
  const ref = image.split("@")[0] ?? "";
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(colon + 1) : "";
}

export function objectMeta(env: Environment, role: Role, name: string, namespace: string) {
  return { name, namespace, labels: recommendedLabels(env, role) };
}

/**
 * Pod annotation carrying the environment's `secretsRevision`: on the pods and Jobs that must read
 * a rotated credential again (they restart, or run again under a new name), and nowhere else.
 */
export function secretsRevision(env: Environment): Record<string, string> {
  return { "nx-data-layer/secrets-revision": String(env.secretsRevision) };
}
