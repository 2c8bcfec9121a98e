// Environments are written as deltas over the shared defaults (config/defaults.ts): an environment
// file says only what it does differently. Merging is by key; a list or a value replaces the
// default. A section with a `kind` (how a component is built, e.g. `postgres.cluster`) is replaced
// whole when the delta names a kind, because the settings of one kind mean nothing to another;
// a delta without a kind changes settings of the default's kind, and may name no setting that
// kind does not have.

/** A section given whole (with its `kind`), or some of its settings (without one). */
export type Delta<T> = T extends readonly unknown[]
  ? T
  : T extends { readonly kind: string }
    ? T | Settings<T>
    : T extends object
      ? Settings<T>
      : T;

type Settings<T> = { readonly [K in keyof T]?: K extends "kind" ? never : Delta<T[K]> };

const isSection = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `base` with `delta` applied. Throws (naming the field) when a delta without a kind sets a
 * setting the base's kind does not have: it would otherwise be dropped or mixed into another kind.
 */
export function withDelta<T>(base: T, delta: Delta<T> | undefined, field = ""): T {
  if (delta === undefined) return base;
  if (!isSection(base) || !isSection(delta) || "kind" in delta) return delta as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(delta)) {
    const at = field ? `${field}.${key}` : key;
    if ("kind" in base && !(key in base)) {
      throw new Error(`${at}: kind ${String(base.kind)} has no setting ${key}; give the whole section with its kind to change kind`);
    }
    out[key] = withDelta(base[key], value as Delta<unknown>, at);
  }
  return out as T;
}
