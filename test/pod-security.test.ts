// The pod-security rules agree with upstream pod-security-admission: its fixtures for the newest
// policy version (testdata/{baseline,restricted}/v1.37/{pass,fail}) are judged as upstream judges
// them. The fixtures are upstream's files, pinned in the project (test/fixtures/pod-security-admission,
// written by `npm run vendor-pss-fixtures`); without them this test fails rather than passing on nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runPolicies, type Manifest, type Rule } from "../policies/engine.ts";
import { pssFixtureDir } from "../scripts/vendored.ts";
import { baselineRuleIds, podSecurityRules, pssCheckRule, restrictedRuleIds } from "../policies/rules/pod-security.ts";

const fixtureRoot = join(pssFixtureDir, "testdata");
const version = "v1.37";

interface Fixture {
  readonly name: string;
  readonly manifest: Manifest;
}

function fixtures(level: "baseline" | "restricted", verdict: "pass" | "fail"): Fixture[] {
  const dir = join(fixtureRoot, level, version, verdict);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => ({ name: file.slice(0, -".yaml".length), manifest: parse(readFileSync(join(dir, file), "utf8")) as Manifest }));
}

const sets = {
  "baseline pass": fixtures("baseline", "pass"),
  "baseline fail": fixtures("baseline", "fail"),
  "restricted pass": fixtures("restricted", "pass"),
  "restricted fail": fixtures("restricted", "fail"),
};

const rulesOf = (ids: ReadonlySet<string>): Rule[] => podSecurityRules.filter((rule) => ids.has(rule.id));
const baselineRules = rulesOf(baselineRuleIds);
const restrictedRules = rulesOf(restrictedRuleIds);

function findings(rules: readonly Rule[], manifest: Manifest) {
  return runPolicies(rules, [{ manifest, file: "fixture.yaml" }], []).findings;
}

/** The distinct rules that fire, sorted. */
function firing(rules: readonly Rule[], manifest: Manifest): string[] {
  return [...new Set(findings(rules, manifest).map((f) => f.rule))].sort();
}

/** Fixture names are `<lower-cased check ID><index>`. */
const ownRule = (name: string): string | undefined => pssCheckRule[name.replace(/\d+$/, "")];

// At the restricted level upstream does not run a baseline check that a restricted check overrides
// (OverrideCheckIDs in check_capabilities_restricted.go, check_restrictedVolumes.go,
// check_procMount_restricted.go, check_seccompProfile_restricted.go; applied in policy/registry.go).
// Upstream still renders these baseline fixtures at restricted, where the overriding check rejects them.
const overriddenAtRestricted: Record<string, string> = {
  "pod-security/capabilities-baseline": "pod-security/capabilities-restricted",
  "pod-security/host-path-volumes": "pod-security/restricted-volumes",
  "pod-security/proc-mount": "pod-security/proc-mount-restricted",
  "pod-security/seccomp-profile-baseline": "pod-security/seccomp-profile-restricted",
};

// Fail fixtures that break a second check, by upstream's own construction; upstream asserts only that
// the pod is rejected (with its check's message), so these are not disagreements.
const alsoBreaks: Record<string, readonly string[]> = {
  // fixtures_allowPrivilegeEscalation.go, "nil security context": removing the container's whole
  // securityContext also removes the capabilities.drop: [ALL] that restricted requires since v1.22.
  allowprivilegeescalation3: ["pod-security/capabilities-restricted"],
  // fixtures_privileged.go: API validation rejects privileged: true with allowPrivilegeEscalation: false,
  // so the fixture unsets allowPrivilegeEscalation (a restricted-only check).
  privileged0: ["pod-security/allow-privilege-escalation"],
  privileged1: ["pod-security/allow-privilege-escalation"],
  // fixtures_windowsHostProcess.go: API validation requires hostNetwork: true for a HostProcess pod.
  windowshostprocess0: ["pod-security/host-namespaces"],
  windowshostprocess1: ["pod-security/host-namespaces"],
};

/** The rules a fail fixture must be rejected by, and only by, at a level. */
function expectedRejecters(name: string, level: ReadonlySet<string>): string[] {
  const own = ownRule(name) ?? `(no rule for ${name})`;
  const rejecter = level.has(own) ? own : (overriddenAtRestricted[own] ?? own);
  return [rejecter, ...(alsoBreaks[name] ?? [])].filter((id) => level.has(id)).sort();
}

describe("pod-security rules", () => {
  it("are one error rule per upstream check, each with a description and a fix", () => {
    expect(podSecurityRules).toHaveLength(19);
    expect(new Set(podSecurityRules.map((r) => r.id)).size).toBe(19);
    expect(Object.values(pssCheckRule).sort()).toEqual(podSecurityRules.map((r) => r.id).sort());
    for (const rule of podSecurityRules) {
      expect(rule.id).toMatch(/^pod-security\/[a-z-]+$/);
      expect(rule.severity).toBe("error");
      expect(rule.description).toMatch(/\.$/);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });

  it("form upstream's levels: 12 baseline checks; restricted adds 7 and drops the 4 baseline checks they override", () => {
    expect(baselineRuleIds.size).toBe(12);
    expect(restrictedRuleIds.size).toBe(15);
    for (const [baseline, restricted] of Object.entries(overriddenAtRestricted)) {
      expect(baselineRuleIds.has(baseline)).toBe(true);
      expect(restrictedRuleIds.has(baseline)).toBe(false);
      expect(restrictedRuleIds.has(restricted)).toBe(true);
    }
  });
});

describe(`upstream pod-security-admission fixtures (${version})`, () => {
  it("are all there, as counted in their README", () => {
    expect(existsSync(fixtureRoot), `PSS fixtures not found at ${fixtureRoot}: run \`npm run vendor-pss-fixtures\``).toBe(true);
    expect(Object.fromEntries(Object.entries(sets).map(([set, list]) => [set, list.length]))).toEqual({
      "baseline pass": 15,
      "baseline fail": 34,
      "restricted pass": 23,
      "restricted fail": 76,
    });
    for (const { name, manifest } of Object.values(sets).flat()) {
      expect(manifest.kind).toBe("Pod");
      expect(manifest.metadata?.name).toBe(name);
    }
  });

  // No vacuous pass: `it.each` over an empty list would report nothing, so a missing set is a failure.
  function eachFixture(set: keyof typeof sets, title: string, test: (fixture: Fixture) => void) {
    if (sets[set].length > 0) it.each(sets[set])(title, test);
    else it(`${set}: fixtures present`, () => expect.fail(`no ${set} fixtures under ${join(fixtureRoot, "<level>", version)}`));
  }

  eachFixture("restricted fail", "restricted rejects $name by its own check", ({ name, manifest }) => {
    const own = ownRule(name);
    expect(own, `no rule for fixture ${name}`).toBeDefined();
    expect(firing(podSecurityRules, manifest)).toContain(own);
    expect(firing(restrictedRules, manifest)).toEqual(expectedRejecters(name, restrictedRuleIds));
  });

  eachFixture("restricted pass", "restricted admits $name", ({ manifest }) => {
    expect(findings(podSecurityRules, manifest)).toEqual([]);
  });

  eachFixture("baseline fail", "baseline rejects $name by its own check", ({ name, manifest }) => {
    expect(baselineRuleIds.has(ownRule(name) ?? "")).toBe(true);
    expect(firing(baselineRules, manifest)).toEqual(expectedRejecters(name, baselineRuleIds));
  });

  // Baseline pass pods are not restricted-compliant (no runAsNonRoot, no drop ALL): baseline rules only.
  eachFixture("baseline pass", "baseline admits $name", ({ manifest }) => {
    expect(findings(baselineRules, manifest)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// Beyond Pods: templates of every pod-bearing kind, ephemeral containers, and upstream's subtleties.

const securedContainer = (name: string, securityContext: object = {}) => ({
  name,
  image: "registry.k8s.io/pause",
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, ...securityContext },
});

/** A restricted-compliant pod spec, with the init container setting runAsNonRoot: false. */
const podSpec = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  initContainers: [securedContainer("init", { runAsNonRoot: false })],
  containers: [securedContainer("app")],
};

const metadata = { name: "example", namespace: "nx-test" };
const template = { metadata: { labels: { app: "example" } }, spec: podSpec };
const workloads: [string, Manifest, string][] = [
  ["Pod", { apiVersion: "v1", kind: "Pod", metadata, spec: podSpec }, "spec"],
  ["Deployment", { apiVersion: "apps/v1", kind: "Deployment", metadata, spec: { template } }, "spec.template.spec"],
  ["StatefulSet", { apiVersion: "apps/v1", kind: "StatefulSet", metadata, spec: { template } }, "spec.template.spec"],
  ["DaemonSet", { apiVersion: "apps/v1", kind: "DaemonSet", metadata, spec: { template } }, "spec.template.spec"],
  ["ReplicaSet", { apiVersion: "apps/v1", kind: "ReplicaSet", metadata, spec: { template } }, "spec.template.spec"],
  ["Job", { apiVersion: "batch/v1", kind: "Job", metadata, spec: { template } }, "spec.template.spec"],
  [
    "CronJob",
    { apiVersion: "batch/v1", kind: "CronJob", metadata, spec: { schedule: "@daily", jobTemplate: { spec: { template } } } },
    "spec.jobTemplate.spec.template.spec",
  ],
  ["PodTemplate", { apiVersion: "v1", kind: "PodTemplate", metadata, template }, "template.spec"],
];

const pod = (spec: object, podMetadata: object = { name: "example" }): Manifest => ({ apiVersion: "v1", kind: "Pod", metadata: podMetadata, spec });
const restrictedFindings = (manifest: Manifest) => findings(restrictedRules, manifest).map((f) => [f.rule, f.path]);

describe("pod-security rules on workloads", () => {
  it.each(workloads)("check a %s's pod template, with paths under it", (_kind, manifest, at) => {
    const [finding, ...rest] = findings(restrictedRules, manifest);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ rule: "pod-security/run-as-non-root", path: `${at}.initContainers[0].securityContext.runAsNonRoot` });
    expect(finding?.message).toContain('init container "init"');
  });

  it("ignore kinds that run no pods", () => {
    expect(findings(podSecurityRules, { apiVersion: "v1", kind: "ConfigMap", metadata, data: {} })).toEqual([]);
  });

  it("check ephemeral containers", () => {
    const manifest = pod({ ...podSpec, initContainers: [], ephemeralContainers: [{ name: "debugger", image: "busybox" }] });
    expect(restrictedFindings(manifest)).toEqual([
      ["pod-security/allow-privilege-escalation", "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation"],
      ["pod-security/capabilities-restricted", "spec.ephemeralContainers[0].securityContext.capabilities.drop"],
    ]);
    expect(findings(restrictedRules, manifest).every((f) => f.message.includes('ephemeral container "debugger"'))).toBe(true);
  });

  it.each<[string, Manifest, string[][]]>([
    [
      "containers inherit runAsNonRoot: a container that sets it needs no pod-level value; one that does not is reported at the pod",
      pod({ ...podSpec, securityContext: { seccompProfile: { type: "RuntimeDefault" } }, initContainers: [securedContainer("init", { runAsNonRoot: true })] }),
      [["pod-security/run-as-non-root", "spec.securityContext.runAsNonRoot"]],
    ],
    [
      "a pod-level Unconfined seccomp profile is reported once, at the pod",
      pod({ ...podSpec, securityContext: { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } }, initContainers: [] }),
      [["pod-security/seccomp-profile-restricted", "spec.securityContext.seccompProfile.type"]],
    ],
    [
      "hostUsers: false relaxes runAsNonRoot and runAsUser, not the restricted procMount",
      pod({
        ...podSpec,
        hostUsers: false,
        securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [securedContainer("init", { runAsNonRoot: false, procMount: "Unmasked" })],
      }),
      [["pod-security/proc-mount-restricted", "spec.initContainers[0].securityContext.procMount"]],
    ],
    [
      "a name-only volume (defaulted to emptyDir) and an image volume are allowed; nfs is not",
      pod({ ...podSpec, initContainers: [], volumes: [{ name: "scratch" }, { name: "tools", image: { reference: "busybox" } }, { name: "share", nfs: { server: "nfs", path: "/" } }] }),
      [["pod-security/restricted-volumes", "spec.volumes[2].nfs"]],
    ],
    [
      "SELinux type container_engine_t is allowed (v1.31+); a custom SELinux user is not",
      pod({
        ...podSpec,
        securityContext: { ...podSpec.securityContext, seLinuxOptions: { type: "container_engine_t" } },
        initContainers: [],
        containers: [securedContainer("app", { seLinuxOptions: { user: "system_u" } })],
      }),
      [["pod-security/selinux-options", "spec.containers[0].securityContext.seLinuxOptions.user"]],
    ],
    [
      "the AppArmor annotation is read from the template's metadata",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata,
        spec: { template: { metadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" } }, spec: { ...podSpec, initContainers: [] } } },
      },
      [["pod-security/app-armor-profile", 'spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]']],
    ],
  ])("%s", (_case, manifest, expected) => {
    expect(restrictedFindings(manifest)).toEqual(expected);
  });

  it("keep the baseline procMount relaxation for user-namespace pods", () => {
    const unmasked = pod({ hostUsers: false, containers: [{ name: "app", image: "x", securityContext: { procMount: "Unmasked" } }] });
    expect(findings(baselineRules, unmasked)).toEqual([]);
  });
});
