// What the gates need is in the project: the strict schemas of exactly the kinds the layer renders
// (schemas/) and the Pod Security Admission fixtures (test/fixtures/pod-security-admission/), each
// with a manifest of its upstream and checksums, reproducible by `npm run vendor-*` from upstream
// files laid out as upstream lays them out.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fg from "fast-glob";
import { afterAll, describe, expect, it } from "vitest";
import { common } from "../generator/config/common.ts";
import { projectSchemaDir } from "../policies/schemas.ts";
import { crdSchemaFiles, type FixtureManifest, kindName, layerKinds, pssFixtureDir, type SchemaManifest, sha256, treeDigest } from "../scripts/vendored.ts";
import { readTree, removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const schemaManifest = JSON.parse(readFileSync(join(projectSchemaDir, "sources.json"), "utf8")) as SchemaManifest;
const fixtureManifest = JSON.parse(readFileSync(join(pssFixtureDir, "source.json"), "utf8")) as FixtureManifest;
const vendor = (args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, "scripts/vendor.ts"), ...args], { cwd: tempDir("cwd"), encoding: "utf8" });

describe("the vendored schemas", () => {
  it("cover every kind the generator renders or builds, and nothing else", () => {
    const kinds = layerKinds(join(repoRoot, "generator")).map(kindName);
    expect(kinds).toEqual(expect.arrayContaining(["apps/v1 StatefulSet", "argoproj.io/v1alpha1 Application", "policy/v1 PodDisruptionBudget"]));
    const missing = kinds.filter((k) => !schemaManifest.schemas.some((s) => s.kind === k));
    expect(missing, "rendered kinds without a vendored schema: run `npm run vendor-schemas`").toEqual([]);
    expect(schemaManifest.schemas.map((s) => s.kind)).toEqual(kinds);
  });

  it("are the files the manifest lists, byte for byte, and no other", () => {
    const files = fg.sync("**", { cwd: projectSchemaDir }).sort();
    expect(files).toEqual([...schemaManifest.schemas.map((s) => s.file), "sources.json"].sort());
    for (const s of schemaManifest.schemas) expect(sha256(readFileSync(join(projectSchemaDir, s.file))), s.file).toBe(s.sha256);
  });

  it("record the upstream of every source they come from, for the Kubernetes version the layer targets", () => {
    expect(schemaManifest.upstream.kubernetes?.kubernetesVersion).toBe(`${common.kubernetesVersion}.0`);
    for (const s of schemaManifest.schemas) {
      const source = s.file.startsWith("kubernetes/") ? "kubernetes" : s.kind.split("/")[0]!;
      expect(Object.keys(schemaManifest.upstream[source] ?? {}).length, `${s.kind}: upstream of ${source}`).toBeGreaterThan(1);
    }
  });

  it("are rewritten by the script from a folder laid out like upstream's, taking only the kinds in use", () => {
    const upstream = tempDir("upstream-schemas");
    cpSync(projectSchemaDir, upstream, { recursive: true });
    // A kind the layer does not render must not be copied.
    mkdirSync(join(upstream, "kubernetes/v1.36.0-standalone-strict"), { recursive: true });
    writeFileSync(join(upstream, "kubernetes/v1.36.0-standalone-strict/daemonset-apps-v1.json"), "{}");
    const out = tempDir("vendored-schemas");
    const run = vendor(["schemas", "--from", upstream, "--out", out]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(readTree(out)).toEqual(readTree(projectSchemaDir));
  });

  it("refuse a source that lacks a kind in use, naming it", () => {
    const upstream = tempDir("upstream-partial");
    cpSync(projectSchemaDir, upstream, { recursive: true, filter: (f) => !f.endsWith("application_v1alpha1.json") });
    const run = vendor(["schemas", "--from", upstream, "--out", tempDir("vendored-partial")]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no schema for argoproj.io/v1alpha1 Application in");
  });
});

/** A CustomResourceDefinition manifest as upstream ships one (YAML), with the given schema per version. */
const crd = (kind: string, versions: { name: string; served: boolean; schema: object }[]) =>
  JSON.stringify({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${kind.toLowerCase()}s.argoproj.io` },
    spec: { group: "argoproj.io", names: { kind }, versions: versions.map((v) => ({ name: v.name, served: v.served, storage: v.served, schema: { openAPIV3Schema: v.schema } })) },
  });

describe("strict schemas converted from upstream CRD manifests", () => {
  const schema = {
    type: "object",
    properties: {
      spec: {
        type: "object",
        properties: {
          source: { type: "object", properties: { repoURL: { type: "string" } } },
          values: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { known: { type: "string" } } },
          labels: { type: "object", additionalProperties: { type: "object", properties: { v: { type: "string" } } } },
          target: { oneOf: [{ properties: { name: { type: "string" } } }, { properties: { server: { type: "string" } } }] },
        },
      },
    },
  };

  it("close every object that lists its properties, except preserved ones and oneOf/anyOf/allOf/not branches; served versions only", () => {
    const files = crdSchemaFiles(crd("Widget", [{ name: "v1", served: true, schema }, { name: "v0", served: false, schema }]), "widget-crd.yaml");
    expect([...files.keys()]).toEqual(["crds-strict/argoproj.io/widget_v1.json"]);
    const strict = JSON.parse(files.get("crds-strict/argoproj.io/widget_v1.json")!);
    expect(strict.additionalProperties).toBe(false);
    expect(strict.properties.spec.additionalProperties).toBe(false);
    expect(strict.properties.spec.properties.source.additionalProperties).toBe(false);
    expect(strict.properties.spec.properties.values.additionalProperties).toBeUndefined();
    expect(strict.properties.spec.properties.labels.additionalProperties).toEqual({ type: "object", properties: { v: { type: "string" } }, additionalProperties: false });
    expect(strict.properties.spec.properties.target.oneOf).toEqual(schema.properties.spec.properties.target.oneOf);
  });

  it("are what the script vendors, taking precedence over the source folder", () => {
    const upstream = tempDir("upstream-no-crds");
    cpSync(projectSchemaDir, upstream, { recursive: true, filter: (f) => !f.includes("crds-strict/argoproj.io") });
    const manifests = tempDir("crd-manifests");
    for (const kind of ["Application", "AppProject"]) writeFileSync(join(manifests, `${kind}.yaml`), crd(kind, [{ name: "v1alpha1", served: true, schema }]));
    const out = tempDir("vendored-from-crds");
    const run = vendor(["schemas", "--from", upstream, "--out", out, "--crd", join(manifests, "Application.yaml"), "--crd", join(manifests, "AppProject.yaml")]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const converted = readFileSync(join(out, "crds-strict/argoproj.io/application_v1alpha1.json"), "utf8");
    expect(converted).toBe(crdSchemaFiles(crd("Application", [{ name: "v1alpha1", served: true, schema }]), "x").get("crds-strict/argoproj.io/application_v1alpha1.json"));
    const manifest = JSON.parse(readFileSync(join(out, "sources.json"), "utf8")) as SchemaManifest;
    expect(manifest.schemas.find((s) => s.kind === "argoproj.io/v1alpha1 Application")?.sha256).toBe(sha256(converted));
  });
});

describe("the vendored Pod Security Admission fixtures", () => {
  const files = fg.sync("**/*.yaml", { cwd: join(pssFixtureDir, "testdata") }).sort();
  /** A folder laid out like upstream's test/testdata holding the vendored `versions`, linked rather than copied (1100 files). */
  const upstreamWith = (label: string, versions: readonly string[]) => {
    const upstream = tempDir(label);
    for (const level of ["baseline", "restricted"]) {
      mkdirSync(join(upstream, level));
      for (const version of versions) symlinkSync(join(pssFixtureDir, "testdata", level, version), join(upstream, level, version));
    }
    return upstream;
  };

  it("are pinned to an upstream commit and match the manifest's count and checksum", () => {
    expect(fixtureManifest.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(fixtureManifest.repository).toBe("https://github.com/kubernetes/pod-security-admission");
    expect(files.length).toBe(fixtureManifest.files);
    expect([...new Set(files.map((f) => f.split("/")[1]))].sort()).toEqual([...fixtureManifest.versions].sort());
    expect(treeDigest(join(pssFixtureDir, "testdata"), files)).toBe(fixtureManifest.sha256);
  });

  it("are rewritten by the script from upstream's test/testdata, keeping only the versions the rules know", () => {
    const upstream = upstreamWith("upstream-pss", fixtureManifest.versions);
    // Upstream keeps every version since v1.0; the rules know v1.30 to v1.37.
    for (const version of ["v1.29", "v1.38"]) {
      mkdirSync(join(upstream, `baseline/${version}/pass`), { recursive: true });
      writeFileSync(join(upstream, `baseline/${version}/pass/base.yaml`), "kind: Pod\n");
    }
    const out = tempDir("vendored-pss");
    const run = vendor(["pss-fixtures", "--from", upstream, "--out", out]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(readTree(out)).toEqual(readTree(pssFixtureDir));
  });

  it("take the known versions the input holds, as ../shared/pss-fixtures holds v1.37 alone, and say which are missing", () => {
    const upstream = upstreamWith("upstream-pss-newest", ["v1.37"]);
    const out = tempDir("vendored-pss-newest");
    const run = vendor(["pss-fixtures", "--from", upstream, "--out", out]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("148 Pod Security fixtures of v1.37 ");
    expect(run.stdout).toContain("lacks v1.30, v1.31, v1.32, v1.33, v1.34, v1.35, v1.36, which the rules know");
    const written = JSON.parse(readFileSync(join(out, "source.json"), "utf8")) as FixtureManifest;
    const files = fg.sync("**/*.yaml", { cwd: join(out, "testdata") });
    expect(written).toMatchObject({ commit: fixtureManifest.commit, versions: ["v1.37"], files: 148 });
    expect(files.every((f) => f.split("/")[1] === "v1.37")).toBe(true);
    expect(written.sha256).toBe(treeDigest(join(out, "testdata"), files));
  });
});
