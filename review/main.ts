// The command behind `npm run review -- --base <ref>`: what a change does to each environment, object
// by object and field by field, and whether Kubernetes, an operator or the data would suffer from it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { acknowledgedFile, judge, loadAcknowledgements } from "./acknowledged.ts";
import { compareEnvironment } from "./compare.ts";
import { markdownReport, type ReviewResult, textReport } from "./report.ts";
import { environmentsAt, environmentsOf, renderTree, repositoryRoot, resolveCommit, ReviewError, withWorktree } from "./trees.ts";
import type { CommandRun } from "../generator/lib/command.ts";
import { byCodePoint } from "../generator/lib/order.ts";

const usage = `usage: npm run review -- --base REF [--env ENV] [--format text|markdown] [--root DIR]
  Renders REF (in a temporary git worktree) and the working tree with kustomize, as Argo CD
  renders them, and prints per environment what is added, removed and changed (changed fields
  only). Exits 1 when a change is unsafe and not acknowledged in ${acknowledgedFile}, 2 when
  the review cannot run.
  --base REF      the commit the change goes onto (origin/main; in CI the merge commit's first parent, HEAD^1)
  --env ENV       review one environment only (repeatable; default: every environment of either tree)
  --format F      text (default) or markdown (a pull request comment, $GITHUB_STEP_SUMMARY)
  --root DIR      the repository (default: the one holding the current directory)`;

/**
 * Whether the working tree's generated YAML is what its own code generates, by its own
 * `generate check` (run beside the builds). A review of stale YAML is not a review of the change.
 */
function freshness(root: string): Promise<string | undefined> {
  const cli = join(root, "generator", "cli.ts");
  if (!existsSync(cli)) return Promise.resolve(undefined);
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, "check", "--root", root], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    const err: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => done(`could not check the generated files: ${e.message}`));
    child.on("close", (status) => {
      if (status === 0) return done(undefined);
      const files = Buffer.concat(err).toString().split("\n").filter((l) => /^(differs|missing|stale):/.test(l)).length;
      done(
        files > 0
          ? `${files} generated file(s) in the working tree differ from what its code generates: this review shows the committed YAML; run \`npm run generate\``
          : `\`npm run check\` failed in the working tree: ${Buffer.concat(err).toString().trim().split("\n")[0] ?? ""}`,
      );
    });
  });
}

/** The command, run on `argv` (the arguments after `npm run review --`). */
export async function review(argv: string[]): Promise<CommandRun> {
  try {
    return await run(argv);
  } catch (err) {
    return { status: 2, stdout: "", stderr: `review: ${err instanceof Error ? err.message : String(err)}\n` };
  }
}

async function run(argv: string[]): Promise<CommandRun> {
  const { values } = parseArgs({
    args: argv,
    options: {
      base: { type: "string" },
      env: { type: "string", multiple: true },
      format: { type: "string", default: "text" },
      root: { type: "string", default: "." },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !values.base || !["text", "markdown"].includes(values.format)) {
    return { status: values.help ? 0 : 2, stdout: "", stderr: `${usage}\n` };
  }
  const started = performance.now();
  const root = repositoryRoot(resolve(values.root));
  const commit = resolveCommit(root, values.base);
  const acknowledgements = loadAcknowledgements(join(root, acknowledgedFile));
  const all = [...new Set([...environmentsAt(root, commit), ...environmentsOf(root)])].sort(byCodePoint);
  const unknown = (values.env ?? []).filter((e) => !all.includes(e));
  if (unknown.length > 0) throw new ReviewError(`--env ${unknown.join(", ")}: no such environment (there are: ${all.join(", ")})`);
  const environments = values.env ? all.filter((e) => values.env!.includes(e)) : all;
  const stale = freshness(root);
  // The working tree's builds run while the base is being checked out.
  const [head, base] = await Promise.all([renderTree(root, environments), withWorktree(root, commit, (baseDir) => renderTree(baseDir, environments))]);
  const reviews = environments.map((env) => compareEnvironment(env, base.get(env) ?? [], head.get(env) ?? []));
  const warning = await stale;
  const result: ReviewResult = {
    base: { ref: values.base, commit },
    environments: reviews,
    judgement: judge(reviews.flatMap((r) => r.findings), acknowledgements, environments),
    warnings: warning ? [warning] : [],
    seconds: (performance.now() - started) / 1000,
  };
  return {
    status: result.judgement.refused.length > 0 ? 1 : 0,
    stdout: values.format === "markdown" ? markdownReport(result) : textReport(result),
    stderr: "",
  };
}
