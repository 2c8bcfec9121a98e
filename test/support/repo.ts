// Shared helpers for the tests: the real kustomize, the real CLI as a child process, and
// throw-away copies of the generated tree. Nothing here ever writes into the repository.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { kustomize } from "../../policies/kustomize.ts";

/** Absolute path of the repository (the folder holding generator/ and test/). */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** The top-level folders the generator writes. */
export const generatedFolders = ["base", "overlays", "docs", "argocd", "backend"] as const;

// ---------------------------------------------------------------------------------------------
// Temporary directories

const created: string[] = [];

/** A new empty directory under os.tmpdir(); removed by removeTempDirs(). */
export function tempDir(label = "tmp"): string {
  const dir = mkdtempSync(join(tmpdir(), `nx-data-layer-${label}-`));
  created.push(dir);
  return dir;
}

/** Removes every directory tempDir() created in this test file (use as `afterAll(removeTempDirs)`). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Copies the repository's generated tree (base/, overlays/, docs/ and argocd/ when present) into
 * `to` (a fresh temp dir by default) and returns that directory, so tests can mutate it freely.
 */
export function copyGeneratedTree(to: string = tempDir("tree")): string {
  for (const folder of generatedFolders) {
    const from = join(repoRoot, folder);
    if (existsSync(from)) cpSync(from, join(to, folder), { recursive: true });
  }
  return to;
}

/**
 * A working copy of the project in `to` (a fresh temp dir by default): the generator, its scripts,
 * package.json, its lockfile and the generated tree, with node_modules linked to the repository's. The CLI run
 * from it (`node <copy>/generator/cli.ts`) treats it as its project.
 */
export function copyProject(to: string = tempDir("project")): string {
  for (const entry of ["generator", "scripts", "package.json", "package-lock.json"]) cpSync(join(repoRoot, entry), join(to, entry), { recursive: true });
  copyGeneratedTree(to);
  symlinkSync(join(repoRoot, "node_modules"), join(to, "node_modules"));
  return to;
}

/** Every file below `dir` as `relative/path -> bytes`, sorted by path; symbolic links are not followed. */
export function readTree(dir: string): Map<string, Buffer> {
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(at, e.name)) : e.isFile() ? [relative(dir, join(at, e.name))] : [],
    );
  const files = walk(dir).sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f))]));
}

// ---------------------------------------------------------------------------------------------
// The CLI

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node generator/cli.ts <args>` (or `entry`, e.g. policies/cli.ts) in a child process, from
 * `cwd` (the repository by default). `env` is added to the current environment; a variable set to
 * `undefined` is removed.
 */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; entry?: "generator/cli.ts" | "policies/cli.ts" | "scripts/pitr.ts" } = {},
): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const result = spawnSync(process.execPath, [join(repoRoot, options.entry ?? "generator/cli.ts"), ...args], {
    cwd: options.cwd ?? repoRoot,
    env,
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// ---------------------------------------------------------------------------------------------
// kustomize

/** A Kubernetes object as kustomize renders it, read as plain JSON. */
export type PlainObject = {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
};

/** Builds of the committed tree, by folder: no test writes into the repository, so one build a run serves every file. */
const committedBuilds = new Map<string, PlainObject[]>();

/**
 * Runs the real `kustomize build <dir>` and returns its documents, parsed with the `yaml` package
 * (a fresh copy each call: callers may change them). A folder of the repository is built once per
 * test worker; a scratch copy, which a test may have changed, every time. Throws with kustomize's
 * own message when the build fails, and on any YAML parse error.
 */
export function kustomizeBuild(dir: string): PlainObject[] {
  const build = () => parseBuild(kustomize().build(dir), `kustomize output of ${dir}`);
  const full = resolve(dir);
  if (!full.startsWith(`${repoRoot}/`)) return build();
  if (!committedBuilds.has(full)) committedBuilds.set(full, build());
  return structuredClone(committedBuilds.get(full)!);
}

/** The documents of kustomize's output parsed so far, by their text, for parseBuild. */
const parsedDocuments = new Map<string, unknown[]>();

/**
 * parseYaml for kustomize's output, each document parsed once per test worker: the builds of an
 * overlay, of its namespace folders and of a scratch layout share most of their documents. Split
 * at the `---` lines: kustomize writes each object as a block mapping, no other line starts so.
 */
function parseBuild(text: string, source: string): PlainObject[] {
  return text.split(/^---\n/m).flatMap((document) => {
    if (!parsedDocuments.has(document)) parsedDocuments.set(document, parseYaml(document, source));
    return structuredClone(parsedDocuments.get(document)!) as PlainObject[];
  });
}

/** Every non-empty document of a YAML stream, as plain JSON; throws on any parse error. */
export function parseYaml(text: string, source: string): unknown[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (!("errors" in doc)) return []; // an empty stream
    if (doc.errors.length > 0) {
      throw new Error(`${source} is not valid YAML:\n${doc.errors.map((e) => e.message).join("\n")}`);
    }
    const value: unknown = doc.toJS();
    return value === null ? [] : [value];
  });
}

// ---------------------------------------------------------------------------------------------
// Objects

/** `apiVersion/kind/namespace/name`, the identity of an object in a rendered set. */
export function objectKey(object: PlainObject): string {
  return [object.apiVersion, object.kind, object.metadata?.namespace ?? "", object.metadata?.name ?? ""].join("/");
}

/** The objects keyed by objectKey(), each as plain JSON; throws on two objects with one key. */
export function byKey(objects: readonly unknown[]): Map<string, PlainObject> {
  const map = new Map<string, PlainObject>();
  for (const object of objects) {
    const plain = JSON.parse(JSON.stringify(object)) as PlainObject;
    const key = objectKey(plain);
    if (map.has(key)) throw new Error(`two objects are ${key}`);
    map.set(key, plain);
  }
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The sub-folders of `dir` that hold at least one file (anywhere below), sorted; none if `dir` does
 * not exist. Empty folders are skipped: Git does not track them, and `generate` leaves them behind
 * when it removes the last file of a folder.
 */
export function subfolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && hasFiles(join(dir, e.name)))
    .map((e) => e.name)
    .sort();
}

function hasFiles(dir: string): boolean {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile());
}
