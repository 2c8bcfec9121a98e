// The commands behind generator/cli.ts, one for people and CI alike: `generate` writes the tree, `check` proves it is current.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { environments } from "./config/environments.ts";
import { shortDiff } from "./emit/diff.ts";
import { diffTree, ownedTopLevel, TreeUnchanged, writeTree } from "./emit/files.ts";
import { acquireLock, LockHeld, lockFileName } from "./emit/lock.ts";
import { type CommandRun, Output } from "./lib/command.ts";
import { generatedBy } from "./lib/generated.ts";
import { GenerationFailed } from "./lib/errors.ts";
import { isProjectRoot, projectName, projectRootOf } from "./lib/project.ts";
import { buildOutput } from "./pipeline.ts";

const usage = `usage: node generator/cli.ts <generate|check> [--root DIR] [--verbose]
  generate   validate every object, then write all generated files and remove stale ones, all or
             nothing; names every file it removes (--verbose: every file it writes too)
  check      write nothing; exit 1 if any generated file differs from the committed one, is missing or is stale
  --root DIR the tree to write or check instead of the project's own (wherever the command is run
             from, it is the project this generator belongs to); generate writes only into the
             project or a folder that holds nothing but generated folders (${ownedTopLevel.join(", ")})`;

/** Why `generate` must not write into `root`, or undefined when it may. */
function unsafeRoot(root: string): string | undefined {
  if (!existsSync(root) || !statSync(root).isDirectory()) return `${root} is not a folder`;
  if (isProjectRoot(root)) return undefined;
  const foreign = readdirSync(root).filter((entry) => !ownedTopLevel.includes(entry) && !entry.startsWith(lockFileName));
  if (foreign.length === 0) return undefined;
  return `${root} is neither the ${projectName} project nor a folder of generated files only (it holds ${foreign
    .slice(0, 3)
    .join(", ")}${foreign.length > 3 ? ", ..." : ""}): generate would remove files there as stale. Run it without --root to write the project's own tree`;
}

function generate(out: Output, root: string, files: ReturnType<typeof buildOutput>, verbose: boolean, started: number): number {
  const refusal = unsafeRoot(root);
  if (refusal) {
    out.error(`generate: refused: ${refusal}`);
    return 2;
  }
  const release = acquireLock(root, "generate", (message) => out.error(`generate: ${message}`));
  try {
    const { written, unchanged, removed } = writeTree(root, files);
    if (verbose) for (const path of written) out.log(`written: ${path}`);
    for (const path of removed) out.log(`removed: ${path} (not produced by the generator)`);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    out.log(`generate: ${written.length} written, ${unchanged.length} unchanged, ${removed.length} removed (${seconds}s)`);
    return 0;
  } finally {
    release();
  }
}

function check(out: Output, root: string, files: ReturnType<typeof buildOutput>): number {
  const { changed, removed } = diffTree(root, files);
  let legend = false;
  for (const f of changed) {
    let committed: string | undefined;
    try {
      committed = readFileSync(resolve(root, f.path), "utf8");
    } catch {
      committed = undefined;
    }
    if (committed === undefined) {
      out.error(`missing: ${f.path}`);
    } else if (committed.replaceAll("\r\n", "\n") === f.content) {
      out.error(`differs: ${f.path}: line endings only (the committed file has CRLF, the generator writes LF; .gitattributes asks Git for LF: check core.autocrlf)`);
    } else {
      if (!legend) out.error(`diff legend: "- " a line of the file on disk, "+ " the line \`${generatedBy}\` writes instead, "  " context`);
      legend = true;
      out.error(`differs: ${f.path}`);
      for (const line of shortDiff(committed, f.content)) out.error(`    ${line}`);
    }
  }
  for (const path of removed) out.error(`stale:   ${path} (not produced by the generator)`);
  const problems = changed.length + removed.length;
  if (problems > 0) {
    out.error(`check: ${problems} generated file(s) out of date. Run \`${generatedBy}\` and commit the result.`);
    return 1;
  }
  out.log(`check: ${files.length} generated files up to date`);
  return 0;
}

/** A failure the user can act on, as one sentence; undefined for a bug (which keeps its stack trace). */
function explain(err: unknown): string | undefined {
  if (err instanceof GenerationFailed || err instanceof LockHeld || err instanceof TreeUnchanged) return err.message;
  const { code, path, syscall } = err as { code?: string; path?: string; syscall?: string };
  if (code && path) {
    const denied = code === "EACCES" || code === "EPERM" || code === "EROFS";
    return `${denied ? "permission denied" : code}: could not ${syscall ?? "use"} ${path}`;
  }
  return undefined;
}

/** The command, run on `argv` (the arguments after `generator/cli.ts`). A bug throws, with its stack trace. */
export function generatorCommand(argv: string[]): CommandRun {
  const out = new Output();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { root: { type: "string" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
  });
  const [command] = positionals;
  if (values.help || (command !== "generate" && command !== "check")) {
    out.error(usage);
    return out.result(values.help ? 0 : 2);
  }
  const started = performance.now();
  try {
    // The project this generator belongs to, never the current directory.
    const root = values.root === undefined ? projectRootOf(import.meta.url) : resolve(values.root);
    const files = buildOutput(environments);
    return out.result(command === "generate" ? generate(out, root, files, values.verbose ?? false, started) : check(out, root, files));
  } catch (err) {
    const message = explain(err);
    if (message === undefined) throw err;
    out.error(`${command}: ${message}`);
    return out.result(1);
  }
}
