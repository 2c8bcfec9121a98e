// `npm run check` and `npm run generate` against a copy of the committed tree: check fails on any
// hand edit, missing or stray file, says where and how to fix it, and never writes; generate
// brings the tree back and removes what the generator no longer produces. The commands run in
// process (generatorCommand, what cli.ts prints; the command line itself: cli-safety.test.ts). Each
// run renders both environments, so one broken tree serves every check case.
// (That a fresh generate writes exactly the committed tree, into an empty folder: determinism.test.ts.)
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatorCommand } from "../generator/main.ts";
import { copyGeneratedTree, readTree, removeTempDirs, subfolders } from "./support/repo.ts";

afterAll(removeTempDirs);

const check = (root: string) => generatorCommand(["check", "--root", root]);
const generate = (root: string) => generatorCommand(["generate", "--root", root]);

/** A component folder of base/ (`<namespace>/<component>`) and its first object file (not the kustomization). */
function baseObjectFile(root: string): { folder: string; file: string } {
  const namespace = subfolders(join(root, "base"))[0];
  const component = namespace === undefined ? undefined : subfolders(join(root, "base", namespace))[0];
  if (!namespace || !component) throw new Error("base/ has no namespace folder with a component folder");
  const folder = `${namespace}/${component}`;
  const file = readdirSync(join(root, "base", folder))
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .sort()[0];
  if (!file) throw new Error(`base/${folder} has no object file`);
  return { folder, file: `base/${folder}/${file}` };
}

/** Replaces the value of the first `key: value` line below `metadata:` and returns both lines. */
function editValue(path: string): { original: string; edited: string } {
  const lines = readFileSync(path, "utf8").split("\n");
  const start = lines.indexOf("metadata:");
  const at = lines.findIndex((line, i) => i > start && /^\s+[^\s:#-][^:]*: \S/.test(line));
  if (start === -1 || at === -1) throw new Error(`no value to edit in ${path}`);
  const original = lines[at]!;
  const edited = original.replace(/: .*$/, ": edited-by-hand");
  lines[at] = edited;
  writeFileSync(path, lines.join("\n"));
  return { original, edited };
}

describe("npm run check on a tree broken every way at once (one run)", () => {
  // One copy with a hand-edited value, a deleted file and a stray file in one base folder, an
  // edited and a stray backend file, and an edited overlay kustomization: each case below reads
  // its own lines of the same run.
  let root: string;
  let base: { folder: string; file: string };
  let edit: { original: string; edited: string };
  let before: Map<string, Buffer>;
  let result: ReturnType<typeof check>;
  const backendFile = "backend/staging/nx-data-layer-settings.yaml";
  let overlayFile: string;

  beforeAll(() => {
    root = copyGeneratedTree();
    base = baseObjectFile(root);
    edit = editValue(join(root, base.file));
    rmSync(join(root, `base/${base.folder}/kustomization.yaml`));
    writeFileSync(join(root, "base", base.folder, "hand-made.yaml"), "apiVersion: v1\nkind: ConfigMap\n");
    writeFileSync(join(root, backendFile), readFileSync(join(root, backendFile), "utf8").replace("APP_ENV_POSTGRES_PORT: \"5432\"", "APP_ENV_POSTGRES_PORT: \"6432\""));
    writeFileSync(join(root, "backend/staging/by-hand.yaml"), "apiVersion: v1\nkind: ConfigMap\n");
    overlayFile = `overlays/${subfolders(join(root, "overlays"))[0]}/kustomization.yaml`;
    appendFileSync(join(root, overlayFile), "namePrefix: edited-\n");
    before = readTree(root);
    result = check(root);
  });

  it("exits 1 and says to run npm run generate", () => {
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/check: 6 generated file\(s\) out of date\. Run `npm run generate`/);
  });

  it("names a hand-edited value in base/ and shows the diff, with a legend", () => {
    expect(result.stderr).toContain('diff legend: "- " a line of the file on disk, "+ " the line `npm run generate` writes instead');
    expect(result.stderr).toContain(`differs: ${base.file}\n`);
    expect(result.stderr).toContain(`- ${edit.edited}`);
    expect(result.stderr).toContain(`+ ${edit.original}`);
  });

  it("reports a deleted generated file missing", () => {
    expect(result.stderr).toContain(`missing: base/${base.folder}/kustomization.yaml`);
  });

  it("reports a stray file under base/ stale", () => {
    expect(result.stderr).toMatch(new RegExp(`stale:\\s+base/${base.folder}/hand-made\\.yaml`));
  });

  it("names a hand-edited backend settings file, and a stray file beside it", () => {
    expect(result.stderr).toContain(`differs: ${backendFile}`);
    expect(result.stderr).toContain('+   APP_ENV_POSTGRES_PORT: "5432"');
    expect(result.stderr).toMatch(/stale:\s+backend\/staging\/by-hand\.yaml/);
  });

  it("names a hand-edited overlay kustomization", () => {
    expect(result.stderr).toContain(`differs: ${overlayFile}`);
    expect(result.stderr).toContain("- namePrefix: edited-");
  });

  it("writes nothing", () => {
    expect(readTree(root)).toEqual(before);
  });
});

describe("npm run generate", () => {
  it("removes a stray file and a retired environment's folders, then has nothing left to write, and check passes", () => {
    const root = copyGeneratedTree();
    const { folder } = baseObjectFile(root);
    const stray = join(root, "base", folder, "hand-made.yaml");
    writeFileSync(stray, "stray\n");
    const retired = join(root, "overlays", "retired", "nx-broker");
    mkdirSync(retired, { recursive: true });
    writeFileSync(join(retired, "kustomization.yaml"), "resources: []\n");

    const first = generate(root);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/\b0 written, \d+ unchanged, 2 removed\b/);
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(join(root, "overlays", "retired"))).toBe(false);
    expect(existsSync(join(root, "overlays", "staging"))).toBe(true);

    const second = generate(root);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/\b0 written, \d+ unchanged, 0 removed\b/);
    const passed = check(root);
    expect(passed.stderr).toBe("");
    expect(passed.stdout).toMatch(/up to date/);
    expect(passed.status).toBe(0);
  });
});
