// kustomize's output is kept by the content of everything the build reads (policies/kustomize-cache.ts):
// the same files anywhere give the kept output, any change to a file the build reads gives a new
// build, and a kustomization whose inputs cannot be told is never kept.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kustomize } from "../policies/kustomize.ts";
import { keptOutput, outputFile } from "../policies/kustomize-cache.ts";
import { copyGeneratedTree, removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const key = (dir: string, version = kustomize().description) => basename(outputFile(dir, version) ?? "not kept");
const overlay = "overlays/staging";

describe("kustomize's output, kept by what the build reads", () => {
  it("is the same for the same files in another tree, and is what kustomize itself prints", () => {
    const copy = copyGeneratedTree();
    expect(key(join(copy, overlay))).toBe(key(join(repoRoot, overlay)));
    const built = kustomize().build(join(copy, overlay));
    expect(keptOutput(outputFile(join(copy, overlay), kustomize().description))).toBe(built);
    const [command, ...args] = kustomize().command;
    expect(spawnSync(command!, [...args, join(copy, overlay)], { encoding: "utf8" }).stdout).toBe(built);
  });

  it("is built anew when a file the build reads changes, however far (a base resource), or kustomize's version", () => {
    const copy = copyGeneratedTree();
    const before = key(join(copy, overlay));
    expect(key(join(copy, overlay), "kubectl kustomize v5.99.0")).not.toBe(before);
    // A file no build reads changes nothing.
    writeFileSync(join(copy, overlay, "notes.txt"), "x\n");
    expect(key(join(copy, overlay))).toBe(before);

    const pgbouncer = join(copy, "base/nx-persistent/pgbouncer");
    const resource = join(pgbouncer, readdirSync(pgbouncer).find((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")!);
    writeFileSync(resource, `${readFileSync(resource, "utf8")}\n`);
    expect(key(join(copy, overlay))).not.toBe(before);
    expect(key(join(copy, "base/nx-persistent/pgbouncer"))).not.toBe(key(join(repoRoot, "base/nx-persistent/pgbouncer")));
    expect(key(join(copy, "base/nx-persistent/postgres"))).toBe(key(join(repoRoot, "base/nx-persistent/postgres")));
  });

  it.each([
    ["a field it does not know", "helmCharts:\n- name: x\n  repo: https://charts.example\n"],
    ["a remote resource", "resources:\n- https://github.com/example/repo//base?ref=v1\n"],
    ["an absolute path", "resources:\n- /etc/kustomize/base\n"],
    ["a reference that does not exist", "resources:\n- ../nowhere\n"],
  ])("is never kept for a kustomization with %s", (_, body) => {
    const dir = join(tempDir("kustomization"), "app");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${body}`);
    expect(outputFile(dir, kustomize().description)).toBeUndefined();
  });

  it("keeps a kustomization whose resources and patches are all local", () => {
    const dir = tempDir("kustomization");
    cpSync(join(repoRoot, "base"), join(dir, "base"), { recursive: true });
    expect(outputFile(join(dir, "base/nx-persistent/postgres"), kustomize().description)).toBeDefined();
  });
});
