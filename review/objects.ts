// Rendered objects as the review reads them: plain JSON from `kustomize build`, identified the
// way the API server identifies them (group, kind, namespace, name; the version is not part of it).
import type { Manifest } from "../policies/engine.ts";
import type { Json } from "./diff.ts";
import { groupOf } from "../generator/lib/identity.ts";

export type { Manifest };

/** The object as the JSON it is, for the field-level functions. */
export const asJson = (m: Manifest): Json => m as unknown as Json;
export const asManifest = (j: Json): Manifest => j as unknown as Manifest;

/** `StatefulSet` for Kubernetes' own groups, `Cluster.postgresql.cnpg.io` for an operator's. */
export function kindName(m: Pick<Manifest, "apiVersion" | "kind">): string {
  const group = groupOf(m);
  return group === "" || !group.includes(".") || group.endsWith(".k8s.io") ? m.kind : `${m.kind}.${group}`;
}

/** `Kind namespace/name`, the way findings, acknowledgements and the generator's errors name an object. */
export function objectName(m: Manifest): string {
  const ns = m.metadata?.namespace;
  return `${kindName(m)} ${ns ? `${ns}/` : ""}${m.metadata?.name ?? "(unnamed)"}`;
}

/** The identity of an object in a rendered set. */
export const objectKey = (m: Manifest): string =>
  [groupOf(m), m.kind, m.metadata?.namespace ?? "", m.metadata?.name ?? ""].join("/");

export const syncOptionsAnnotation = "argocd.argoproj.io/sync-options";

/**
 * Whether Argo CD is told never to prune or delete the object: the mark the delivery stage
 * (generator/delivery/waves.ts) puts on everything that holds data. Argo CD reads the annotation
 * as comma-separated options with white space trimmed.
 */
export function holdsData(m: Manifest): boolean {
  const options = (m.metadata?.annotations?.[syncOptionsAnnotation] ?? "").split(",").map((o) => o.trim());
  return options.includes("Prune=false") || options.includes("Delete=false");
}
