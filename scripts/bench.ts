// Dev tool: how long do `npm run generate` and `npm run check` take, as whole processes?
// Compares them with Node's bare start-up and with the direct `node generator/cli.ts` calls,
// so the cost of npm itself is visible; times `npm run review` too. Run from anywhere:
// `npm run bench -- --runs 15`.
import { spawnSync } from "node:child_process";
import { delimiter, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";

const usage = `usage: node scripts/bench.ts [--runs N] [--json] [--strict]
  --runs N   timed runs per command after one warm-up run (default 15; the review at most 5)
  --json     print the results as JSON instead of a table
  --strict   exit 1 if a target is missed (default: always exit 0)`;

const budgetMs = 500;
const root = resolve(import.meta.dirname, "..");
const node = process.execPath;
// npm and the scripts it runs must use the same node as this process.
const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}` };

interface Command {
  label: string;
  file: string;
  args: string[];
  target?: boolean; // judged against the budget
  maxRuns?: number; // for the slow ones: timed at most this often
}

const commands: Command[] = [
  { label: "node -e ''", file: node, args: ["-e", ""] },
  { label: "npm run generate", file: "npm", args: ["run", "generate"], target: true },
  { label: "npm run check", file: "npm", args: ["run", "check"], target: true },
  { label: "node generator/cli.ts generate", file: node, args: ["generator/cli.ts", "generate"] },
  { label: "node generator/cli.ts check", file: node, args: ["generator/cli.ts", "check"] },
  // Renders HEAD in a worktree and the working tree, both with kustomize: seconds, not the 0.5 s budget.
  { label: "npm run review -- --base HEAD", file: "npm", args: ["run", "review", "--", "--base", "HEAD"], maxRuns: 5 },
];

interface Result {
  command: string;
  runs: number;
  medianMs: number;
  p90Ms: number;
  ratio: number;
  samplesMs: number[];
}

function timeOnce(c: Command): number {
  const started = performance.now();
  const r = spawnSync(c.file, c.args, { cwd: root, env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - started;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${c.label} failed (${why})\n${r.stderr ?? ""}`);
  }
  return ms;
}

// Nearest-rank percentile of sorted samples; the median averages the middle pair.
function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}
function median(sorted: number[]): number {
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2 : (sorted[Math.floor(mid)] ?? Number.NaN);
}

function main(): number {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "15" },
      json: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs must be a positive integer\n${usage}`);
    return 2;
  }

  const results: Result[] = [];
  for (const c of commands) {
    const n = Math.min(runs, c.maxRuns ?? runs);
    if (!values.json) process.stderr.write(`timing ${c.label} ×${n}\n`);
    timeOnce(c); // warm-up: file-system cache, and `generate` leaves the tree current for `check`
    const samples = Array.from({ length: n }, () => timeOnce(c));
    const sorted = [...samples].sort((a, b) => a - b);
    results.push({ command: c.label, runs: n, medianMs: median(sorted), p90Ms: percentile(sorted, 90), ratio: 0, samplesMs: samples });
  }
  const base = results[0]?.medianMs ?? Number.NaN;
  for (const r of results) r.ratio = r.medianMs / base;

  const verdicts = commands
    .map((c, i) => ({ c, r: results[i] }))
    .filter((x): x is { c: Command; r: Result } => x.c.target === true && x.r !== undefined)
    .map(({ r }) => ({ command: r.command, medianMs: r.medianMs, budgetMs, pass: r.medianMs < budgetMs }));
  const allPass = verdicts.every((v) => v.pass);

  if (values.json) {
    const round = (n: number) => Math.round(n * 10) / 10;
    const out = {
      node: process.version,
      runs,
      results: results.map((r) => ({ ...r, medianMs: round(r.medianMs), p90Ms: round(r.p90Ms), ratio: Math.round(r.ratio * 100) / 100, samplesMs: r.samplesMs.map(round) })),
      verdicts: verdicts.map((v) => ({ ...v, medianMs: round(v.medianMs) })),
      pass: allPass,
    };
    console.log(JSON.stringify(out, null, 2));
  } else {
    const width = Math.max(...results.map((r) => r.command.length));
    console.log(`\nnode ${process.version}, timed runs after one warm-up, wall time of the whole process\n`);
    console.log(`${"command".padEnd(width)}  ${"runs".padStart(4)}  ${"median ms".padStart(9)}  ${"p90 ms".padStart(7)}  ${"× node".padStart(6)}`);
    for (const r of results) {
      console.log(
        `${r.command.padEnd(width)}  ${String(r.runs).padStart(4)}  ${r.medianMs.toFixed(1).padStart(9)}  ${r.p90Ms.toFixed(1).padStart(7)}  ${r.ratio.toFixed(2).padStart(6)}`,
      );
    }
    console.log();
    for (const v of verdicts) {
      console.log(`${v.pass ? "PASS" : "FAIL"}  ${v.command}: median ${v.medianMs.toFixed(0)} ms (budget < ${budgetMs} ms)`);
    }
  }
  return values.strict && !allPass ? 1 : 0;
}

process.exitCode = main();
