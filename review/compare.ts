// One environment's two renders side by side: what is added, removed and changed (with the
// changed fields only), and what of it is unsafe.
import { diffFields, type FieldChange } from "./diff.ts";
import { asJson, type Manifest, objectKey, objectName } from "./objects.ts";
import { changeFindings, type Finding, removalFinding } from "./rules.ts";
import { byCodePoint } from "../generator/lib/order.ts";

export interface ChangedObject {
  readonly object: string;
  readonly before: Manifest;
  readonly after: Manifest;
  readonly changes: readonly FieldChange[];
}

export interface EnvironmentReview {
  readonly environment: string;
  readonly added: readonly Manifest[];
  readonly removed: readonly Manifest[];
  readonly changed: readonly ChangedObject[];
  readonly findings: readonly Finding[];
  /** objects in the new render */
  readonly total: number;
}

function byKey(objects: readonly Manifest[], side: string): Map<string, Manifest> {
  const map = new Map<string, Manifest>();
  for (const o of objects) {
    const key = objectKey(o);
    if (map.has(key)) throw new Error(`the ${side} render has ${objectName(o)} twice`);
    map.set(key, o);
  }
  return map;
}

// Code-point order: the report is the same on every machine, whatever its locale.
const sorted = (objects: Manifest[]) => objects.sort((a, b) => byCodePoint(objectName(a), objectName(b)));

export function compareEnvironment(environment: string, base: readonly Manifest[], head: readonly Manifest[]): EnvironmentReview {
  const before = byKey(base, "base");
  const after = byKey(head, "new");
  const added = sorted([...after].filter(([k]) => !before.has(k)).map(([, o]) => o));
  const removed = sorted([...before].filter(([k]) => !after.has(k)).map(([, o]) => o));
  const changed = [...before]
    .flatMap(([key, old]) => {
      const now = after.get(key);
      if (!now || now === old) return [];
      const changes = diffFields(asJson(old), asJson(now));
      return changes.length > 0 ? [{ object: objectName(now), before: old, after: now, changes }] : [];
    })
    .sort((a, b) => byCodePoint(a.object, b.object));
  const context = { environment, head };
  const findings = [
    ...changed.flatMap((c) => changeFindings(c.before, c.after, context)),
    ...removed.flatMap((o) => removalFinding(o, added, context) ?? []),
  ];
  return { environment, added, removed, changed, findings, total: head.length };
}
