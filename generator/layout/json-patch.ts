// The smallest RFC 6902 patch that turns one plain JSON value into another, for overlays that
// carry only what an environment changes. Lists of different length are replaced whole: an index
// shift would make the patch unreadable and fragile.
import type { Json } from "../lib/objects.ts";
import { byCodePoint } from "../lib/order.ts";

export type PatchOperation =
  | { op: "add" | "replace"; path: string; value: Json }
  | { op: "remove"; path: string };

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const escape = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** No operations when the two are equal: each value is compared once, where the walk reaches it. */
export function jsonPatch(from: Json, to: Json, path = ""): PatchOperation[] {
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort(byCodePoint);
    return keys.flatMap((key): PatchOperation[] => {
      const at = `${path}/${escape(key)}`;
      const a = from[key];
      const b = to[key];
      if (b === undefined) return [{ op: "remove", path: at }];
      if (a === undefined) return [{ op: "add", path: at, value: b }];
      return jsonPatch(a, b, at);
    });
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return from.flatMap((a, i) => jsonPatch(a, to[i] as Json, `${path}/${i}`));
  }
  return from === to ? [] : [{ op: "replace", path, value: to }];
}
