// `npm run check` and `npm run generate` against a copy of the committed tree: check fails on any
// hand edit, missing or stray file, says where and how to fix it, and never writes; generate
// brings the tree back and removes what the generator no longer produces.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { environments } from "../generator/config/environments.ts";
import { buildOutput } from "../generator/pipeline.ts";
import { copyGeneratedTree, readTree, removeTempDirs, runCli, subfolders, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const check = (root: string) => runCli(["check", "--root", root]);
const generate = (root: string) => runCli(["generate", "--root", root]);

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

describe("npm run check", () => {
  it("passes on an unmodified copy of the committed tree", () => {
    const result = check(copyGeneratedTree());
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/up to date/);
    expect(result.status).toBe(0);
  });

  it("fails on a hand-edited value in base/, naming the file, showing the diff and the fix", () => {
    const root = copyGeneratedTree();
    const { file } = baseObjectFile(root);
    const { original, edited } = editValue(join(root, file));

    const result = check(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`differs: ${file}`);
    expect(result.stderr).toContain(`- ${edited}`);
    expect(result.stderr).toContain(`+ ${original}`);
    expect(result.stderr).toContain("npm run generate");
  });

  it("fails when a generated file was deleted, reporting it missing", () => {
    const root = copyGeneratedTree();
    const { folder } = baseObjectFile(root);
    const file = `base/${folder}/kustomization.yaml`;
    rmSync(join(root, file));

    const result = check(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`missing: ${file}`);
    expect(result.stderr).toContain("npm run generate");
  });

  it("fails on a stray file under base/, reporting it stale", () => {
    const root = copyGeneratedTree();
    const { folder } = baseObjectFile(root);
    writeFileSync(join(root, "base", folder, "hand-made.yaml"), "apiVersion: v1\nkind: ConfigMap\n");

    const result = check(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`stale:\\s+base/${folder}/hand-made\\.yaml`));
    expect(result.stderr).toContain("npm run generate");
  });

  it("fails on a hand-edited backend settings file, and on a stray file beside it", () => {
    const root = copyGeneratedTree();
    const file = "backend/staging/nx-data-layer-settings.yaml";
    writeFileSync(join(root, file), readFileSync(join(root, file), "utf8").replace("APP_ENV_POSTGRES_PORT: \"5432\"", "APP_ENV_POSTGRES_PORT: \"6432\""));
    writeFileSync(join(root, "backend/staging/by-hand.yaml"), "apiVersion: v1\nkind: ConfigMap\n");

    const result = check(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`differs: ${file}`);
    expect(result.stderr).toContain('+   APP_ENV_POSTGRES_PORT: "5432"');
    expect(result.stderr).toMatch(/stale:\s+backend\/staging\/by-hand\.yaml/);
  });

  it("fails on a hand-edited overlay kustomization", () => {
    const root = copyGeneratedTree();
    const env = subfolders(join(root, "overlays"))[0];
    const file = `overlays/${env}/kustomization.yaml`;
    appendFileSync(join(root, file), "namePrefix: edited-\n");

    const result = check(root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`differs: ${file}`);
    expect(result.stderr).toContain("- namePrefix: edited-");
  });

  it("writes nothing, even when it fails", () => {
    const root = copyGeneratedTree();
    const { folder, file } = baseObjectFile(root);
    editValue(join(root, file));
    rmSync(join(root, `base/${folder}/kustomization.yaml`));
    writeFileSync(join(root, "base", folder, "hand-made.yaml"), "stray\n");
    const before = readTree(root);

    expect(check(root).status).toBe(1);
    expect(readTree(root)).toEqual(before);
  });
});

describe("npm run generate", () => {
  it("removes a stray file, then has nothing left to write", () => {
    const root = copyGeneratedTree();
    const { folder } = baseObjectFile(root);
    const stray = join(root, "base", folder, "hand-made.yaml");
    writeFileSync(stray, "stray\n");

    const first = generate(root);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/\b0 written, \d+ unchanged, 1 removed\b/);
    expect(existsSync(stray)).toBe(false);

    const second = generate(root);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/\b0 written, \d+ unchanged, 0 removed\b/);
    expect(check(root).status).toBe(0);
  });

  it("removes an environment that is no longer configured, folders included", () => {
    const root = copyGeneratedTree();
    const gone = join(root, "overlays", "retired", "nx-broker");
    mkdirSync(gone, { recursive: true });
    writeFileSync(join(gone, "kustomization.yaml"), "resources: []\n");

    const result = generate(root);
    expect(result.stdout).toMatch(/\b1 removed\b/);
    expect(existsSync(join(root, "overlays", "retired"))).toBe(false);
    expect(existsSync(join(root, "overlays", "staging"))).toBe(true);
  });

  it("writes the whole tree into an empty directory, which then passes check", () => {
    const root = tempDir("empty");
    const expected = buildOutput(environments).map((f) => f.path);

    const result = generate(root);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`\\b${expected.length} written, 0 unchanged, 0 removed\\b`));
    expect([...readTree(root).keys()]).toEqual(expected);
    expect(check(root).status).toBe(0);
  });
});
