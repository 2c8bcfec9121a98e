// The layer's own rules: each catches its violation with the right id, exceptions are data that
// is reported (and must stay in use), and the real overlays pass every rule.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { familyOf, type Manifest, runPolicies, type Source } from "../policies/engine.ts";
import { loadExceptions } from "../policies/exceptions.ts";
import { rules } from "../policies/rules/index.ts";
import { environmentOverlays, loadSources } from "../policies/sources.ts";
import { removeTempDirs, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const repo = join(import.meta.dirname, "..");
const labels = {
  "app.kubernetes.io/name": "demo",
  "app.kubernetes.io/instance": "demo",
  "app.kubernetes.io/version": "1.0",
  "app.kubernetes.io/component": "server",
  "app.kubernetes.io/part-of": "nx-data-layer",
  "app.kubernetes.io/managed-by": "nx-data-layer-generator",
};
const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
const goodContainer = {
  name: "server",
  image: "redis:7-alpine",
  securityContext: restricted,
  resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "128Mi" } },
  ports: [{ name: "redis", containerPort: 6379 }],
  readinessProbe: { tcpSocket: { port: 6379 } },
  livenessProbe: { tcpSocket: { port: 6379 } },
};
const podSecurity = { runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } };

function deployment(container: Record<string, unknown> = {}, pod: Record<string, unknown> = {}): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "demo", namespace: "nx-broker", labels },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "demo" } },
      template: { metadata: { labels }, spec: { securityContext: podSecurity, containers: [{ ...goodContainer, ...container }], ...pod } },
    },
  };
}

const ruleIds = (manifests: Manifest[], only?: string) =>
  runPolicies(
    rules.filter((r) => (only ? familyOf(r.id) === only : familyOf(r.id) !== "network")),
    manifests.map((manifest) => ({ manifest, file: "test.yaml" })),
    [],
  ).findings.map((f) => `${f.rule} @ ${f.path}`);

describe("each rule catches its violation, with the right id and field", () => {
  it.each([
    ["a privileged container", deployment({ securityContext: { ...restricted, privileged: true } }),
      "pod-security/privileged @ spec.template.spec.containers[0].securityContext.privileged"],
    ["a pod that may run as root", deployment({}, { securityContext: { ...podSecurity, runAsNonRoot: undefined } }),
      "pod-security/run-as-non-root @ spec.template.spec.securityContext.runAsNonRoot"],
    ["a container that may escalate privileges", deployment({ securityContext: { capabilities: { drop: ["ALL"] } } }),
      "pod-security/allow-privilege-escalation @ spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"],
    ["an image tagged latest", deployment({ image: "x:latest" }), "workload/image-pinned @ spec.template.spec.containers[0].image"],
    ["an untagged image", deployment({ image: "registry.local:5000/team/x" }), "workload/image-pinned @ spec.template.spec.containers[0].image"],
    ["a container without limits", deployment({ resources: { requests: { cpu: "1", memory: "1Gi" } } }),
      "workload/resources @ spec.template.spec.containers[0].resources"],
    ["a server without a liveness probe", deployment({ livenessProbe: undefined }), "workload/probes @ spec.template.spec.containers[0].livenessProbe"],
    ["a Secret with data", { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "nx-broker", labels }, data: { password: "c2VjcmV0" } },
      "secrets/no-data-in-git @ data"],
    ["a Job with no bounds", { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j", namespace: "nx-broker", labels },
      spec: { template: { metadata: { labels }, spec: { restartPolicy: "Never", securityContext: podSecurity, containers: [goodContainer] } } } },
      "jobs/backoff-limit @ spec.backoffLimit"],
    ["a claim template on another storage class", { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "nx-broker", labels },
      spec: { serviceName: "db", selector: {}, template: { metadata: { labels }, spec: { securityContext: podSecurity, containers: [goodContainer] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { storageClassName: "standard" } }] } },
      "storage/storage-class @ spec.volumeClaimTemplates[0].spec.storageClassName"],
    ["an object without the recommended labels", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "nx-broker" } },
      "labels/recommended @ metadata.labels"],
  ] as const)("%s", (_what, manifest, expected) => {
    expect(ruleIds([manifest as Manifest])).toContain(expected);
  });

  it("finds nothing wrong in a well-formed Deployment", () => {
    expect(ruleIds([deployment()])).toEqual([]);
  });

  it("bounds Jobs by deadline too, and checks a CronJob's Job", () => {
    const cron: Manifest = {
      apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c", namespace: "nx-broker", labels },
      spec: { schedule: "0 * * * *", jobTemplate: { spec: { backoffLimit: 1, template: { metadata: { labels }, spec: { restartPolicy: "Never", securityContext: podSecurity, containers: [goodContainer] } } } } },
    };
    expect(ruleIds([cron])).toEqual(["jobs/active-deadline @ spec.jobTemplate.spec.activeDeadlineSeconds"]);
  });

  it("requires a default-deny for both directions in every namespace", () => {
    const ns: Manifest = { apiVersion: "v1", kind: "Namespace", metadata: { name: "nx-broker", labels } };
    const ingressOnly: Manifest = {
      apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "deny-in", namespace: "nx-broker", labels },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    };
    const report = runPolicies(rules.filter((r) => r.id === "network/default-deny"), [ns, ingressOnly].map((manifest) => ({ manifest, file: "t.yaml" })), []);
    expect(report.findings.map((f) => [f.object, f.message])).toEqual([["Namespace nx-broker", "namespace nx-broker has no default-deny for Egress"]]);
  });
});

describe("a kind the policies do not know", () => {
  // An operator's resource (here Strimzi's KafkaConnect, which the layer does not render) runs pods the pod rules cannot see.
  const cluster: Manifest = { apiVersion: "kafka.strimzi.io/v1", kind: "KafkaConnect", metadata: { name: "connect", namespace: "nx-search", labels }, spec: {} };

  it("is an error, never a silent pass", () => {
    expect(ruleIds([cluster], "kinds")).toEqual(["kinds/known @ kind"]);
  });

  it("while a kind known to run no pods passes", () => {
    expect(ruleIds([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "nx-persistent", labels }, data: {} }], "kinds")).toEqual([]);
    expect(ruleIds([{ apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "a", namespace: "argocd", labels } }], "kinds")).toEqual([]);
  });

  it("is told apart by group: another group's Deployment or Application is unknown, its pods unchecked otherwise", () => {
    const foreign = (apiVersion: string, kind: string): Manifest => ({ ...deployment(), apiVersion, kind });
    expect(ruleIds([foreign("example.com/v1", "Deployment"), foreign("app.k8s.io/v1beta1", "Application")], "kinds")).toEqual([
      "kinds/known @ kind",
      "kinds/known @ kind",
    ]);
    // The pod rules do not read another group's kind as a Deployment.
    const privileged = deployment({ securityContext: { ...restricted, privileged: true } });
    expect(ruleIds([{ ...privileged, apiVersion: "example.com/v1" }], "pod-security")).toEqual([]);
    expect(ruleIds([privileged], "pod-security")).toEqual(["pod-security/privileged @ spec.template.spec.containers[0].securityContext.privileged"]);
  });
});

describe("a kind that runs pods", () => {
  it("is an error when its pod spec is not where the kind keeps it, rather than a pass of every pod rule", () => {
    const misplaced: Manifest = { ...deployment(), spec: { selector: {}, podTemplate: (deployment().spec as { template: unknown }).template } };
    expect(ruleIds([misplaced], "kinds")).toEqual(["kinds/pod-spec @ spec"]);
    expect(ruleIds([deployment()], "kinds")).toEqual([]);
  });

  it.each([
    ["Pod", "v1", (spec: unknown) => ({ spec })],
    ["CronJob", "batch/v1", (spec: unknown) => ({ spec: { jobTemplate: { spec: { template: { metadata: { labels }, spec } } } } })],
    ["StatefulSet", "apps/v1", (spec: unknown) => ({ spec: { template: { metadata: { labels }, spec } } })],
  ])("has its %s's pod spec found and checked", (kind, apiVersion, shape) => {
    const spec = { securityContext: podSecurity, containers: [{ ...goodContainer, securityContext: { ...restricted, privileged: true } }] };
    const manifest = { apiVersion, kind, metadata: { name: "p", namespace: "nx-broker", labels }, ...shape(spec) } as Manifest;
    expect(ruleIds([manifest], "kinds")).toEqual([]);
    expect(ruleIds([manifest], "pod-security")).toContainEqual(expect.stringMatching(/^pod-security\/privileged @ .*containers\[0\]\.securityContext\.privileged$/));
  });
});

describe("exceptions", () => {
  const latest = deployment({ image: "x:latest" });
  const run = (exceptions: { object: string; rule: string; reason: string }[], manifests: Manifest[] = [latest]) =>
    runPolicies(rules.filter((r) => r.id === "workload/image-pinned"), manifests.map((manifest) => ({ manifest, file: "t.yaml" })), exceptions);

  it("turn a finding into a reported exception, with its reason", () => {
    const report = run([{ object: "Deployment nx-broker/demo", rule: "workload/image-pinned", reason: "vendor ships latest only" }]);
    expect(report.findings).toEqual([]);
    expect(report.excepted.map((f) => [f.rule, f.object, f.reason])).toEqual([["workload/image-pinned", "Deployment nx-broker/demo", "vendor ships latest only"]]);
  });

  it("are reported when they no longer match anything", () => {
    const report = run([{ object: "Deployment nx-broker/demo", rule: "workload/image-pinned", reason: "old" }], [deployment()]);
    expect(report.unusedExceptions).toHaveLength(1);
  });

  it("of one environment cover its findings only, and are unused only where that environment was checked", () => {
    const exception = { object: "Deployment nx-broker/demo", rule: "workload/image-pinned", reason: "staging's mirror only", environment: "staging" };
    const judge = (environment: string, manifest: Manifest) =>
      runPolicies(rules.filter((r) => r.id === "workload/image-pinned"), [{ manifest, file: `overlays/${environment}/nx-broker/demo.yaml` }], [exception]);
    expect(judge("staging", latest).findings).toEqual([]);
    expect(judge("production", latest).findings.map((f) => f.rule)).toEqual(["workload/image-pinned"]);
    expect(judge("production", deployment()).unusedExceptions).toEqual([]);
    expect(judge("staging", deployment()).unusedExceptions).toEqual([exception]);
  });

  it("are read from policies/exceptions.yaml, each with a known rule and a reason", () => {
    const committed = loadExceptions(rules);
    expect(committed.length).toBeGreaterThan(0);
    for (const e of committed) expect(e.reason.length, e.object).toBeGreaterThan(20);
  });
});

describe("a finding names the file the build read", () => {
  it("an object base/ defines and another environment writes whole: each environment's build names its own file", () => {
    const root = tempDir("origins");
    const configMap = (data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nx-settings, namespace: nx-broker}\ndata: {a: "${data}"}\n`;
    const files: Record<string, string> = {
      "base/nx-broker/settings/nx-settings-configmap.yaml": configMap("base"),
      "base/nx-broker/settings/kustomization.yaml": "resources: [nx-settings-configmap.yaml]\n",
      "overlays/alpha/nx-broker/kustomization.yaml": "resources: [../../../base/nx-broker/settings]\n",
      "overlays/beta/nx-broker/settings/nx-settings-configmap.yaml": configMap("own"),
      "overlays/beta/nx-broker/kustomization.yaml": "resources: [settings/nx-settings-configmap.yaml]\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const fileOf = (via: string) => loadSources(root, [via]).map((s) => s.file);
    expect(fileOf("overlays/alpha/nx-broker")).toEqual(["base/nx-broker/settings/nx-settings-configmap.yaml"]);
    expect(fileOf("overlays/beta/nx-broker")).toEqual(["overlays/beta/nx-broker/settings/nx-settings-configmap.yaml"]);
  });
});

describe.each(environmentOverlays(repo))("the real %s", (overlay) => {
  const sources: Source[] = loadSources(repo, [overlay]);

  it("passes every rule of every family", () => {
    const report = runPolicies(rules, sources, loadExceptions(rules));
    expect(report.findings.map((f) => `${f.rule} ${f.object} ${f.path}: ${f.message}`)).toEqual([]);
    expect(report.unusedExceptions).toEqual([]);
  });

  it("is checked by rules of every family", () => {
    expect(new Set(rules.map((r) => familyOf(r.id)))).toEqual(
      new Set(["kinds", "pod-security", "api", "workload", "availability", "references", "jobs", "network", "secrets", "storage", "labels"]),
    );
    expect(sources.length).toBeGreaterThan(40);
  });
});
