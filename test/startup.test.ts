// What `generate` and `check` load decides most of how long they take (docs/speed.md): the
// command line an npm script runs reads one bundled file of the generator (scripts/bundle.mjs)
// and loads neither Node's TypeScript stripper nor the bundler once the bundle is made; a bundle
// is used only where every file that went into it is as it was, so what runs is always the
// sources. The generator's own listing of the files it owns, which replaced a glob library, finds
// what it found.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownedFiles } from "../generator/emit/files.ts";
import { loadedModules, loadRecorder } from "./support/loaded.ts";
import { copyProject, removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

function scriptArgs(script: "generate" | "check"): string[] {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const [program, ...args] = scripts[script]!.split(" ");
  expect(program).toBe("node");
  return args;
}

/** What `npm run <script>` of `project` loads, with its output. */
function run(script: "generate" | "check", project: string, root: string): { loaded: string[]; output: string } {
  const result = spawnSync(process.execPath, ["--import", loadRecorder, ...scriptArgs(script), "--root", root], { cwd: project, encoding: "utf8" });
  const { loaded, stderr } = loadedModules(result.stderr);
  return { loaded, output: result.stdout + stderr };
}

const bundler = (loaded: string[]) => loaded.filter((m) => m.includes("/node_modules/esbuild/"));
const sources = (loaded: string[], project: string) => loaded.filter((m) => m.startsWith(`file://${project}/generator/`) && !m.endsWith("/cli.ts"));

describe("generate and check run from one cached bundle", () => {
  let tree: string;
  beforeAll(() => {
    tree = tempDir("startup");
    for (const path of ownedFiles(repoRoot)) {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), readFileSync(join(repoRoot, path)));
    }
    // The first run after a source changed bundles it (and fills the compile cache).
    spawnSync(process.execPath, [...scriptArgs("check"), "--root", tree], { cwd: repoRoot });
  });

  it.each(["generate", "check"] as const)("npm run %s runs from the bundle: it loads no module of the generator or node_modules, nor a TypeScript stripper or the bundler", (script) => {
    const { loaded, output } = run(script, repoRoot, tree);
    expect(output).toContain(`${script}: `);
    expect(sources(loaded, repoRoot)).toEqual([]);
    expect(loaded.filter((m) => m.includes("/node_modules/"))).toEqual([]);
    expect(loaded.filter((m) => /internal\/deps\/amaro/.test(m))).toEqual([]); // the stripper itself (swc in WebAssembly)
  });

  it("a source file changed after the bundle was made is what runs; a file only touched, or changed back, bundles nothing", () => {
    const project = copyProject();
    // Another checkout with the same files (the repository's, bundled in beforeAll) made its bundle.
    expect(bundler(run("check", project, tree).loaded)).toEqual([]);

    const defaults = join(project, "generator/config/defaults.ts");
    const original = readFileSync(defaults, "utf8");
    utimesSync(defaults, new Date(), new Date(Date.now() + 60_000));
    expect(bundler(run("check", project, tree).loaded)).toEqual([]);

    // A value no earlier run has bundled.
    const hours = String(Date.now());
    const edited = original.replace(/\["log\.retention\.hours", "\d+"\]/, `["log.retention.hours", "${hours}"]`);
    expect(edited).not.toBe(original);
    writeFileSync(defaults, edited);
    const changed = run("check", project, tree);
    expect(bundler(changed.loaded)).not.toEqual([]);
    expect(changed.output).toMatch(new RegExp(`^ *\\+ .*log\\.retention\\.hours.*${hours}`, "m"));

    writeFileSync(defaults, original); // as on switching back to a branch
    const back = run("check", project, tree);
    expect(bundler(back.loaded)).toEqual([]);
    expect(back.output).toMatch(/check: \d+ generated files up to date/);
  });

  it("with NX_NO_BUNDLE=1 the sources run as they are; what they import (the bundle's content) holds no glob library, zx, ajv compiler, ts-morph or yaml", () => {
    const result = spawnSync(process.execPath, ["--import", loadRecorder, ...scriptArgs("check"), "--root", tree], {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, NX_NO_BUNDLE: "1" },
    });
    expect(result.stdout).toContain("check: ");
    const { loaded } = loadedModules(result.stderr);
    expect(loaded).toContain(`file://${repoRoot}/generator/pipeline.ts`);
    expect(loaded.filter((m) => /\/node_modules\/((fast-glob|micromatch|zx|ts-morph|yaml)\/|ajv\/dist\/(core|ajv)\.js)/.test(m))).toEqual([]);
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
