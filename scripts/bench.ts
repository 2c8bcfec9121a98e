// Dev tool: are `npm run generate` and `npm run check` at most as slow as a cdk8s synth of the same
// objects? Runs, paired in one loop with the order alternating, the command line each npm script
// runs (without npm's own start-up) and a plain `node main.mjs` cdk8s app that synthesizes every
// object of every environment, and prints each run, the medians, spreads and ratios of wall time
// and, where /proc tells it, of CPU time.
// Nothing of the checkout changes: generate and check work on a temporary copy of the generated tree.
// Run from anywhere: `npm run bench -- --runs 15`.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { environments } from "../generator/config/environments.ts";
import { ownedFiles } from "../generator/emit/files.ts";
import { objectId } from "../generator/lib/identity.ts";
import { plain } from "../generator/lib/objects.ts";
import { environmentObjects } from "../generator/pipeline.ts";

const usage = `usage: node scripts/bench.ts [--runs N] [--json] [--strict]
  --runs N   paired runs after one warm-up round (default 15, at least 15 for a verdict)
  --json     print the results as JSON instead of a table
  --strict   exit 1 if the median ratio of generate or check to the cdk8s synth is above 1.0`;

const root = resolve(import.meta.dirname, "..");
const targetRatio = 1.0;

interface Command {
  readonly label: string;
  readonly argv: readonly string[];
}

/** The command line of an npm script, run with this Node instead of through npm. */
function npmScript(name: string, extra: readonly string[]): Command {
  const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const [program, ...args] = (scripts[name] ?? "").split(" ");
  if (program !== "node") throw new Error(`npm script ${name} does not start with node: ${scripts[name]}`);
  return { label: name, argv: [process.execPath, ...args, ...extra] };
}

interface ChartObjects {
  readonly name: string;
  readonly objects: readonly { id: string; props: Record<string, unknown> }[];
}

/** Every object each environment deploys, as plain JSON, with an id cdk8s accepts (no "/"). */
function deployedObjects(): ChartObjects[] {
  return environments.map((env) => ({
    name: env.name,
    objects: environmentObjects(env).objects.map(({ object }) => ({ id: objectId(object).replaceAll("/", ":"), props: plain<Record<string, unknown>>(object) })),
  }));
}

/** A cdk8s app with one Chart per environment and one ApiObject per object it deploys. */
function cdk8sApp(charts: readonly ChartObjects[]): string {
  return `import { ApiObject, App, Chart } from "cdk8s";
const charts = ${JSON.stringify(charts)};
const app = new App({ outdir: new URL("dist", import.meta.url).pathname });
for (const { name, objects } of charts) {
  const chart = new Chart(app, name);
  for (const { id, props } of objects) new ApiObject(chart, id, props);
}
app.synth();
`;
}

/**
 * CPU time (user + system, ms) of the waited-for children of this process so far, from
 * /proc/self/stat (in 1/100 s); undefined where there is no /proc. Steadier than wall time on a
 * shared machine: other processes delay a run but do not add to its CPU time.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime and cstime, fields 16 and 17 of stat
  } catch {
    return undefined;
  }
}

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number | undefined;
}

function timeOnce(c: Command, cwd: string): Sample {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const [file, ...args] = c.argv;
  const r = spawnSync(file!, args, { cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - started;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${c.label} failed (${why})\n${r.stderr ?? ""}`);
  }
  const cpuAfter = childrenCpuMs();
  return { wallMs: ms, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

/** Linear-interpolated quantile of sorted samples (q = 0.5 is the median). */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return (sorted[lo] ?? Number.NaN) + ((sorted[hi] ?? Number.NaN) - (sorted[lo] ?? Number.NaN)) * (at - lo);
}

interface Summary {
  readonly median: number;
  readonly min: number;
  readonly q1: number;
  readonly q3: number;
  readonly max: number;
}
function summary(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), min: s[0] ?? Number.NaN, q1: quantile(s, 0.25), q3: quantile(s, 0.75), max: s.at(-1) ?? Number.NaN };
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

  const work = mkdtempSync(join(tmpdir(), "nx-bench-"));
  try {
    // generate writes into a folder of generated files only (its --root): a copy of the committed tree.
    const tree = join(work, "tree");
    for (const path of ownedFiles(root)) cpSync(join(root, path), join(tree, path));
    const app = join(work, "cdk8s");
    mkdirSync(app);
    symlinkSync(join(root, "node_modules"), join(app, "node_modules"));
    const charts = deployedObjects();
    writeFileSync(join(app, "main.mjs"), cdk8sApp(charts));
    const objects = charts.reduce((n, chart) => n + chart.objects.length, 0);

    const generate = npmScript("generate", ["--root", tree]);
    const check = npmScript("check", ["--root", tree]);
    const cdk8s: Command = { label: "cdk8s", argv: [process.execPath, "main.mjs"] };
    const order = [generate, check, cdk8s];
    const samples = new Map<string, Sample[]>(order.map((c) => [c.label, []]));
    const cwdOf = (c: Command) => (c === cdk8s ? app : root);
    const load = [loadavg()[0]!];

    for (const c of order) timeOnce(c, cwdOf(c)); // warm-up: file-system and compile caches
    if (!values.json) console.log(`run  ${"generate".padStart(8)}  ${"check".padStart(8)}  ${"cdk8s".padStart(8)}  gen/cdk8s  check/cdk8s  (ms)`);
    for (let i = 0; i < runs; i++) {
      // Alternating order, so that neither side always runs first after the other's caches.
      for (const c of i % 2 === 0 ? order : [...order].reverse()) samples.get(c.label)!.push(timeOnce(c, cwdOf(c)));
      if (!values.json) {
        const [g, k, c] = order.map((x) => samples.get(x.label)![i]!.wallMs);
        console.log(`${String(i + 1).padStart(3)}  ${g!.toFixed(0).padStart(8)}  ${k!.toFixed(0).padStart(8)}  ${c!.toFixed(0).padStart(8)}  ${(g! / c!).toFixed(2).padStart(9)}  ${(k! / c!).toFixed(2).padStart(11)}`);
      }
    }
    load.push(loadavg()[0]!);

    const wall = (label: string) => samples.get(label)!.map((x) => x.wallMs);
    const cpu = (label: string) => samples.get(label)!.map((x) => x.cpuMs ?? Number.NaN);
    const ratio = (times: (label: string) => number[], label: string) => times(label).map((ms, i) => ms / times("cdk8s")[i]!);
    const rows: [string, Summary][] = [
      ["generate ms", summary(wall("generate"))],
      ["check ms", summary(wall("check"))],
      ["cdk8s synth ms", summary(wall("cdk8s"))],
      ["generate / cdk8s", summary(ratio(wall, "generate"))],
      ["check / cdk8s", summary(ratio(wall, "check"))],
      ...(childrenCpuMs() === undefined
        ? []
        : ([
            ["CPU generate ms", summary(cpu("generate"))],
            ["CPU check ms", summary(cpu("check"))],
            ["CPU cdk8s ms", summary(cpu("cdk8s"))],
            ["CPU generate/cdk8s", summary(ratio(cpu, "generate"))],
            ["CPU check/cdk8s", summary(ratio(cpu, "check"))],
          ] as [string, Summary][])),
    ];
    const verdicts = ["generate", "check"].map((label, i) => ({ command: label, medianRatio: rows[3 + i]![1].median, pass: rows[3 + i]![1].median <= targetRatio }));
    const allPass = runs >= 15 && verdicts.every((v) => v.pass);
    const machine = { node: process.version, cores: availableParallelism(), loadAverage1m: load, objects, runs };

    if (values.json) {
      console.log(JSON.stringify({ machine, summaries: Object.fromEntries(rows), samples: Object.fromEntries(samples), verdicts, pass: allPass }, null, 2));
    } else {
      const f = (n: number, ratioRow: boolean) => (ratioRow ? n.toFixed(2) : n.toFixed(0)).padStart(7);
      console.log(`\nnode ${process.version}, ${machine.cores} cores, load average (1 min) ${load.map((l) => l.toFixed(2)).join(" -> ")}, ${objects} objects in ${environments.length} environments, ${runs} paired runs`);
      console.log(`${"".padEnd(18)}  ${"median".padStart(7)}  ${"min".padStart(7)}  ${"q1".padStart(7)}  ${"q3".padStart(7)}  ${"max".padStart(7)}`);
      for (const [label, s] of rows) {
        const r = label.includes("/");
        console.log(`${label.padEnd(18)}  ${f(s.median, r)}  ${f(s.min, r)}  ${f(s.q1, r)}  ${f(s.q3, r)}  ${f(s.max, r)}`);
      }
      console.log();
      for (const v of verdicts) console.log(`${v.pass ? "PASS" : "FAIL"}  ${v.command}: median ratio to the cdk8s synth ${v.medianRatio.toFixed(2)} (target <= ${targetRatio.toFixed(1)})`);
      if (runs < 15) console.log(`(fewer than 15 paired runs: no verdict)`);
    }
    return values.strict && !allPass ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = main();
