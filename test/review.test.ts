// `npm run review` end to end in a scratch git repository (a copy of this one, but for what a
// review never reads): the real CLI, real git worktrees, the real kustomize. A change is made the
// way an engineer makes it (TypeScript plus `npm run generate`, or YAML by hand), left in the
// working tree or committed, then reviewed.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";
import { review as reviewCommand } from "../review/main.ts";

afterAll(removeTempDirs);

let repo = "";
let base = ""; // the repository as it is
let withOperators = ""; // plus operator custom resources in the staging overlay, as production will have
let brokenBase = ""; // an overlay kustomize cannot build
let grown = ""; // staging's Redis volumes grown from 5Gi to 8Gi, in code and YAML (branch grow-redis)
const scratchTmp = tempDir("review-tmp"); // TMPDIR of the CLI runs: what they leave behind shows here

function git(...args: string[]): string {
  const r = spawnSync("git", args, { cwd: repo, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

function commit(message: string): string {
  git("add", "-A");
  git("-c", "user.name=review test", "-c", "user.email=review@test.invalid", "commit", "-q", "-m", message);
  return git("rev-parse", "HEAD");
}

/** The working tree exactly at `commit` (node_modules, ignored, stays). */
function checkout(at: string): void {
  git("checkout", "-q", "--force", "--detach", at);
  git("clean", "-q", "-f", "-d");
}

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: repo, encoding: "utf8", env: { ...process.env, TMPDIR: scratchTmp } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const review = (...args: string[]) => node([join(repo, "review/cli.ts"), ...args]);
/**
 * The same command in this process, where the process is not the point: one CLI run per exit
 * status stays (a safe change 0, the workflow step 1, a base that does not build 2).
 */
const reviewHere = (...args: string[]) => reviewCommand([...args, "--root", repo]);

function generate(): void {
  const r = node([join(repo, "generator/cli.ts"), "generate"]);
  if (r.status !== 0) throw new Error(r.stderr);
}

function replaceIn(path: string, from: string, to: string): void {
  const file = join(repo, path);
  const text = readFileSync(file, "utf8");
  if (!text.includes(from)) throw new Error(`${path} has no ${from}`);
  writeFileSync(file, text.replace(from, to));
}

/** Edits a generated YAML file by hand (the header comment goes; kustomize does not need it). */
function editYaml(path: string, edit: (o: any) => void): void {
  const file = join(repo, path);
  const object = parse(readFileSync(file, "utf8"));
  edit(object);
  writeFileSync(file, stringify(object, { lineWidth: 0 }));
}

/** The one file of base/<folder> whose name starts with `prefix` (Jobs carry a template hash). */
function generated(folder: string, prefix: string, suffix: string): string {
  const [file, ...more] = readdirSync(join(repo, "base", folder)).filter((f) => f.startsWith(prefix) && f.endsWith(suffix));
  if (!file || more.length > 0) throw new Error(`base/${folder}/${prefix}*${suffix}: ${[file, ...more].join(", ")}`);
  return `base/${folder}/${file}`;
}

/** Everything a review could disturb: every file's bytes, git's view of them, worktrees, and what it leaves in TMPDIR. */
function snapshot(): Record<string, string> {
  // git's own folder (its status is compared below) and the linked dependencies are not walked.
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (dir === repo && (e.name === ".git" || e.name === "node_modules")) return [];
      return e.isDirectory() ? walk(path) : e.isFile() ? [path] : [];
    });
  const files = walk(repo).sort();
  const hash = createHash("sha256");
  for (const f of files) hash.update(f).update(readFileSync(f));
  return {
    files: `${files.length} files, ${hash.digest("hex")}`,
    status: git("status", "--porcelain", "--untracked-files=all"),
    head: git("rev-parse", "HEAD"),
    worktrees: git("worktree", "list", "--porcelain"),
    adminWorktrees: existsSync(join(repo, ".git", "worktrees")) ? readdirSync(join(repo, ".git", "worktrees")).join(",") : "",
    leftInTmp: readdirSync(scratchTmp).filter((f) => f.startsWith("nx-data-layer-review")).join(","),
  };
}

const operatorObjects = `
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: nx-postgresql
  namespace: nx-persistent
  annotations:
    argocd.argoproj.io/sync-options: Prune=false,Delete=false
spec:
  instances: 3
  storage: { size: 20Gi, storageClass: csi-sc-vnpaycloud }
---
apiVersion: postgresql.cnpg.io/v1
kind: Pooler
metadata:
  name: nx-postgresql-rw
  namespace: nx-persistent
spec:
  cluster: { name: nx-postgresql }
  type: rw
  pgbouncer: { poolMode: transaction }
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaNodePool
metadata:
  name: brokers
  namespace: nx-broker
  annotations:
    argocd.argoproj.io/sync-options: Prune=false,Delete=false
spec:
  replicas: 3
  roles: [controller, broker]
  storage: { type: persistent-claim, size: 100Gi, class: csi-sc-vnpaycloud }
`;

beforeAll(() => {
  repo = tempDir("review-repo");
  const tracked = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
  for (const file of tracked.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue; // deleted in the working tree
    // The tests and the vendored schemas: nine files in ten, which every commit, checkout and
    // snapshot here would read again.
    if (file.startsWith("test/") || file.startsWith("schemas/")) continue;
    mkdirSync(dirname(join(repo, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(repo, file));
  }
  // The scratch repository runs on this one's dependencies, as a fresh clone would after `npm ci`.
  symlinkSync(join(repoRoot, "node_modules"), join(repo, "node_modules"));
  git("init", "-q");
  base = commit("the layer as it is");

  writeFileSync(join(repo, "overlays/staging/operators.yaml"), operatorObjects);
  replaceIn("overlays/staging/kustomization.yaml", "- nx-search\n", "- nx-search\n- operators.yaml\n");
  withOperators = commit("operator custom resources, as production will render them");

  checkout(base);
  replaceIn("overlays/staging/kustomization.yaml", "- nx-search\n", "- nx-search\n- no-such-folder\n");
  brokenBase = commit("an overlay that does not build");

  // Grown Redis volumes, made once (a generate is a process of its own) for the two reviews of it.
  checkout(base);
  git("checkout", "-q", "-B", "grow-redis");
  replaceIn("generator/config/staging.ts", 'name: "staging",\n', 'name: "staging",\n  redis: { storage: "8Gi" },\n');
  generate();
  grown = commit("grow the Redis volumes");
  checkout(base);
});

describe("npm run review on a safe change", () => {
  it("shows the changed fields, passes, and leaves the working tree as it was", () => {
    checkout(base);
    replaceIn("generator/config/staging.ts", 'name: "staging",\n', 'name: "staging",\n  redis: { resources: { limits: { cpu: "1", memory: "640Mi" } } },\n');
    generate();
    const before = snapshot();

    // Staging's change only: production's builds would show nothing (the reviews of unsafe changes
    // and of the workflow step build every environment).
    const result = review("--base", base, "--env", "staging");
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("staging: 1 changed (");
    expect(result.stdout).not.toContain("production");
    expect(result.stdout).toContain(
      '  changed StatefulSet nx-broker/nx-redis\n      spec.template.spec.containers[name=redis].resources.limits.memory: "512Mi" -> "640Mi"\n',
    );
    expect(result.stdout).not.toMatch(/REFUSED|warning/);
    expect(result.stdout).toMatch(/review: passed: 1 object changed, added or removed \(\d+\.\d+s\)/);
    expect(result.status).toBe(0);
    expect(snapshot()).toEqual(before);
    expect(before.leftInTmp).toBe("");
    expect(before.adminWorktrees).toBe("");
  });
});

describe("npm run review on unsafe changes", () => {
  let before: Record<string, string>;
  let text: Awaited<ReturnType<typeof reviewHere>>;

  beforeAll(async () => {
    checkout(withOperators);
    editYaml("base/nx-broker/redis/nx-redis-statefulset.yaml", (o) => (o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = "8Gi"));
    editYaml("base/nx-broker/kafka/nx-kafka-statefulset.yaml", (o) => {
      o.spec.podManagementPolicy = "OrderedReady";
      o.spec.volumeClaimTemplates[0].spec.resources.requests.storage = "5Gi";
    });
    editYaml("base/nx-persistent/postgres/nx-postgresql-replica-statefulset.yaml", (o) => {
      o.spec.selector.matchLabels["app.kubernetes.io/instance"] = "nx-postgresql-replica";
      o.spec.serviceName = "nx-postgresql-replicas";
    });
    editYaml("base/nx-persistent/postgres/nx-postgresql-primary-statefulset.yaml", (o) => delete o.metadata.annotations["argocd.argoproj.io/sync-options"]);
    editYaml("base/nx-persistent/pgbouncer/nx-pgbouncer-deployment.yaml", (o) => (o.spec.selector.matchLabels["app.kubernetes.io/component"] = "pool"));
    editYaml(generated("nx-broker/redis", "nx-redis-cluster-init-", "-job.yaml"), (o) => (o.spec.template.spec.containers[0].image = "redis:8-alpine"));
    editYaml("base/nx-broker/redis/nx-redis-headless-service.yaml", (o) => delete o.spec.clusterIP);
    replaceIn("base/nx-search/typesense/kustomization.yaml", "- nx-typesense-statefulset.yaml\n", "");
    rmSync(join(repo, "base/nx-search/typesense/nx-typesense-statefulset.yaml"));
    replaceIn("overlays/staging/operators.yaml", "cluster: { name: nx-postgresql }", "cluster: { name: nx-postgresql-2 }");
    replaceIn("overlays/staging/operators.yaml", "storageClass: csi-sc-vnpaycloud", "storageClass: csi-sc-fast");
    replaceIn("overlays/staging/operators.yaml", "type: persistent-claim, size: 100Gi", "type: ephemeral, size: 100Gi");
    before = snapshot();
    // In process: its worktree goes to this process' temp folder, not scratchTmp; what a review
    // leaves there is checked by the CLI runs.
    text = await reviewHere("--base", withOperators);
  });

  // The Typesense files of base/ are both environments' (the environment-neutral base): an unsafe
  // edit there is refused for each. PostgreSQL's and PgBouncer's StatefulSets and Deployment,
  // Kafka's StatefulSet and Redis' masters are staging's only: production builds them its own way
  // (CloudNativePG, Strimzi, Redis shards).
  const shared = [
    "StatefulSet nx-search/nx-typesense [data-removed]",
  ];

  it("refuses each, naming the environment, object, field and rule", () => {
    expect(text.status).toBe(1);
    const refused = text.stdout
      .split("\n")
      .filter((l) => l.startsWith("REFUSED "))
      .map((l) => l.replace(/(cluster-init)-[0-9a-f]{8} /, "$1-<hash> "));
    expect(refused.sort()).toEqual(
      [
        ...["staging", "production"].flatMap((env) => shared.map((refusal) => `REFUSED ${env} ${refusal}`)),
        "REFUSED staging StatefulSet nx-broker/nx-kafka spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage [volume-shrink]",
        "REFUSED staging StatefulSet nx-broker/nx-kafka spec.podManagementPolicy [immutable-field]",
        "REFUSED staging StatefulSet nx-persistent/nx-postgresql-replica spec.selector [immutable-field]",
        "REFUSED staging StatefulSet nx-persistent/nx-postgresql-replica spec.serviceName [immutable-field]",
        'REFUSED staging StatefulSet nx-persistent/nx-postgresql-primary metadata.annotations["argocd.argoproj.io/sync-options"] [data-mark-removed]',
        "REFUSED staging Deployment nx-persistent/nx-pgbouncer spec.selector [immutable-field]",
        "REFUSED staging StatefulSet nx-broker/nx-redis spec.volumeClaimTemplates [immutable-field]",
        "REFUSED staging Job nx-broker/nx-redis-cluster-init-<hash> spec.template [immutable-field]",
        "REFUSED staging Service nx-broker/nx-redis-headless spec.clusterIP [immutable-field]",
        "REFUSED staging Pooler.postgresql.cnpg.io nx-persistent/nx-postgresql-rw spec.cluster [immutable-field]",
        "REFUSED staging Cluster.postgresql.cnpg.io nx-persistent/nx-postgresql spec.storage.storageClass [immutable-field]",
        "REFUSED staging KafkaNodePool.kafka.strimzi.io nx-broker/brokers spec.storage [immutable-field]",
      ].sort(),
    );
  });

  it("says what to do instead, with the PVC patches for a volume that grows", () => {
    expect(text.stdout).toContain(`kubectl -n nx-broker patch pvc data-nx-redis-2 -p '{"spec":{"resources":{"requests":{"storage":"8Gi"}}}}'`);
    expect(text.stdout).toContain("kubectl -n nx-broker delete statefulset nx-redis --cascade=orphan");
    expect(text.stdout).toContain("Keep 10Gi.");
    expect(text.stdout).toMatch(/review: refused: 14 unsafe changes; fix each, or acknowledge it in review\/acknowledged\.yaml/);
  });

  it("warns that the hand-edited YAML is not what the code generates", () => {
    expect(text.stdout).toMatch(/warning: \d+ generated file\(s\) in the working tree differ from what its code generates/);
  });

  it("leaves the working tree, the index and git's worktrees as they were", () => {
    expect(snapshot()).toEqual(before);
    expect(before.status).not.toBe(""); // the change is still there, uncommitted
  });
});

describe("acknowledged changes", () => {
  it("pass, each printed with its reason; an acknowledgement that matches nothing is reported", async () => {
    checkout(grown);
    writeFileSync(
      join(repo, "review/acknowledged.yaml"),
      stringify([
        {
          environment: "staging",
          kind: "StatefulSet",
          namespace: "nx-broker",
          name: "nx-redis",
          rule: "immutable-field",
          field: "spec.volumeClaimTemplates",
          reason: "AOF rewrites need room; PVCs patched first",
          reviewedBy: "platform-team",
        },
        { environment: "staging", kind: "StatefulSet", namespace: "nx-broker", name: "nx-kafka", rule: "immutable-field", field: "spec.selector", reason: "old", reviewedBy: "someone" },
      ]),
    );
    commit("acknowledge the grown Redis volumes");

    const result = await reviewHere("--base", base, "--env", "staging");
    expect(result.stdout).toContain(
      "ACKNOWLEDGED staging StatefulSet nx-broker/nx-redis spec.volumeClaimTemplates [immutable-field]\n" +
        "  AOF rewrites need room; PVCs patched first (reviewed by platform-team; review/acknowledged.yaml entry 1)\n",
    );
    expect(result.stdout).toContain(
      "warning: review/acknowledged.yaml entry 2 (staging StatefulSet nx-broker/nx-kafka immutable-field spec.selector) matches no unsafe change: remove it",
    );
    expect(result.stdout).not.toContain("REFUSED");
    expect(result.stdout).toMatch(/review: passed: 1 object changed, added or removed, 1 unsafe change\(s\) acknowledged/);
    expect(result.status).toBe(0);
  });
});

describe("when the review cannot run", () => {
  it("removes the temporary worktree even when the base does not build (exit 2)", () => {
    checkout(base);
    const before = snapshot();
    const result = review("--base", brokenBase, "--env", "staging");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^review: .*kustomize.* overlays\/staging failed in .*nx-data-layer-review-/);
    expect(result.stderr).toContain("no-such-folder");
    expect(snapshot()).toEqual(before);
  });

  it("names a base that is no commit, and an environment that does not exist", async () => {
    expect(await reviewHere("--base", "no-such-branch")).toMatchObject({ status: 2, stderr: expect.stringContaining("--base no-such-branch names no commit") });
    expect(await reviewHere("--base", base, "--env", "prod")).toMatchObject({ status: 2, stderr: expect.stringContaining("--env prod: no such environment (there are: production, staging)") });
  });
});

describe("the GitHub workflow step", () => {
  const workflow = parse(readFileSync(join(repoRoot, ".github/workflows/ci.yml"), "utf8"));
  const steps: any[] = workflow.jobs.test.steps;
  const step = steps.find((s) => typeof s.run === "string" && s.run.includes("npm run --silent review"));

  it("runs on pull requests, with the history the base worktree needs", () => {
    expect(steps[0]).toMatchObject({ uses: expect.stringMatching(/^actions\/checkout@/), with: { "fetch-depth": 0 } });
    expect(step.if).toBe("${{ !cancelled() && github.event_name == 'pull_request' }}");
  });

  it("run as GitHub runs it on a pull request's merge commit: the Markdown goes to the job summary, an unsafe change fails the step", () => {
    checkout(base);
    git("-c", "user.name=github", "-c", "user.email=github@test.invalid", "merge", "-q", "--no-ff", "-m", "Merge grow-redis into base", "grow-redis");
    const runnerTemp = tempDir("runner");
    const summary = join(runnerTemp, "summary.md");
    const r = spawnSync("bash", ["-e", "-c", step.run], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, TMPDIR: scratchTmp, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.status).toBe(1);
    const markdown = readFileSync(summary, "utf8");
    expect(markdown).toMatch(/^## Data layer review: `HEAD\^1` \(`[0-9a-f]{12}`\) → this change\n/);
    expect(markdown).toContain("#### staging: `StatefulSet nx-broker/nx-redis` `spec.volumeClaimTemplates` (immutable-field)");
    expect(markdown).toContain("   ```sh\n   kubectl -n nx-broker patch pvc data-nx-redis-0 ");
    expect(markdown).toContain(
      "<details><summary>changed <code>StatefulSet nx-broker/nx-redis</code> (1 field)</summary>\n\n```text\n" +
        'spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage: "5Gi" -> "8Gi"\n```',
    );
    expect(r.stdout).toBe(markdown); // the log shows it too
  });
});
