// validate() of a typed object, its JSON-pointer errors turned into readable field paths.
import type { KubeObject } from "./objects.ts";

interface SchemaError {
  readonly instancePath: string;
  readonly message?: string;
  readonly keyword: string;
}

/** Runs the model's validate() and turns its JSON-pointer errors into `a.b[0].c` field paths. */
export function schemaProblems(object: KubeObject): { field: string; message: string }[] {
  try {
    object.validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors;
    if (!errors) throw err;
    // A oneOf failure repeats each branch's error; report each field once, with the real reason.
    const byField = new Map<string, string[]>();
    for (const e of errors) {
      const field = fieldPath(e.instancePath);
      if (e.keyword === "oneOf" || e.keyword === "anyOf") continue;
      byField.set(field, [...(byField.get(field) ?? []), e.message ?? e.keyword]);
    }
    return [...byField].map(([field, messages]) => ({ field, message: messages.join(" or ") }));
  }
}

/** `/spec/containers/0/name` -> `spec.containers[0].name` */
export function fieldPath(pointer: string): string {
  const parts = pointer.split("/").slice(1).map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  return parts.reduce((path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : path ? `${path}.${p}` : p), "") || "(root)";
}
