// review/acknowledged.yaml: the unsafe changes a pull request means to make, each reviewed in
// that pull request with the object, the rule, the reason and who reviewed it.
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { type Finding, type RuleId, ruleIds } from "./rules.ts";

export const acknowledgedFile = "review/acknowledged.yaml";

export interface Acknowledgement {
  /** `review/acknowledged.yaml entry 2`, to point at it in messages */
  readonly entry: string;
  readonly environment: string;
  /** as findings name it: `StatefulSet`, `Cluster.postgresql.cnpg.io` */
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly rule: RuleId;
  /** the finding's field; when absent, every finding of the rule on the object */
  readonly field?: string;
  readonly reason: string;
  readonly reviewedBy: string;
}

const required = ["environment", "kind", "name", "rule", "reason", "reviewedBy"] as const;
const optional = ["namespace", "field"] as const;

/** Reads and checks the file (none is an empty list); throws naming the entry and the field. */
export function loadAcknowledgements(path: string, label = acknowledgedFile): Acknowledgement[] {
  if (!existsSync(path)) return [];
  const entries: unknown = parse(readFileSync(path, "utf8")) ?? [];
  if (!Array.isArray(entries)) throw new Error(`${label}: expected a list of acknowledgements`);
  return entries.map((raw, i) => {
    const entry = `${label} entry ${i + 1}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${entry}: expected a mapping`);
    const e = raw as Record<string, unknown>;
    const unknown = Object.keys(e).filter((k) => !(required as readonly string[]).includes(k) && !(optional as readonly string[]).includes(k));
    if (unknown.length > 0) throw new Error(`${entry}: unknown field(s) ${unknown.join(", ")} (fields: ${[...required, ...optional].join(", ")})`);
    for (const field of [...required, ...optional]) {
      const value = e[field];
      if (value === undefined && (optional as readonly string[]).includes(field)) continue;
      if (typeof value !== "string" || value.trim() === "") throw new Error(`${entry}: ${field} must be a non-empty string`);
    }
    if (!(ruleIds as readonly string[]).includes(e.rule as string)) throw new Error(`${entry}: rule must be one of ${ruleIds.join(", ")}`);
    const text = (field: string) => (e[field] as string).trim();
    return {
      entry,
      environment: text("environment"),
      kind: text("kind"),
      ...(e.namespace !== undefined ? { namespace: text("namespace") } : {}),
      name: text("name"),
      rule: e.rule as RuleId,
      ...(e.field !== undefined ? { field: text("field") } : {}),
      reason: text("reason"),
      reviewedBy: text("reviewedBy"),
    };
  });
}

export function matches(a: Acknowledgement, f: Finding): boolean {
  return (
    a.environment === f.environment &&
    a.kind === f.kind &&
    (a.namespace ?? "") === (f.namespace ?? "") &&
    a.name === f.name &&
    a.rule === f.rule &&
    (a.field === undefined || a.field === f.field)
  );
}

export interface Judgement {
  readonly refused: readonly Finding[];
  readonly acknowledged: readonly { finding: Finding; by: Acknowledgement }[];
  /** acknowledgements of a reviewed environment that match no finding: stale, to be removed */
  readonly unused: readonly Acknowledgement[];
}

export function judge(findings: readonly Finding[], acknowledgements: readonly Acknowledgement[], environments: readonly string[]): Judgement {
  const refused: Finding[] = [];
  const acknowledged: { finding: Finding; by: Acknowledgement }[] = [];
  const used = new Set<Acknowledgement>();
  for (const finding of findings) {
    const by = acknowledgements.find((a) => matches(a, finding));
    if (by) {
      acknowledged.push({ finding, by });
      used.add(by);
    } else {
      refused.push(finding);
    }
  }
  const unused = acknowledgements.filter((a) => !used.has(a) && environments.includes(a.environment));
  return { refused, acknowledged, unused };
}
