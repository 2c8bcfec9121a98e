// `npm run policy`: deliberately broken manifests make it exit non-zero, naming the object, the
// rule and the fix; `--only FAMILY` judges by one family alone; the committed overlays pass. The
// command runs in process (policiesCommand, what cli.ts prints), and through its command line once
// per exit status.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { policiesCommand } from "../policies/main.ts";
import { pssFixtureDir } from "../scripts/vendored.ts";
import { copyGeneratedTree, removeTempDirs, repoRoot, runCli, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const policy = (args: string[], root?: string) => policiesCommand(["policy", ...(root ? ["--root", root] : []), ...args]);
/** The same through `node policies/cli.ts`. */
const policyCli = (args: string[]) => runCli(["policy", ...args], { entry: "policies/cli.ts" });

function edit(root: string, file: string, from: string, to: string): void {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  expect(text, `${file} contains ${from}`).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

/** Drops one generated file and its kustomization entry, as if the generator had lost it. */
function dropFromBase(root: string, folder: string, file: string): void {
  rmSync(join(root, "base", folder, file));
  edit(root, `base/${folder}/kustomization.yaml`, `- ${file}\n`, "");
}

const fixtures = join(pssFixtureDir, "testdata");

/** Edits of one generated file each: what, file, from, to, the finding's object and its field. */
const brokenFiles: [string, string, string, string, string, string][] = [
  ["a literal password in a ConfigMap", "base/nx-persistent/pgbouncer/nx-pgbouncer-config-configmap.yaml", "    pool_mode = transaction\n", "    pool_mode = transaction\n    auth_password = hunter2\n",
    "secrets/literal-in-text  ConfigMap nx-persistent/nx-pgbouncer-config", 'data["pgbouncer.ini"]: auth_password is given a literal value (line '],
  ["a probe on a port the container does not declare", "base/nx-search/typesense/nx-typesense-statefulset.yaml", "            port: http\n", "            port: api\n",
    "references/probe-port-declared  StatefulSet nx-search/nx-typesense", "spec.template.spec.containers[0].livenessProbe.httpGet.port: container typesense probes port api, which it does not declare (ports: http)"],
  ["a Service port listed twice", "base/nx-search/typesense/nx-typesense-service.yaml", "  - name: http\n", "  - name: http2\n    port: 8108\n    targetPort: http\n  - name: http\n",
    "api/service-ports-unique  Service nx-search/nx-typesense", "spec.ports[1]: port 8108/TCP is listed again (first at spec.ports[0])"],
];

/** Ingress peers no NetworkPolicy of the layer may admit, and what the rule says of each. */
const foreignPeers: [string, string, string][] = [
  ["a namespace selected by another label (any namespace could carry it)", "    - namespaceSelector:\n        matchLabels:\n          team: monitoring\n", "does not pin kubernetes.io/metadata.name"],
  ["a namespace that is not a client", "    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: monitoring\n", "admits monitoring, which is neither the layer, a client nor an operator"],
  ["an ipBlock", "    - ipBlock:\n        cidr: 0.0.0.0/0\n", "ipBlock 0.0.0.0/0 admits addresses from anywhere"],
];

describe("npm run policy", () => {
  it("passes on every committed overlay, reporting each excepted finding with the reason its exception gives", async () => {
    const run = await policy([]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const exceptions = parse(readFileSync(join(repoRoot, "policies/exceptions.yaml"), "utf8")) as { object: string; rule: string; reason: string }[];
    const excepted = run.stdout.split("\n").filter((line) => line.startsWith("excepted "));
    expect(excepted.length).toBeGreaterThan(0);
    for (const line of excepted) {
      const found = exceptions.find((e) => line.startsWith(`excepted ${e.rule}  ${e.object}: `));
      expect(found, line).toBeDefined();
      expect(line.endsWith(`: ${found!.reason.trim()}`), line).toBe(true);
    }
    expect(run.stdout).toContain(`policy: 0 error(s), 0 warning(s), ${excepted.length} excepted;`);
  });

  describe("on a tree broken every way at once (one run; each case reads its own finding)", () => {
    const staging = "(built from overlays/staging, environment staging)";
    let run: Awaited<ReturnType<typeof policy>>;
    beforeAll(async () => {
      const root = copyGeneratedTree();
      edit(root, "base/nx-search/debezium/nx-debezium-deployment.yaml", "          allowPrivilegeEscalation: false\n", "          allowPrivilegeEscalation: false\n          privileged: true\n");
      edit(root, "base/nx-search/typesense/nx-typesense-statefulset.yaml", "image: typesense/typesense:27.1", "image: typesense/typesense:latest");
      for (const [, file, from, to] of brokenFiles) edit(root, file, from, to);
      dropFromBase(root, "nx-persistent/network-policies", "allow-primary-from-debezium-networkpolicy.yaml");
      edit(root, "base/nx-broker/network-policies/allow-from-backend-networkpolicy.yaml", "    - port: 9092\n      protocol: TCP\n", "    - port: 9092\n      protocol: TCP\n    - port: 29092\n      protocol: TCP\n");
      edit(root, "base/nx-broker/network-policies/allow-from-backend-networkpolicy.yaml", "  - from:\n", `  - from:\n${foreignPeers.map(([, peer]) => peer).join("")}`);
      dropFromBase(root, "nx-search/network-policies", "default-deny-all-networkpolicy.yaml");
      run = await policy([], root);
    });

    it("exits 1", () => {
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/\npolicy: \d+ error\(s\)/);
    });

    it("fails on a privileged container, naming the object, the file, the rule and the fix", () => {
      expect(run.stderr).toContain(`error   pod-security/privileged  Deployment nx-search/nx-debezium  base/nx-search/debezium/nx-debezium-deployment.yaml ${staging}`);
      expect(run.stderr).toContain("spec.template.spec.containers[0].securityContext.privileged");
      expect(run.stderr).toMatch(/fix: .*privileged/);
    });

    it("fails on an image tagged latest", () => {
      expect(run.stderr).toContain("workload/image-pinned  StatefulSet nx-search/nx-typesense");
      expect(run.stderr).toContain("fix: pin the image to a release tag");
    });

    it.each(brokenFiles)("fails on %s, naming the object, the field and the fix", (_what, file, _from, _to, object, field) => {
      expect(run.stderr).toContain(`${object}  ${file} ${staging}`);
      expect(run.stderr).toContain(field);
      expect(run.stderr).not.toContain("hunter2");
    });

    it("fails when a NetworkPolicy change blocks Debezium from PostgreSQL", () => {
      expect(run.stderr).toContain("network/needed-flow");
      expect(run.stderr).toContain(
        "nx-debezium -> StatefulSet nx-persistent/nx-postgresql-primary:5432/TCP is blocked (Debezium reads the logical replication stream); egress allowed by nx-search/egress-nx-search; ingress: no policy allows it",
      );
      expect(run.stderr).toContain("fix: allow it in generator/components/network-policies.ts");
    });

    it("fails when a NetworkPolicy opens Kafka's PLAINTEXT listener to the backend", () => {
      expect(run.stderr).toContain("network/closed-flow");
      expect(run.stderr).toMatch(/a backend service \(nx-backend\) -> StatefulSet nx-broker\/nx-kafka:29092\/TCP is open .*ingress allowed by nx-broker\/allow-from-backend/);
    });

    it.each(foreignPeers)("fails when a NetworkPolicy admits %s", (_what, _peer, message) => {
      expect(run.stderr).toContain("network/ingress-sources  NetworkPolicy nx-broker/allow-from-backend");
      expect(run.stderr).toMatch(new RegExp(`spec\\.ingress\\[0\\]\\.from\\[\\d\\]: [^\\n]*${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    });

    it("fails when a namespace loses its default-deny", () => {
      expect(run.stderr).toContain("network/default-deny  Namespace nx-search");
    });
  });

  it("fails on a Secret with data, given as a file", () => {
    const dir = tempDir("secret");
    writeFileSync(
      join(dir, "secret.yaml"),
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nx-redis-secret\n  namespace: nx-broker\ndata:\n  REDIS_PASSWORD: c2VjcmV0\n",
    );
    const run = policyCli(["--only", "secrets", join(dir, "secret.yaml")]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("secrets/no-data-in-git  Secret nx-broker/nx-redis-secret");
    expect(run.stderr).toContain("docs/secrets.md");
  });

  it("judges a pod by the Pod Security Standard alone with --only pod-security", async () => {
    expect(existsSync(fixtures), `PSS fixtures at ${fixtures}`).toBe(true);
    const base = join(fixtures, "restricted/v1.37/pass/base.yaml");
    // Upstream's passing pod and a privileged one, judged together: only the privileged one fails.
    const judged = await policy(["--only", "pod-security", base, join(fixtures, "restricted/v1.37/fail/privileged0.yaml")]);
    expect(judged.status).toBe(1);
    expect(judged.stderr).toContain("pod-security/privileged  Pod privileged0");
    expect(judged.stderr).not.toContain("  Pod base  ");
    expect(judged.stderr).not.toMatch(/workload\/|labels\//);
    // The passing pod fails the layer's other rules (no labels, no resources, an untagged image).
    expect((await policy([base])).status).toBe(1);
  });

  it("judges namespace overlays and the Argo CD folders on what they contain", () => {
    const run = policyCli(["overlays/staging/nx-search", "overlays/staging/nx-broker", "argocd/staging/bootstrap", "argocd/staging/apps"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/policy: 0 error\(s\), 0 warning\(s\), \d+ excepted; \d+ objects/);
  });

  it("refuses an unknown family", () => {
    const run = policyCli(["--only", "pod-securty"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown family pod-securty");
  });
});
