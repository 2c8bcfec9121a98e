// `npm run validate`: every kustomization rendered with the real kustomize, every object checked
// strictly (unknown fields are errors) against the Kubernetes version the config pins and the CRDs
// in use; a failure names the environment, the file, the object and the JSON path.
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allKustomizations } from "../policies/sources.ts";
import { type CliResult, copyGeneratedTree, kustomizeBuild, removeTempDirs, repoRoot, runCli, tempDir } from "./support/repo.ts";
import { schemaLocations, strictValidator } from "./support/schemas.ts";
import { freePort } from "./support/servers.ts";

afterAll(removeTempDirs);

/** A stand-in kubeconform in a folder of its own, for the PATH: it records its flags and answers in kubeconform's JSON report format. */
function fakeKubeconform(): string {
  const bin = tempDir("kubeconform");
  writeFileSync(
    join(bin, "kubeconform"),
    `#!/bin/sh
echo "$*" >> "${bin}/calls"
cat > /dev/null
echo '{"resources":[{"filename":"stdin","kind":"StatefulSet","name":"nx-redis","version":"apps/v1","status":"statusInvalid","msg":"problem validating schema"}]}'
exit 1
`,
  );
  chmodSync(join(bin, "kubeconform"), 0o755);
  return bin;
}

describe("npm run validate", () => {
  // The exit 0 of the CLI; the whole committed tree's validity is the in-process check below.
  it("accepts the Argo CD folders, reading the project's own schemas when given no location (no network, nothing beside the clone)", () => {
    const run = runCli(["validate", "argocd/staging/apps", "argocd/staging/bootstrap"], { entry: "policies/cli.ts", env: { NX_SCHEMA_DIR: undefined } });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/validate: 2 path\(s\) with (kubectl )?kustomize v5\.[\d.]+, Kubernetes 1\.36\.0, strict, schemas from the project \(schemas\/\)/);
    expect(run.stdout).toMatch(/validate: \d+ objects valid/);
  });

  // What `npm run validate` checks on the whole committed tree (CI runs it too), in-process: the
  // builds and the compiled schemas are shared with the other tests of the run. A namespace folder
  // of an overlay (overlays/<env>/<namespace>) is left out: layout.test.ts proves it builds into
  // exactly the overlay's objects of that namespace, which are checked here with the overlay.
  const namespaceFolder = /^overlays\/[^/]+\/[^/]+$/;
  it.each(allKustomizations(repoRoot).filter((path) => !namespaceFolder.test(path)))("every object %s builds is valid against the strict schemas", async (path) => {
    const validator = strictValidator();
    const objects = kustomizeBuild(join(repoRoot, path));
    expect(objects.length).toBeGreaterThan(0);
    const invalid: string[] = [];
    for (const object of objects) {
      const result = await validator.validate(object);
      if (result.status !== "valid") invalid.push(`${object.kind} ${object.metadata?.namespace ?? ""}/${object.metadata?.name}: ${JSON.stringify(result)}`);
    }
    expect(invalid).toEqual([]);
  });

  describe("on a tree broken every way at once (one run; each case reads its own lines)", () => {
    let run: CliResult;
    let bin: string;
    beforeAll(() => {
      const root = copyGeneratedTree();
      const redis = join(root, "base/nx-broker/redis/nx-redis-statefulset.yaml");
      writeFileSync(
        redis,
        readFileSync(redis, "utf8")
          .replace("  serviceName: nx-redis-headless\n", "  serviceName: nx-redis-headless\n  servicename: typo\n")
          .replace("            cpu: 100m\n", "            cpu: 1500m\n"),
      );
      const typesense = join(root, "base/nx-search/typesense/nx-typesense-statefulset.yaml");
      writeFileSync(typesense, readFileSync(typesense, "utf8").replace("containerPort: 8108", "containerPort: http-api"));
      appendFileSync(
        join(root, "base/nx-search/typesense/nx-typesense-service.yaml"),
        "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: nx-search\n",
      );
      bin = fakeKubeconform();
      // Only the Kubernetes schema location: enough for staging's namespaces, not for the Argo CD Applications.
      run = runCli(["validate", "--root", root, "--schema-location", schemaLocations()[0]!, "overlays/staging/nx-broker", "overlays/staging/nx-search", "argocd/staging/apps"], {
        entry: "policies/cli.ts",
        env: { NX_SCHEMA_DIR: undefined, PATH: `${bin}:${process.env.PATH}` },
      });
    });

    it("exits 1 and says to fix the generator", () => {
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/validate: \d+ invalid object\(s\) of \d+\. Fix the generator/);
    });

    it("rejects an unknown field, naming environment, file, object and JSON path, and the fix", () => {
      expect(run.stderr).toContain("StatefulSet nx-broker/nx-redis in base/nx-broker/redis/nx-redis-statefulset.yaml (built from overlays/staging");
      expect(run.stderr).toContain("environment staging");
      expect(run.stderr).toContain("spec.servicename: unknown field");
      expect(run.stderr).toContain("run `npm run generate`");
    });

    it("rejects what the API server refuses beyond the schemas: a request above its limit", () => {
      expect(run.stderr).toContain(
        'spec.template.spec.containers[0].resources.requests.cpu: container redis requests 1500m cpu, more than its limit 1 (api/requests-within-limits; fix: lower the request or raise the limit',
      );
    });

    it("rejects a wrong type deep inside a pod template", () => {
      expect(run.stderr).toContain("spec.template.spec.containers[0].ports[0].containerPort: must be integer");
    });

    it("rejects a kind no schema location covers, instead of passing it", () => {
      expect(run.stderr).toContain("Widget nx-search/w");
      expect(run.stderr).toContain("no schema for example.com/v1 Widget");
    });

    it("takes schema locations as options, like kubeconform's -schema-location", () => {
      expect(run.stderr).toContain("no schema for argoproj.io/v1alpha1 Application");
    });

    it("also runs kubeconform -strict when it is on the PATH, naming what it rejects like the rest", () => {
      // kubeconform is not installable here (the GitHub workflow runs the real one): a stand-in.
      expect(run.stderr).toContain(
        "kubeconform: StatefulSet nx-broker/nx-redis in base/nx-broker/redis/nx-redis-statefulset.yaml (built from overlays/staging/nx-broker, environment staging): statusInvalid: problem validating schema",
      );
      const flags = readFileSync(join(bin, "calls"), "utf8");
      expect(flags).toContain("-strict -summary -output json -kubernetes-version 1.36.0 -schema-location ");
      expect(flags.trim().endsWith(" -")).toBe(true);
    });
  });

  it("names the URL it could not fetch, and how to do without the network", async () => {
    // A loopback port nothing listens on: the fetch fails at once, as it does offline.
    const port = await freePort();
    const location = `http://127.0.0.1:${port}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
    const run = runCli(["validate", "--schema-location", location, "overlays/staging/nx-search"], { entry: "policies/cli.ts" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`could not fetch http://127.0.0.1:${port}/`);
    expect(run.stderr).toContain("without --schema-location, validate reads the project's own schemas (schemas/) and needs no network");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
