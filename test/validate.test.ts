// `npm run validate`: every kustomization rendered with the real kustomize, every object checked
// strictly (unknown fields are errors) against the Kubernetes version the config pins and the CRDs
// in use; a failure names the environment, the file, the object and the JSON path.
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyGeneratedTree, removeTempDirs, runCli, tempDir } from "./support/repo.ts";
import { schemaLocations } from "./support/schemas.ts";
import { freePort } from "./support/servers.ts";

afterAll(removeTempDirs);

const locationArgs = schemaLocations().flatMap((l) => ["--schema-location", l]);
const validate = (args: string[], root?: string) =>
  runCli(["validate", ...(root ? ["--root", root] : []), ...locationArgs, ...args], { entry: "policies/cli.ts", env: { NX_SCHEMA_DIR: undefined } });

describe("npm run validate", () => {
  it("accepts every overlay, namespace overlay and Argo CD folder of the committed tree", () => {
    const run = validate([]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/validate: \d+ path\(s\) with (kubectl )?kustomize v5\.[\d.]+, Kubernetes 1\.36\.0, strict/);
    expect(run.stdout).toMatch(/validate: \d{3,} objects valid/);
  });

  it("rejects an unknown field, naming environment, file, object and JSON path, and the fix", () => {
    const root = copyGeneratedTree();
    const file = join(root, "base/nx-broker/redis/nx-redis-statefulset.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("  serviceName: nx-redis-headless\n", "  serviceName: nx-redis-headless\n  servicename: typo\n"));
    const run = validate([], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("StatefulSet nx-broker/nx-redis in base/nx-broker/redis/nx-redis-statefulset.yaml (built from overlays/staging");
    expect(run.stderr).toContain("environment staging");
    expect(run.stderr).toContain("spec.servicename: unknown field");
    expect(run.stderr).toContain("run `npm run generate`");
  });

  it("rejects what the API server refuses beyond the schemas: a request above its limit", () => {
    const root = copyGeneratedTree();
    const file = join(root, "base/nx-broker/redis/nx-redis-statefulset.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("            cpu: 100m\n", "            cpu: 1500m\n"));
    const run = validate(["overlays/staging/nx-broker"], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("StatefulSet nx-broker/nx-redis in base/nx-broker/redis/nx-redis-statefulset.yaml");
    expect(run.stderr).toContain(
      'spec.template.spec.containers[0].resources.requests.cpu: container redis requests 1500m cpu, more than its limit 1 (api/requests-within-limits; fix: lower the request or raise the limit',
    );
  });

  it("rejects a wrong type deep inside a pod template", () => {
    const root = copyGeneratedTree();
    const file = join(root, "base/nx-search/typesense/nx-typesense-statefulset.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("containerPort: 8108", "containerPort: http-api"));
    const run = validate(["overlays/staging/nx-search"], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("spec.template.spec.containers[0].ports[0].containerPort: must be integer");
  });

  it("rejects a kind no schema location covers, instead of passing it", () => {
    const root = copyGeneratedTree();
    appendFileSync(
      join(root, "base/nx-search/typesense/nx-typesense-service.yaml"),
      "---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: nx-search\n",
    );
    const run = validate(["overlays/staging/nx-search"], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Widget nx-search/w");
    expect(run.stderr).toContain("no schema for example.com/v1 Widget");
  });

  it("reads the project's own schemas when given no location, with no network and nothing beside the clone", () => {
    const run = runCli(["validate", "overlays/staging/nx-search", "argocd/staging/apps"], { entry: "policies/cli.ts", env: { NX_SCHEMA_DIR: undefined } });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("schemas from the project (schemas/)");
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

  it("takes schema locations as options, like kubeconform's -schema-location", () => {
    // Only the Kubernetes location: enough for nx-persistent, not for the Argo CD Applications.
    const kubernetesOnly = ["--schema-location", schemaLocations()[0]!];
    const run = (path: string) => runCli(["validate", ...kubernetesOnly, path], { entry: "policies/cli.ts", env: { NX_SCHEMA_DIR: undefined } });
    expect(run("overlays/staging/nx-persistent").status).toBe(0);
    const apps = run("argocd/staging/apps");
    expect(apps.status).toBe(1);
    expect(apps.stderr).toContain("no schema for argoproj.io/v1alpha1 Application");
  });

  it("also runs kubeconform -strict when it is on the PATH, naming what it rejects like the rest", () => {
    // kubeconform is not installable here (the GitHub workflow runs the real one): a stand-in that
    // records its flags and answers in kubeconform's JSON report format.
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
    const run = runCli(["validate", ...locationArgs, "overlays/staging/nx-broker"], {
      entry: "policies/cli.ts",
      env: { NX_SCHEMA_DIR: undefined, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "kubeconform: StatefulSet nx-broker/nx-redis in base/nx-broker/redis/nx-redis-statefulset.yaml (built from overlays/staging/nx-broker, environment staging): statusInvalid: problem validating schema",
    );
    const flags = readFileSync(join(bin, "calls"), "utf8");
    expect(flags).toContain("-strict -summary -output json -kubernetes-version 1.36.0 -schema-location ");
    expect(flags.trim().endsWith(" -")).toBe(true);
  });
});
