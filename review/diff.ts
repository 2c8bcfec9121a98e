// Field-level differences between two versions of one Kubernetes object, as JSON paths.
// Lists of named things (containers, env, ports, volumes, claim templates, JBOD volumes) are
// matched by name, so a reordered or inserted item reads as what it is, not as a shifted index.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One step of a path: an object key, a list position, or a list item found by its key field. */
export type Segment =
  | { readonly key: string }
  | { readonly index: number }
  | { readonly item: string; readonly by: string };

/** A field whose value differs; `undefined` is a field that is absent on that side. */
export interface FieldChange {
  readonly segments: readonly Segment[];
  readonly path: string;
  readonly before: Json | undefined;
  readonly after: Json | undefined;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** `spec.template.spec.containers[name=redis].env[name=A].value`, `metadata.annotations["a/b"]`, `args[2]`. */
export function formatPath(segments: readonly Segment[]): string {
  return segments
    .map((s, i) => {
      if ("index" in s) return `[${s.index}]`;
      if ("item" in s) return `[${s.by}=${s.item}]`;
      if (!/^[A-Za-z_$][\w$-]*$/.test(s.key)) return `[${JSON.stringify(s.key)}]`;
      return i === 0 ? s.key : `.${s.key}`;
    })
    .join("");
}

/** The fields that name a list item, in the order they are tried (Strimzi's JBOD volumes use `id`). */
const itemKeys = ["name", "metadata.name", "id"] as const;

function itemKey(item: Json, by: string): string | undefined {
  let value: Json | undefined = item;
  for (const part of by.split(".")) value = isObject(value) ? value[part] : undefined;
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

/** The key field every item of both lists has, unique within each list; none for other lists. */
function listKey(a: readonly Json[], b: readonly Json[]): string | undefined {
  if (a.length === 0 && b.length === 0) return undefined;
  return itemKeys.find((by) =>
    [a, b].every((list) => {
      const keys = list.map((item) => itemKey(item, by));
      return keys.every((k) => k !== undefined) && new Set(keys).size === keys.length;
    }),
  );
}

type Pair = { segment: Segment; before: Json | undefined; after: Json | undefined };

/**
 * The pairs of items of two versions of one list: by key when the items are named, else by
 * position. `undefined` for an item that one side lacks.
 */
function pairItems(a: readonly Json[], b: readonly Json[]): Pair[] {
  const by = listKey(a, b);
  if (by === undefined) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, index) => ({ segment: { index }, before: a[index], after: b[index] }));
  }
  const after = new Map(b.map((item) => [itemKey(item, by)!, item]));
  const pairs = a.map((item): Pair => {
    const key = itemKey(item, by)!;
    return { segment: { item: key, by }, before: item, after: after.get(key) };
  });
  const seen = new Set(a.map((item) => itemKey(item, by)));
  for (const [key, item] of after) if (!seen.has(key)) pairs.push({ segment: { item: key, by }, before: undefined, after: item });
  return pairs;
}

/** Every field that differs between `before` and `after`, named at the deepest level both sides share. */
export function diffFields(before: Json | undefined, after: Json | undefined, at: readonly Segment[] = []): FieldChange[] {
  if (deepEqual(before, after)) return [];
  const here = () => [{ segments: at, path: formatPath(at), before, after }];
  if (isObject(before) && isObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
    return keys.flatMap((key) => diffFields(before[key], after[key], [...at, { key }]));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    // A list of plain values that changed length is one change: index by index it would only shift.
    const named = listKey(before, after) !== undefined;
    if (!named && before.length !== after.length) return here();
    const items = pairItems(before, after).flatMap((p) => diffFields(p.before, p.after, [...at, p.segment]));
    // The same named items in another order: the order is the change (env order decides $(VAR) expansion).
    return items.length > 0 ? items : here();
  }
  return here();
}

/** A path pattern as rules write it: `spec.selector`, `spec.storage.volumes[*].class`. */
export function parsePattern(pattern: string): (string | "*")[] {
  return pattern.split(".").flatMap((part) => {
    const m = /^([^[]+)((?:\[\*\])*)$/.exec(part);
    if (!m) throw new Error(`bad field pattern ${pattern}`);
    return [m[1]!, ...Array.from({ length: m[2]!.length / 3 }, () => "*" as const)];
  });
}

/**
 * The values a pattern reaches in two versions of one object, paired the way diffFields pairs
 * them (`*` walks every item of a list, matched by name). Pairs whose values are equal included.
 */
export function pairsAt(
  before: Json | undefined,
  after: Json | undefined,
  pattern: readonly (string | "*")[],
  at: readonly Segment[] = [],
): FieldChange[] {
  const [step, ...rest] = pattern;
  if (step === undefined) return [{ segments: at, path: formatPath(at), before, after }];
  if (step === "*") {
    const list = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
    return pairItems(list(before), list(after)).flatMap((p) => pairsAt(p.before, p.after, rest, [...at, p.segment]));
  }
  const child = (v: Json | undefined) => (isObject(v) ? v[step] : undefined);
  return pairsAt(child(before), child(after), rest, [...at, { key: step }]);
}

/** A copy of `value` with the field at `segments` set to `to` (the path must exist). */
export function withField(value: Json, segments: readonly Segment[], to: Json | undefined): Json {
  const [step, ...rest] = segments;
  if (step === undefined) return to ?? null;
  if (Array.isArray(value)) {
    const i = "index" in step ? step.index : value.findIndex((item) => "item" in step && itemKey(item, step.by) === step.item);
    return value.map((item, j) => (j === i ? withField(item, rest, to) : item));
  }
  if (isObject(value) && "key" in step) {
    const copy: JsonObject = { ...value };
    if (rest.length === 0 && to === undefined) delete copy[step.key];
    else copy[step.key] = withField(value[step.key] ?? null, rest, to);
    return copy;
  }
  return value;
}
