// The two trees a review compares, each rendered the way Argo CD renders it: `kustomize build` of
// every environment's overlay and of its Argo CD folders. The generated folders of the base ref
// are checked out in a temporary `git worktree` outside the repository, removed afterwards
// whatever happens, so the working tree, its index and its stashes are never touched.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { kustomize } from "../policies/kustomize.ts";
import { keepOutput, keptOutput, outputFile } from "../policies/kustomize-cache.ts";
import { ownedTopLevel } from "../generator/emit/files.ts";
import type { Manifest } from "./objects.ts";
import { byCodePoint } from "../generator/lib/order.ts";

/** A problem that stops the review before it can judge anything (exit 2). */
export class ReviewError extends Error {}

function git(root: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
  if (r.error) throw new ReviewError(`git is needed: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** The top folder of the repository holding `dir`. */
export function repositoryRoot(dir: string): string {
  const r = git(dir, ["rev-parse", "--show-toplevel"]);
  if (r.status !== 0) throw new ReviewError(`${dir} is not in a git repository: ${r.stderr}`);
  return r.stdout;
}

/** The commit a ref names (`origin/main`, a tag, a SHA); throws naming the ref when there is none. */
export function resolveCommit(root: string, ref: string): string {
  const r = git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  if (r.status !== 0 || r.stdout === "") {
    throw new ReviewError(`--base ${ref} names no commit here (in CI, fetch the history: actions/checkout with fetch-depth: 0)`);
  }
  return r.stdout;
}

/**
 * What of a commit the builds read: the generated folders (kustomizations refer to nothing else)
 * and the attributes that say how their files are checked out. The rest of the repository (the
 * vendored schemas, the test fixtures: 9 files in 10) is not checked out, which made a checkout
 * take seconds.
 */
function renderedPaths(root: string, commit: string): string[] {
  const top = new Set(git(root, ["ls-tree", "--name-only", commit]).stdout.split("\n"));
  return [".gitattributes", ...ownedTopLevel].filter((path) => top.has(path));
}

/**
 * Runs `use` on a checkout of the generated folders of `commit` in a temporary worktree, then
 * removes the worktree: after success, failure, or Ctrl-C. Hooks are off for the checkout (a
 * post-checkout hook must not run an install in it).
 */
export async function withWorktree<T>(root: string, commit: string, use: (dir: string) => Promise<T>): Promise<T> {
  const holder = mkdtempSync(join(tmpdir(), "nx-data-layer-review-"));
  const dir = join(holder, "base");
  const remove = () => {
    const removed = git(root, ["worktree", "remove", "--force", dir]);
    rmSync(holder, { recursive: true, force: true });
    // Only when git could not remove it (a checkout cut short): prune forgets worktrees whose folder is gone.
    if (removed.status !== 0 && git(root, ["worktree", "list", "--porcelain"]).stdout.split("\n").includes(`worktree ${dir}`)) {
      git(root, ["worktree", "prune"]);
    }
  };
  const interrupted = (signal: NodeJS.Signals) => {
    remove();
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const added = git(root, ["-c", "core.hooksPath=/dev/null", "worktree", "add", "--no-checkout", "--detach", "--quiet", dir, commit]);
    if (added.status !== 0) throw new ReviewError(`git worktree add of ${commit} failed: ${added.stderr}`);
    const paths = renderedPaths(root, commit);
    if (paths.length > 0) {
      const checkedOut = git(dir, ["-c", "core.hooksPath=/dev/null", "checkout", commit, "--", ...paths]);
      if (checkedOut.status !== 0) throw new ReviewError(`git checkout of ${paths.join(", ")} at ${commit} failed: ${checkedOut.stderr}`);
    }
    return await use(dir);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    remove();
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

const hasKustomization = (dir: string) => ["kustomization.yaml", "kustomization.yml", "Kustomization"].some((f) => existsSync(join(dir, f)));

const subfolders = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && hasKustomization(join(dir, e.name)))
        .map((e) => e.name)
        .sort(byCodePoint)
    : [];

/** The environments the working tree deploys: the folders of overlays/ that are kustomizations. */
export const environmentsOf = (root: string): string[] => subfolders(join(root, "overlays"));

/** The same for a commit, read from git without a checkout. */
export function environmentsAt(root: string, commit: string): string[] {
  const r = git(root, ["ls-tree", "-r", "--name-only", commit, "--", "overlays"]);
  const environments = r.stdout.split("\n").flatMap((path) => /^overlays\/([^/]+)\/(?:kustomization\.ya?ml|Kustomization)$/.exec(path)?.[1] ?? []);
  return [...new Set(environments)].sort(byCodePoint);
}

/** What Argo CD applies for an environment: its overlay, and each of its Argo CD folders (apps, bootstrap). */
const sourcesOf = (root: string, env: string): string[] => [
  ...(hasKustomization(join(root, "overlays", env)) ? [join("overlays", env)] : []),
  ...subfolders(join(root, "argocd", env)).map((f) => join("argocd", env, f)),
];

// The two trees share most objects word for word: each distinct document is parsed once, and an
// unchanged object is the same Manifest on both sides.
const parsed = new Map<string, Manifest | null>();

function parseDocument(text: string, path: string): Manifest | null {
  let manifest = parsed.get(text);
  if (manifest === undefined) {
    try {
      manifest = (parse(text) as Manifest | null) ?? null;
    } catch (err) {
      throw new ReviewError(`kustomize output of ${path} is not valid YAML: ${(err as Error).message}`);
    }
    parsed.set(text, manifest);
  }
  return manifest;
}

function documentsOf(output: string, path: string): Manifest[] {
  // kustomize separates documents with a bare `---` line, which no indented block scalar can hold.
  return output.split(/^---$/m).flatMap((text) => parseDocument(text, path) ?? []);
}

function build(root: string, path: string): Promise<Manifest[]> {
  const [command, ...args] = kustomize().command;
  const file = outputFile(join(root, path), kustomize().description);
  const kept = keptOutput(file);
  if (kept !== undefined) return Promise.resolve().then(() => documentsOf(kept, path));
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...args, join(root, path)], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0) {
        reject(new ReviewError(`${kustomize().command.join(" ")} ${path} failed in ${root}:\n${Buffer.concat(err).toString().trim()}`));
        return;
      }
      try {
        const output = Buffer.concat(out).toString();
        keepOutput(file, output);
        resolve(documentsOf(output, path));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Every object each environment of the tree deploys, all builds running at once. */
export async function renderTree(root: string, environments: readonly string[]): Promise<Map<string, Manifest[]>> {
  const rendered = await Promise.all(
    environments.map(async (env) => [env, (await Promise.all(sourcesOf(root, env).map((p) => build(root, p)))).flat()] as const),
  );
  return new Map(rendered);
}
