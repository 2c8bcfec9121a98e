// Reads policies/exceptions.yaml: every entry needs an object, a known rule and a reason; an
// environment, when given, limits it to that environment's findings.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Exception, Rule } from "./engine.ts";

export const exceptionsFile = new URL("./exceptions.yaml", import.meta.url);

export function loadExceptions(rules: readonly Rule[], file: URL | string = exceptionsFile): Exception[] {
  const entries = (parse(readFileSync(file, "utf8")) ?? []) as unknown[];
  if (!Array.isArray(entries)) throw new Error(`${file}: expected a list of exceptions`);
  const known = new Set(rules.map((r) => r.id));
  return entries.map((entry, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const where = `${file} entry ${i + 1}`;
    for (const field of ["object", "rule", "reason"]) {
      if (typeof e[field] !== "string" || !(e[field] as string).trim()) throw new Error(`${where}: needs a non-empty ${field}`);
    }
    if (!known.has(e.rule as string)) throw new Error(`${where}: unknown rule ${e.rule}`);
    if (e.environment !== undefined && (typeof e.environment !== "string" || !e.environment.trim())) throw new Error(`${where}: environment, when given, names one`);
    return {
      object: e.object as string,
      rule: e.rule as string,
      reason: (e.reason as string).trim(),
      ...(e.environment === undefined ? {} : { environment: e.environment as string }),
    };
  });
}
