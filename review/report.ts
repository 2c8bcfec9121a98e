// The review as text (a terminal, the CI log) and as Markdown (a pull request comment or the
// GitHub job summary): the same content in the same order.
import { shortDiff } from "../generator/emit/diff.ts";
import type { Judgement } from "./acknowledged.ts";
import { acknowledgedFile } from "./acknowledged.ts";
import type { EnvironmentReview } from "./compare.ts";
import type { FieldChange, Json } from "./diff.ts";
import { objectName } from "./objects.ts";
import type { Finding } from "./rules.ts";

export interface ReviewResult {
  /** as given (`origin/main`) and as resolved */
  readonly base: { readonly ref: string; readonly commit: string };
  readonly environments: readonly EnvironmentReview[];
  readonly judgement: Judgement;
  readonly warnings: readonly string[];
  readonly seconds: number;
}

const maxValue = 300;

function showValue(v: Json | undefined): string {
  if (v === undefined) return "(absent)";
  const s = JSON.stringify(v);
  return s.length > maxValue ? `${s.slice(0, maxValue)}… (${s.length} characters)` : s;
}

/** `path: old -> new`, or for text over several lines a line diff of it. */
export function changeLines(c: FieldChange): string[] {
  const multiline = (v: Json | undefined) => typeof v === "string" && v.includes("\n");
  if (typeof c.before === "string" && typeof c.after === "string" && (multiline(c.before) || multiline(c.after))) {
    return [`${c.path}:`, ...shortDiff(c.before, c.after, 40).map((l) => `  ${l}`)];
  }
  return [`${c.path}: ${showValue(c.before)} -> ${showValue(c.after)}`];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function counts(e: EnvironmentReview): string {
  const parts = [
    e.changed.length && `${e.changed.length} changed`,
    e.added.length && `${e.added.length} added`,
    e.removed.length && `${e.removed.length} removed`,
  ].filter(Boolean);
  return `${parts.length > 0 ? parts.join(", ") : "no changes"} (${plural(e.total, "object")})`;
}

const findingTitle = (f: Finding) => `${f.environment} ${f.object}${f.field ? ` ${f.field}` : ""} [${f.rule}]`;

function verdict(r: ReviewResult): string {
  const { refused, acknowledged } = r.judgement;
  const changes = r.environments.reduce((n, e) => n + e.changed.length + e.added.length + e.removed.length, 0);
  if (refused.length > 0) {
    return `refused: ${plural(refused.length, "unsafe change")}; fix each, or acknowledge it in ${acknowledgedFile} in this pull request`;
  }
  return `passed: ${plural(changes, "object")} changed, added or removed${acknowledged.length ? `, ${acknowledged.length} unsafe change(s) acknowledged` : ""}`;
}

// ---------------------------------------------------------------------------------------------
// Text

export function textReport(r: ReviewResult): string {
  const out: string[] = [`review: ${r.base.ref} (${r.base.commit.slice(0, 12)}) -> working tree`];
  for (const e of r.environments) {
    out.push("", `${e.environment}: ${counts(e)}`);
    for (const c of e.changed) {
      out.push(`  changed ${c.object}`, ...c.changes.flatMap(changeLines).map((l) => `      ${l}`));
    }
    for (const o of e.added) out.push(`  added   ${objectName(o)}`);
    for (const o of e.removed) out.push(`  removed ${objectName(o)}`);
  }
  for (const f of r.judgement.refused) {
    out.push("", `REFUSED ${findingTitle(f)}`, `  ${f.object} ${f.message}`);
    out.push(...f.changes.flatMap(changeLines).map((l) => `    ${l}`));
    out.push("  instead:");
    for (const step of f.instead) {
      out.push(`    ${step.text}`, ...(step.commands ?? []).map((c) => `      ${c}`));
    }
  }
  for (const { finding, by } of r.judgement.acknowledged) {
    out.push("", `ACKNOWLEDGED ${findingTitle(finding)}`, `  ${by.reason} (reviewed by ${by.reviewedBy}; ${by.entry})`);
  }
  const warnings = [...r.warnings, ...r.judgement.unused.map(unusedWarning)];
  if (warnings.length > 0) out.push("", ...warnings.map((w) => `warning: ${w}`));
  out.push("", `review: ${verdict(r)} (${r.seconds.toFixed(1)}s)`);
  return `${out.join("\n")}\n`;
}

export function unusedWarning(a: Judgement["unused"][number]): string {
  const object = `${a.kind} ${a.namespace ? `${a.namespace}/` : ""}${a.name}`;
  return `${a.entry} (${a.environment} ${object} ${a.rule}${a.field ? ` ${a.field}` : ""}) matches no unsafe change: remove it`;
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** A fenced block that its content cannot close. */
function fenced(lines: readonly string[], info = "text"): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const fence = "`".repeat(longest + 1);
  return [`${fence}${info}`, ...lines, fence];
}

const code = (s: string) => `\`${s}\``;

export function markdownReport(r: ReviewResult): string {
  const { refused, acknowledged } = r.judgement;
  const out: string[] = [`## Data layer review: ${code(r.base.ref)} (${code(r.base.commit.slice(0, 12))}) → this change`, ""];
  out.push(`**Review ${verdict(r)}.**`, "");
  if (refused.length > 0) {
    out.push("### Refused", "");
    for (const f of refused) {
      out.push(`#### ${f.environment}: ${code(f.object)}${f.field ? ` ${code(f.field)}` : ""} (${f.rule})`, "", `${f.object} ${f.message}.`, "");
      if (f.changes.length > 0) out.push(...fenced(f.changes.flatMap(changeLines)), "");
      out.push("What to do instead:", "");
      f.instead.forEach((step, i) => {
        out.push(`${i + 1}. ${step.text}`);
        if (step.commands?.length) out.push("", ...fenced(step.commands, "sh").map((l) => `   ${l}`), "");
      });
      out.push("");
    }
  }
  if (acknowledged.length > 0) {
    out.push("### Acknowledged", "");
    for (const { finding, by } of acknowledged) {
      out.push(`- ${finding.environment}: ${code(finding.object)}${finding.field ? ` ${code(finding.field)}` : ""} (${finding.rule}): ${by.reason} (reviewed by ${by.reviewedBy})`);
    }
    out.push("");
  }
  const warnings = [...r.warnings, ...r.judgement.unused.map(unusedWarning)];
  if (warnings.length > 0) out.push("### Warnings", "", ...warnings.map((w) => `- ${w}`), "");
  for (const e of r.environments) {
    out.push(`### ${e.environment}: ${counts(e)}`, "");
    for (const c of e.changed) {
      out.push(
        `<details><summary>changed <code>${c.object}</code> (${plural(c.changes.length, "field")})</summary>`,
        "",
        ...fenced(c.changes.flatMap(changeLines)),
        "",
        "</details>",
      );
    }
    for (const o of e.added) out.push(`- added ${code(objectName(o))}`);
    for (const o of e.removed) out.push(`- removed ${code(objectName(o))}`);
    out.push("");
  }
  out.push(`<sub>${code("npm run review")} in ${r.seconds.toFixed(1)} s</sub>`);
  return `${out.join("\n")}\n`;
}
