// The generator's CLI never hurts the tree it runs in: it writes only the project it belongs to
// (wherever it is started from) or a folder of generated files, all or nothing (removals included),
// one run at a time, and it fails with a sentence, not a stack trace. What the command does runs
// in process (generatorCommand, what cli.ts prints); the command line is run once per exit status
// and wherever the process is what is tested (its cwd, a lock held by another process, two runs at
// once, missing dependencies, an old Node).
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffTree, ownedFiles } from "../generator/emit/files.ts";
import { lockFileName } from "../generator/emit/lock.ts";
import { generatorCommand } from "../generator/main.ts";
import { generatedOutput } from "./support/config.ts";
import { copyGeneratedTree, copyProject, readTree, removeTempDirs, repoRoot, runCli, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const node = process.execPath;
const stackTrace = /\n\s+at /;
const run = (cli: string, args: string[], cwd: string) => spawnSync(node, [cli, ...args], { cwd, encoding: "utf8" });
/** A generate in process; a bug would throw, with its stack trace. */
const generate = (root: string, ...flags: string[]) => generatorCommand(["generate", "--root", root, ...flags]);

/** Changes a value in `count` generated files of `root`, so a generate has files to rewrite. */
function editGenerated(root: string, count: number): string[] {
  const files = ownedFiles(root).filter((f) => f.startsWith("base/") && !f.endsWith("kustomization.yaml")).slice(0, count);
  for (const f of files) writeFileSync(join(root, f), readFileSync(join(root, f), "utf8").replace("app.kubernetes.io/part-of: nx-data-layer", "app.kubernetes.io/part-of: edited"));
  return files;
}

/** The tree without the owned paths (base/, overlays/, argocd/, docs/network.md, docs/secrets.md). */
function notOwned(root: string): Map<string, Buffer> {
  const owned = new Set(ownedFiles(root));
  return new Map([...readTree(root)].filter(([path]) => !owned.has(path)));
}

/**
 * Makes `file` impossible to move or delete, as a permission problem would: the immutable
 * attribute for root (who ignores permissions), a read-only folder for anyone else. Returns the undo.
 */
function makeUnremovable(file: string): () => void {
  const dir = join(file, "..");
  const undo =
    process.getuid?.() === 0
      ? (spawnSync("chattr", ["+i", file]), () => spawnSync("chattr", ["-i", file]))
      : (chmodSync(dir, 0o555), () => chmodSync(dir, 0o755));
  // The failure must be real, or the test would prove nothing.
  let moved = false;
  try {
    renameSync(file, `${file}.probe`);
    renameSync(`${file}.probe`, file);
    moved = true;
  } catch {
    // as intended
  }
  if (moved) {
    undo();
    throw new Error(`could not make ${file} unremovable here (chattr or permissions have no effect)`);
  }
  return undo;
}

describe("generate writes the project it belongs to, never the current folder", () => {
  // One copy for both tests (each copy builds its own bundle of the CLI): the first leaves it a
  // generated project, and the second must change nothing in it.
  let project = "";
  beforeAll(() => {
    project = copyProject();
  });

  it("run from generator/ and from an unrelated folder, it changes nothing outside the project's owned paths", () => {
    const cli = join(project, "generator/cli.ts");
    editGenerated(project, 2);
    writeFileSync(join(project, "base/nx-broker/hand-made.yaml"), "stale\n");
    // An unrelated folder with argocd/ and docs/ of its own: the old CLI wrote and deleted there.
    const elsewhere = tempDir("elsewhere");
    mkdirSync(join(elsewhere, "argocd"));
    mkdirSync(join(elsewhere, "docs"));
    writeFileSync(join(elsewhere, "argocd/app.yaml"), "kind: Application\n");
    writeFileSync(join(elsewhere, "docs/secrets.md"), "# mine\n");
    const before = { project: notOwned(project), elsewhere: readTree(elsewhere) };

    const fromGenerator = run(cli, ["generate"], join(project, "generator"));
    expect(fromGenerator.stderr).toBe("");
    expect(fromGenerator.status).toBe(0);
    expect(fromGenerator.stdout).toMatch(/generate: 2 written, \d+ unchanged, 1 removed/);
    expect(fromGenerator.stdout).toContain("removed: base/nx-broker/hand-made.yaml");
    const fromElsewhere = run(cli, ["generate"], elsewhere);
    expect(fromElsewhere.status).toBe(0);
    expect(fromElsewhere.stdout).toMatch(/generate: 0 written, \d+ unchanged, 0 removed/);

    expect(notOwned(project)).toEqual(before.project);
    expect(readTree(elsewhere)).toEqual(before.elsewhere);
    expect(existsSync(join(project, "generator/base"))).toBe(false);
    expect(run(cli, ["check"], elsewhere).status).toBe(0);
  });

  it("refuses a --root that is neither the project nor a folder of generated files", () => {
    const before = readTree(join(project, "generator"));
    const result = run(join(project, "generator/cli.ts"), ["generate", "--root", "."], join(project, "generator"));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("generate: refused:");
    expect(result.stderr).toContain("is neither the nx-data-layer project nor a folder of generated files only");
    expect(readTree(join(project, "generator"))).toEqual(before);
  });

  it("names every file it removes, and with --verbose every file it writes", () => {
    const root = copyGeneratedTree();
    const edited = editGenerated(root, 3);
    writeFileSync(join(root, "base/nx-search/old.yaml"), "stale\n");
    const result = generate(root, "--verbose");
    expect(result.status).toBe(0);
    for (const f of edited) expect(result.stdout).toContain(`written: ${f}\n`);
    expect(result.stdout).toContain("removed: base/nx-search/old.yaml (not produced by the generator)\n");
  });
});

describe("generate is all or nothing, removals included", () => {
  it.each([
    ["a stale file cannot be removed", "remove", (root: string) => {
      mkdirSync(join(root, "base/nx-broker/leftovers"));
      const stale = join(root, "base/nx-broker/leftovers/hand-made.yaml");
      writeFileSync(stale, "stale\n");
      return { file: "base/nx-broker/leftovers/hand-made.yaml", undo: makeUnremovable(stale) };
    }],
    ["a file cannot be replaced", "replace", (root: string) => {
      const target = "base/nx-search/typesense/nx-typesense-statefulset.yaml";
      writeFileSync(join(root, target), "edited\n");
      // Without root, its folder turns read-only: then staging its new content is what fails.
      return { file: target, undo: makeUnremovable(join(root, target)) };
    }],
  ])("leaves the tree exactly as it was when %s", (_what, doing, prepare) => {
    const root = copyGeneratedTree();
    editGenerated(root, 5);
    const { file, undo } = prepare(root);
    const before = readTree(root);
    try {
      const result = generate(root);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`generate: (permission denied: )?could not (${doing}|write) ${file.replaceAll(".", "\\.")} \\(E[A-Z]+\\); nothing was changed`));
      expect(result.stderr).not.toMatch(stackTrace);
      expect(readTree(root)).toEqual(before);
    } finally {
      undo();
    }
  });
});

describe("one generate at a time", () => {
  // Spawned: the lock's holder (this test's process) is another live process, as in real use.
  it("refuses while another live run holds the lock, naming it", () => {
    const root = copyGeneratedTree();
    editGenerated(root, 1);
    const holder = { pid: process.pid, host: hostname(), command: "generate", started: "2026-01-01T00:00:00.000Z" };
    writeFileSync(join(root, lockFileName), JSON.stringify(holder));
    const before = readTree(root);
    const result = runCli(["generate", "--root", root]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`generate: another run is writing this tree: pid ${process.pid} on ${hostname()} (generate, started 2026-01-01T00:00:00.000Z) holds ${join(root, lockFileName)}`);
    expect(readTree(root)).toEqual(before);
  });

  it("takes over the lock of a run that died", () => {
    const root = copyGeneratedTree();
    const dead = spawnSync(node, ["-e", ""]).pid;
    writeFileSync(join(root, lockFileName), JSON.stringify({ pid: dead, host: hostname(), command: "generate", started: "2026-01-01T00:00:00.000Z" }));
    const result = generate(root);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`took over the lock ${join(root, lockFileName)} left by pid ${dead}`);
    expect(existsSync(join(root, lockFileName))).toBe(false);
  });

  it("two generates started together end with one clear refusal or both succeeding, never a crash", async () => {
    const cli = join(repoRoot, "generator/cli.ts");
    const spawned = (root: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(node, [cli, "generate", "--root", root]);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => done({ status, stdout, stderr }));
      });
    for (let round = 0; round < 3; round++) {
      const root = copyGeneratedTree();
      editGenerated(root, 10);
      writeFileSync(join(root, "base/nx-broker/hand-made.yaml"), "stale\n");
      const results = await Promise.all([spawned(root), spawned(root)]);
      for (const r of results) {
        expect(r.stderr).not.toMatch(stackTrace);
        if (r.status !== 0) {
          expect(r.status).toBe(1);
          expect(r.stderr).toMatch(/^generate: another run is writing this tree: pid \d+ /);
        }
      }
      expect(results.some((r) => r.status === 0)).toBe(true);
      // What `check` compares, in-process: the tree is exactly what the generator writes.
      const { changed, removed } = diffTree(root, generatedOutput());
      expect({ changed: changed.map((f) => f.path), removed }).toEqual({ changed: [], removed: [] });
      expect(existsSync(join(root, lockFileName))).toBe(false);
    }
  });
});

describe("check", () => {
  it("says when the only difference is line endings", () => {
    const root = copyGeneratedTree();
    const file = "base/nx-search/typesense/nx-typesense-service.yaml";
    writeFileSync(join(root, file), readFileSync(join(root, file), "utf8").replaceAll("\n", "\r\n"));
    const result = generatorCommand(["check", "--root", root]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`differs: ${file}: line endings only (the committed file has CRLF, the generator writes LF`);
    expect(result.stderr).not.toContain("diff legend");
  });
});

describe("friendly failures", () => {
  it("says to run npm ci when the dependencies are not installed", () => {
    const project = copyProject();
    rmSync(join(project, "node_modules"));
    for (const [cli, args] of [["generator/cli.ts", ["generate"]], ["policies/cli.ts", ["policy"]]] as const) {
      if (cli === "policies/cli.ts") {
        mkdirSync(join(project, "policies"));
        writeFileSync(join(project, cli), readFileSync(join(repoRoot, cli)));
      }
      const result = run(join(project, cli), [...args], project);
      expect(result.status, cli).toBe(1);
      expect(result.stderr, cli).toContain("error: the project's dependencies are not installed");
      expect(result.stderr, cli).toContain(`Run \`npm ci\` in ${project}`);
      expect(result.stderr, cli).not.toMatch(stackTrace);
    }
  });

  // Node before 22.18 cannot read a .ts file at all: the npm scripts load the plain-JS preflight first.
  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((candidate) => {
    const version = spawnSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout?.trim();
    if (!version) return false;
    const [major = 0, minor = 0] = version.split(".").map(Number);
    return major < 22 || (major === 22 && minor < 18);
  });
  it.skipIf(!oldNode)(`names an old Node (${oldNode ?? "none on this machine: skipped"}) and how to get the right one`, () => {
    const result = spawnSync(oldNode!, ["--import", "./scripts/preflight.mjs", "generator/cli.ts", "generate"], { cwd: repoRoot, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error: this is Node v\d+\.\d+\.\d+ \(.*\); the project needs Node 22\.18 or newer/);
    expect(result.stderr).toContain("npm scripts run on the project's own Node 24");
    expect(result.stderr).not.toMatch(stackTrace);
  });
});
