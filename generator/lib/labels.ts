import type { Environment } from "../config/types.ts";
import type { PodRole } from "./topology.ts";
import { byCodePoint } from "./order.ts";
import { imageReference } from "./images.ts";

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
    "app.kubernetes.io/version": role.image ? (imageReference(role.image).tag ?? "") : env.common.layerVersion,
    "app.kubernetes.io/part-of": env.common.partOf,
    "app.kubernetes.io/managed-by": env.common.managedBy,
  };
}

export function objectMeta(env: Environment, role: Role, name: string, namespace: string) {
  return { name, namespace, labels: recommendedLabels(env, role) };
}

/**
 * The mark of an object that holds data, or deletes data when it is deleted (a StatefulSet's
 * claims, a Namespace's everything, an operator's database). Everything that protects data follows
 * from it: Argo CD never prunes or deletes a marked object, and the review refuses its removal.
 */
export const holdsDataAnnotation = "nx-data-layer/holds-data";
export const holdsData = { [holdsDataAnnotation]: "true" } as const;

/** Pod annotation listing the Secrets a pod reads with their revisions (`secretRevisions` in config). */
export const secretRevisionsAnnotation = "nx-data-layer/secret-revisions";

/**
 * `name=revision,...` of the Secrets a pod reads, sorted: raising one Secret's revision changes the
 * pod templates of exactly the pods that read it (they restart; a Job runs again under a new name).
 */
export function secretRevisions(env: Environment, secretNames: Iterable<string>): Record<string, string> {
  const names = [...new Set(secretNames)].sort(byCodePoint);
  return { [secretRevisionsAnnotation]: names.map((name) => `${name}=${env.secretRevisions[name] ?? 0}`).join(",") };
}
