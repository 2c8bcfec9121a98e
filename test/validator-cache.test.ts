// `validate` keeps each schema's compiled validator, named by the digest of what it was compiled
// from (policies/schemas.ts): a run whose validators are all cached loads no Ajv compiler and
// reports exactly what a compiling run reports; a schema whose content changed is compiled anew,
// whatever its size and mtime; a cache that cannot be written costs time, not validation.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectSchemaDir } from "../policies/schemas.ts";
import { loadedModules, loadRecorder } from "./support/loaded.ts";
import { removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: nx-search
data:
  replicas: "3"
`;
const brokenConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
  namespace: nx-search
immutable: "yes"
datta: {}
`;

/** A tree holding `manifests.yaml` with these documents, for `validate --root`. */
function treeWith(...documents: string[]): string {
  const root = tempDir("tree");
  writeFileSync(join(root, "manifests.yaml"), documents.join("---\n"));
  return root;
}

/** `validate manifests.yaml` as the npm script runs it, recording what it loads. */
function validate(root: string, env: Record<string, string>) {
  const run = spawnSync(process.execPath, ["--import", loadRecorder, "--import", "./scripts/preflight.mjs", "policies/cli.ts", "validate", "--root", root, "manifests.yaml"], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { status: run.status, stdout: run.stdout, ...loadedModules(run.stderr) };
}

/** Ajv's compiler and the module that loads it, among the modules a run loaded. */
const compilerIn = (loaded: string[]) => loaded.filter((m) => /\/policies\/schema-compiler\.ts$|\/node_modules\/ajv\/dist\/(core|ajv)\.js$/.test(m));

describe("the compiled validators validate keeps", () => {
  it("serve later runs, bundled or from the sources, which load no Ajv compiler and print the same errors byte for byte", () => {
    const cache = tempDir("validators");
    const root = treeWith(configMap, brokenConfigMap);
    const compiling = validate(root, { NX_VALIDATOR_CACHE: cache });
    expect(compilerIn(compiling.loaded)).not.toEqual([]);
    expect(compiling.stderr).toContain("  datta: unknown field\n  immutable: must be boolean,null\n");
    for (const cached of [validate(root, { NX_VALIDATOR_CACHE: cache }), validate(root, { NX_VALIDATOR_CACHE: cache, NX_NO_BUNDLE: "1" })]) {
      expect(compilerIn(cached.loaded)).toEqual([]);
      expect(cached.loaded.filter((m) => m.startsWith(`file://${cache}/`))).toHaveLength(1);
      expect(cached.status).toBe(1);
      expect(cached.stderr).toBe(compiling.stderr);
      expect(cached.stdout).toBe(compiling.stdout);
    }
  });

  it("are never used for a schema whose content changed, even at the same size and mtime: its new rule applies", () => {
    const schemas = tempDir("schemas");
    cpSync(join(projectSchemaDir, "kubernetes"), join(schemas, "kubernetes"), { recursive: true });
    const cache = tempDir("validators");
    const env = { NX_SCHEMA_DIR: schemas, NX_VALIDATOR_CACHE: cache };
    const root = treeWith(configMap);
    expect(validate(root, env).status).toBe(0);
    const before = readdirSync(cache);

    // ConfigMap data values become numbers: as many bytes as before, and the old mtime.
    const file = join(schemas, "kubernetes/v1.36.0-standalone-strict/configmap-v1.json");
    const { atime, mtime } = statSync(file);
    const text = readFileSync(file, "utf8");
    const changed = text.replace(/("data": \{\s*"additionalProperties": \{\s*"type": \[\s*)"string"/, '$1"number"');
    expect(changed).not.toBe(text);
    writeFileSync(file, changed);
    utimesSync(file, atime, mtime);

    const run = validate(root, env);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("  data.replicas: must be number,null\n");
    expect(compilerIn(run.loaded)).not.toEqual([]);
    // The old validator is still there, passed over.
    expect(readdirSync(cache)).toEqual(expect.arrayContaining(before));
    expect(readdirSync(cache)).toHaveLength(before.length + 1);
  });

  it("are compiled in memory when the cache cannot be written, and validate the same", () => {
    const notAFolder = join(tempDir("read-only"), "file");
    writeFileSync(notAFolder, "");
    const run = validate(treeWith(configMap, brokenConfigMap), { NX_VALIDATOR_CACHE: join(notAFolder, "validators") });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("  datta: unknown field\n  immutable: must be boolean,null\n");
  });
});
