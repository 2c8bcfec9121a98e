// What `generate` and `check` load decides most of how long they take (docs/speed.md): the
// command line an npm script runs loads neither Node's TypeScript stripper (the compile cache holds
// the stripped files) nor a glob library or the tools only other commands need; the generator's
// own listing of the files it owns, which replaced the glob library, finds what it found.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ownedFiles } from "../generator/emit/files.ts";
import { loadedModules, loadRecorder } from "./support/loaded.ts";
import { removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

function loadedBy(script: "generate" | "check", root: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const [program, ...args] = scripts[script]!.split(" ");
  expect(program).toBe("node");
  // The first run after a .ts file changed strips it again (and fills the cache): recorded is the next.
  spawnSync(process.execPath, [...args, "--root", root], { cwd: repoRoot, encoding: "utf8" });
  const run = spawnSync(process.execPath, ["--import", loadRecorder, ...args, "--root", root], { cwd: repoRoot, encoding: "utf8" });
  expect(run.stdout + run.stderr).toContain(`${script}: `);
  return loadedModules(run.stderr).loaded;
}

describe("generate and check load only what they use", () => {
  it.each(["generate", "check"] as const)("npm run %s loads no TypeScript stripper, glob library, zx, ajv compiler or ts-morph", (script) => {
    const root = tempDir("startup");
    for (const path of ownedFiles(repoRoot)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), readFileSync(join(repoRoot, path)));
    }
    const loaded = loadedBy(script, root);
    expect(loaded).toContain(`file://${repoRoot}/generator/pipeline.ts`);
    expect(loaded.filter((m) => /internal\/deps\/amaro/.test(m))).toEqual([]); // the stripper itself (swc in WebAssembly)
    expect(loaded.filter((m) => /\/node_modules\/(fast-glob|micromatch|zx|ts-morph|ajv\/dist\/(core|ajv)\.js)/.test(m))).toEqual([]);
  });
});

describe("the files the generator owns", () => {
  it("are every file under its folders, dot files and nested ones too, and its docs, nothing else", () => {
    const root = tempDir("owned");
    const files = ["base/.hidden", "base/ns/a.yaml", "overlays/prod/ns/deep/b.yaml", "argocd/c.yaml", "backend/d.json", "docs/network.md", "docs/waves.md", "docs/handwritten.md", "README.md", "policies/e.ts"];
    for (const f of files) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), "x\n");
    }
    mkdirSync(join(root, "overlays/empty"), { recursive: true });
    expect(ownedFiles(root)).toEqual(["argocd/c.yaml", "backend/d.json", "base/.hidden", "base/ns/a.yaml", "docs/network.md", "docs/waves.md", "overlays/prod/ns/deep/b.yaml"]);
  });
});
