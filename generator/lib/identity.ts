// How the layer names an object: its id in messages and docs, its group kind, and the namespace
// it belongs to (a Namespace belongs to itself), shared by the generator, the policies and the review.

/** `Kind namespace/name` of an object, the way errors and docs name it. */
export function objectId(o: { kind: string; metadata?: { name?: string; namespace?: string } }): string {
  const ns = o.metadata?.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ""}${o.metadata?.name ?? "(unnamed)"}`;
}

/** The API group of an object (`apps`, `postgresql.cnpg.io`); "" for the core group. */
export function groupOf(o: { apiVersion: string }): string {
  const slash = o.apiVersion.lastIndexOf("/");
  return slash === -1 ? "" : o.apiVersion.slice(0, slash);
}

/** `Kind.group`, as Kubernetes writes a group kind (`StatefulSet.apps`); a core kind is its name alone. */
export function groupKind(o: { apiVersion: string; kind: string }): string {
  const group = groupOf(o);
  return group ? `${o.kind}.${group}` : o.kind;
}

/** The namespace an object lives in; a Namespace's own name (its folder and Application). */
export function namespaceOf(o: { kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  return (o.kind === "Namespace" ? o.metadata?.name : o.metadata?.namespace) ?? "";
}
