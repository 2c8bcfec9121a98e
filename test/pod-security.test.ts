// The pod-security rules agree with upstream pod-security-admission at every policy version they
// know: its fixtures for each (testdata/{baseline,restricted}/<version>/{pass,fail}) are judged at
// that version, through a Namespace enforcing it, as upstream judges them. The fixtures are
// upstream's files, pinned in the project (test/fixtures/pod-security-admission, written by
// `npm run vendor-pss-fixtures`); without them this test fails rather than passing on nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { common } from "../generator/config/common.ts";
import { environments } from "../generator/config/environments.ts";
import { plain } from "../generator/lib/objects.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { runPolicies, type Manifest, type Rule, type Source } from "../policies/engine.ts";
import { rules as layerRules } from "../policies/rules/index.ts";
import { pssFixtureDir } from "../scripts/vendored.ts";
import { type Level, type PolicyVersion, podSecurityLevels, policyVersions, pssCheckRule } from "../policies/rules/pod-security.ts";

const fixtureRoot = join(pssFixtureDir, "testdata");
const enforceVersion = "pod-security.kubernetes.io/enforce-version";
const levels = ["baseline", "restricted"] as const;

interface Fixture {
  readonly name: string;
  readonly manifest: Manifest;
}

function fixtures(level: Level, version: string, verdict: "pass" | "fail"): Fixture[] {
  const dir = join(fixtureRoot, level, version, verdict);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => ({ name: file.slice(0, -".yaml".length), manifest: parse(readFileSync(join(dir, file), "utf8")) as Manifest }));
}

/** The versions vendored, as upstream names their folders. */
const vendoredVersions = existsSync(fixtureRoot)
  ? [...new Set(levels.flatMap((level) => (existsSync(join(fixtureRoot, level)) ? readdirSync(join(fixtureRoot, level)) : [])))].sort()
  : [];

const namespace = (name: string, version?: string): Manifest => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, ...(version === undefined ? {} : { labels: { [enforceVersion]: version } }) },
});

/** The manifest in a Namespace enforcing `version`, as the API server would judge it; no version: no Namespace. */
function judged(manifest: Manifest, version?: string): Source[] {
  if (version === undefined) return [{ manifest, file: "fixture.yaml" }];
  return [
    { manifest: namespace("fixtures", version), file: "namespace.yaml" },
    { manifest: { ...manifest, metadata: { ...manifest.metadata, namespace: "fixtures" } }, file: "fixture.yaml" },
  ];
}

function findings(rules: readonly Rule[], manifest: Manifest, version?: string) {
  return runPolicies(rules, judged(manifest, version), []).findings;
}

/** The distinct rules that fire, sorted. */
function firing(rules: readonly Rule[], manifest: Manifest, version?: string): string[] {
  return [...new Set(findings(rules, manifest, version).map((f) => f.rule))].sort();
}

const idsOf = (rules: readonly Rule[]): ReadonlySet<string> => new Set(rules.map((r) => r.id));

/** Fixture names are `<lower-cased check ID><index>`. */
const ownRule = (name: string): string | undefined => pssCheckRule[name.replace(/\d+$/, "")];

const minor = (version: string) => Number(version.replace(/^v1\./, ""));

// At the restricted level upstream does not run a baseline check that a restricted check overrides
// (OverrideCheckIDs in check_capabilities_restricted.go, check_restrictedVolumes.go,
// check_procMount_restricted.go, check_seccompProfile_restricted.go; applied in policy/registry.go),
// at the versions that have the restricted check: procMount_restricted exists from v1.35 only.
// Upstream still renders these baseline fixtures at restricted, where the overriding check rejects them.
const overriddenAtRestricted: Record<string, { by: string; since: number }> = {
  "pod-security/capabilities-baseline": { by: "pod-security/capabilities-restricted", since: 22 },
  "pod-security/host-path-volumes": { by: "pod-security/restricted-volumes", since: 0 },
  "pod-security/proc-mount": { by: "pod-security/proc-mount-restricted", since: 35 },
  "pod-security/seccomp-profile-baseline": { by: "pod-security/seccomp-profile-restricted", since: 19 },
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

/** The rules a fail fixture must be rejected by, and only by, at a level and version. */
function expectedRejecters(name: string, level: Level, version: string): string[] {
  const own = ownRule(name) ?? `(no rule for ${name})`;
  const override = level === "restricted" ? overriddenAtRestricted[own] : undefined;
  const rejecter = override && minor(version) >= override.since ? override.by : own;
  const ids = idsOf(podSecurityLevels[level]);
  return [rejecter, ...(alsoBreaks[name] ?? [])].filter((id) => ids.has(id)).sort();
}

describe("pod-security rules", () => {
  const checkRules = (level: Level) => podSecurityLevels[level].filter((r) => r.id !== "pod-security/policy-version");

  it("are one error rule per upstream check, each with a description and a fix, and the policy-version rule", () => {
    const all = [...new Map([...podSecurityLevels.baseline, ...podSecurityLevels.restricted].map((r) => [r.id, r])).values()];
    expect(all.map((r) => r.id)).toContain("pod-security/policy-version");
    expect(Object.values(pssCheckRule).sort()).toEqual(all.map((r) => r.id).filter((id) => id !== "pod-security/policy-version").sort());
    expect(Object.keys(pssCheckRule)).toHaveLength(19);
    for (const rule of all) {
      expect(rule.id).toMatch(/^pod-security\/[a-z-]+$/);
      expect(rule.severity).toBe("error");
      expect(rule.description).toMatch(/\.$/);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });

  it("form upstream's levels: 12 baseline checks; restricted adds 7 and drops the 3 baseline checks they override at every known version", () => {
    expect(checkRules("baseline")).toHaveLength(12);
    // proc-mount stays: before v1.35 no restricted check overrides it.
    expect(checkRules("restricted")).toHaveLength(16);
    const restricted = idsOf(podSecurityLevels.restricted);
    for (const [baseline, { by }] of Object.entries(overriddenAtRestricted)) {
      expect(idsOf(podSecurityLevels.baseline).has(baseline)).toBe(true);
      expect(restricted.has(baseline)).toBe(baseline === "pod-security/proc-mount");
      expect(restricted.has(by)).toBe(true);
    }
  });

  it("know v1.30 to v1.37, and the layer runs the restricted level", () => {
    expect(policyVersions).toEqual(["v1.30", "v1.31", "v1.32", "v1.33", "v1.34", "v1.35", "v1.36", "v1.37"]);
    expect(layerRules.filter((r) => r.id.startsWith("pod-security/"))).toEqual(podSecurityLevels.restricted);
  });
});

// Fixture counts per version, as upstream's test/testdata holds them (baseline pass/fail, restricted
// pass/fail): hostProbesAndHostLifecycle arrives at v1.34, the user-namespace procMount and
// procMount_restricted at v1.35.
const counts: Record<string, readonly [number, number, number, number]> = {
  "v1.30": [11, 29, 19, 69],
  "v1.31": [11, 29, 19, 69],
  "v1.32": [11, 29, 19, 69],
  "v1.33": [11, 29, 19, 69],
  "v1.34": [14, 34, 22, 74],
  "v1.35": [15, 34, 23, 76],
  "v1.36": [15, 34, 23, 76],
  "v1.37": [15, 34, 23, 76],
};

describe("upstream pod-security-admission fixtures", () => {
  it("are vendored for every version the rules know", () => {
    expect(existsSync(fixtureRoot), `PSS fixtures not found at ${fixtureRoot}: run \`npm run vendor-pss-fixtures\``).toBe(true);
    expect(vendoredVersions, "vendor every known version: npm run vendor-pss-fixtures -- --from <pod-security-admission>/test/testdata").toEqual([...policyVersions]);
  });

  describe.each(vendoredVersions)("%s", (version) => {
    const sets = {
      "baseline pass": fixtures("baseline", version, "pass"),
      "baseline fail": fixtures("baseline", version, "fail"),
      "restricted pass": fixtures("restricted", version, "pass"),
      "restricted fail": fixtures("restricted", version, "fail"),
    };

    it("are all there", () => {
      expect(Object.values(sets).map((list) => list.length)).toEqual(counts[version]);
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

    for (const level of levels) {
      const rules = podSecurityLevels[level];
      eachFixture(`${level} fail`, `${level} rejects $name by its own check`, ({ name, manifest }) => {
        expect(ownRule(name), `no rule for fixture ${name}`).toBeDefined();
        expect(firing(rules, manifest, version)).toEqual(expectedRejecters(name, level, version));
      });
      eachFixture(`${level} pass`, `${level} admits $name`, ({ manifest }) => {
        expect(findings(rules, manifest, version)).toEqual([]);
      });
    }
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
const restrictedRules = podSecurityLevels.restricted;
const baselineRules = podSecurityLevels.baseline;
const restrictedFindings = (manifest: Manifest) => findings(restrictedRules, manifest).map((f) => [f.rule, f.path]);

describe("pod-security rules on workloads", () => {
  it.each(workloads)("check a %s's pod template, with paths under it", (_kind, manifest, at) => {
    const [finding, ...rest] = findings(restrictedRules, manifest);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ rule: "pod-security/run-as-non-root", path: `${at}.initContainers[0].securityContext.runAsNonRoot` });
    expect(finding?.message).toContain('init container "init"');
  });

  it("ignore kinds that run no pods", () => {
    expect(findings(restrictedRules, { apiVersion: "v1", kind: "ConfigMap", metadata, data: {} })).toEqual([]);
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

// ------------------------------------------------------------------------------------------------
// The version a pod is judged at: its Namespace's.

/** A restricted-compliant pod, changed by `change`. */
const compliantPod = (change: (spec: { securityContext: Record<string, unknown>; containers: Record<string, unknown>[] }) => object) =>
  pod(change({ securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [securedContainer("app")] }));
const withSysctl = (name: string) => compliantPod((spec) => ({ ...spec, securityContext: { ...spec.securityContext, sysctls: [{ name, value: "1" }] } }));

describe("pod-security rules at each policy version (what upstream's VersionedChecks change within v1.30..v1.37)", () => {
  it.each<[string, Level, Manifest, Record<string, string[]>]>([
    ["sysctl net.ipv4.tcp_notsent_lowat is safe from v1.37 (check_sysctls.go V1Dot37)", "baseline", withSysctl("net.ipv4.tcp_notsent_lowat"), {
      "v1.30": ["pod-security/sysctls"], "v1.36": ["pod-security/sysctls"], "v1.37": [],
    }],
    ["sysctl net.ipv4.tcp_rmem is safe from v1.32 (V1Dot32)", "baseline", withSysctl("net.ipv4.tcp_rmem"), {
      "v1.31": ["pod-security/sysctls"], "v1.32": [], "v1.36": [],
    }],
    ["sysctl net.ipv4.tcp_keepalive_time is safe at every known version (V1Dot29)", "baseline", withSysctl("net.ipv4.tcp_keepalive_time"), {
      "v1.30": [], "v1.37": [],
    }],
    ["SELinux type container_engine_t is allowed from v1.31", "baseline",
      compliantPod((spec) => ({ ...spec, securityContext: { ...spec.securityContext, seLinuxOptions: { type: "container_engine_t" } } })), {
      "v1.30": ["pod-security/selinux-options"], "v1.31": [],
    }],
    ["a probe sent to another host is refused from v1.34, when hostProbesAndHostLifecycle arrives", "restricted",
      compliantPod((spec) => ({ ...spec, containers: [{ ...securedContainer("app"), readinessProbe: { tcpSocket: { host: "10.0.0.1", port: 80 } } }] })), {
      "v1.33": [], "v1.34": ["pod-security/host-probes-and-host-lifecycle"], "v1.37": ["pod-security/host-probes-and-host-lifecycle"],
    }],
    ["a user-namespace pod may run as root from v1.35", "restricted",
      compliantPod((spec) => ({ ...spec, hostUsers: false, securityContext: { seccompProfile: { type: "RuntimeDefault" }, runAsUser: 0 } })), {
      "v1.34": ["pod-security/run-as-non-root", "pod-security/run-as-user"], "v1.35": [],
    }],
    ["a user-namespace pod may unmask /proc from v1.35 at baseline", "baseline",
      pod({ hostUsers: false, containers: [{ name: "app", image: "x", securityContext: { procMount: "Unmasked" } }] }), {
      "v1.34": ["pod-security/proc-mount"], "v1.35": [],
    }],
    ["restricted refuses an unmasked /proc by the baseline check before v1.35, by procMount_restricted from v1.35", "restricted",
      compliantPod((spec) => ({ ...spec, containers: [securedContainer("app", { procMount: "Unmasked" })] })), {
      "v1.34": ["pod-security/proc-mount"], "v1.35": ["pod-security/proc-mount-restricted"],
    }],
  ])("%s", (_case, level, manifest, expected) => {
    const actual = Object.fromEntries(Object.keys(expected).map((version) => [version, firing(podSecurityLevels[level], manifest, version)]));
    expect(actual).toEqual(expected);
  });

  it("judge each pod at its own Namespace's version, and name the version in the message", () => {
    const lowat = withSysctl("net.ipv4.tcp_notsent_lowat");
    const inNamespace = (ns: string): Source => ({ manifest: { ...lowat, metadata: { name: `pod-${ns}`, namespace: ns } }, file: `${ns}.yaml` });
    const report = runPolicies(restrictedRules, [
      { manifest: namespace("old", "v1.36"), file: "old-ns.yaml" },
      { manifest: namespace("new", "v1.37"), file: "new-ns.yaml" },
      inNamespace("old"),
      inNamespace("new"),
    ], []);
    expect(report.findings.map((f) => [f.rule, f.object])).toEqual([["pod-security/sysctls", "Pod old/pod-old"]]);
    expect(report.findings[0]?.message).toContain('"net.ipv4.tcp_notsent_lowat", which is not in the safe set of v1.36');
  });

  it.each<[string, Source[]]>([
    ["latest", [{ manifest: namespace("ns", "latest"), file: "ns.yaml" }]],
    ["a Namespace without the label", [{ manifest: namespace("ns"), file: "ns.yaml" }]],
    ["a Namespace not among the manifests", []],
  ])("judge at the newest version they know (v1.37) for %s", (_case, namespaces) => {
    const probe = { ...securedContainer("app"), readinessProbe: { tcpSocket: { host: "10.0.0.1", port: 80 } } };
    const manifest = compliantPod((spec) => ({ ...spec, securityContext: { ...spec.securityContext, sysctls: [{ name: "net.ipv4.tcp_notsent_lowat", value: "1" }] }, containers: [probe] }));
    const sources = [...namespaces, { manifest: { ...manifest, metadata: { name: "example", namespace: "ns" } }, file: "pod.yaml" }];
    // A v1.37 sysctl passes and a v1.34 check runs: neither an older version nor no version.
    expect(runPolicies(restrictedRules, sources, []).findings.map((f) => f.rule)).toEqual(["pod-security/host-probes-and-host-lifecycle"]);
  });

  it.each([
    ["v1.29", "v1.29 is older than v1.30, the oldest version the rules know"],
    ["v1.38", "v1.38 is newer than v1.37, the newest version the rules know"],
    ["1.36", '"1.36" is neither latest nor v1.<minor>'],
    ["v1.036", '"v1.036" is neither latest nor v1.<minor>'],
    ["v2.0", '"v2.0" is neither latest nor v1.<minor>'],
    ["", '"" is neither latest nor v1.<minor>'],
  ])("refuse a Namespace enforcing %j, naming the Namespace and the label, instead of judging its pods", (label, problem) => {
    const sources: Source[] = [
      { manifest: namespace("nx-broker", label), file: "ns.yaml" },
      { manifest: { ...withSysctl("kernel.msgmax"), metadata: { name: "example", namespace: "nx-broker" } }, file: "pod.yaml" },
    ];
    const found = runPolicies(baselineRules, sources, []).findings;
    expect(found.map((f) => [f.rule, f.object, f.path])).toEqual([
      ["pod-security/policy-version", "Namespace nx-broker", 'metadata.labels["pod-security.kubernetes.io/enforce-version"]'],
    ]);
    expect(found[0]?.message).toContain(`Namespace nx-broker: pod-security.kubernetes.io/enforce-version ${problem}`);
  });

  it.each(environments.map((env) => [env.name, env] as const))(
    "%s: the rendered Namespaces enforce v<common.kubernetesVersion> (v1.36), and their pods are judged at it",
    (_name, env) => {
      const rendered = environmentObjects(env).objects.map(({ object }) => plain<Manifest>(object));
      const namespaces = rendered.filter((m) => m.kind === "Namespace");
      expect(namespaces.length).toBeGreaterThan(0);
      for (const ns of namespaces) expect(ns.metadata?.labels?.[enforceVersion], ns.metadata?.name).toBe(`v${common.kubernetesVersion}`);
      // Today's target; when common.kubernetesVersion moves, this test and the case below move with it.
      expect(common.kubernetesVersion).toBe("1.36");
      const lowat = (ns: Manifest): Source => ({
        manifest: { ...withSysctl("net.ipv4.tcp_notsent_lowat"), metadata: { name: "lowat", namespace: ns.metadata?.name } },
        file: "pod.yaml",
      });
      const refused = runPolicies(restrictedRules, [...namespaces.map((manifest) => ({ manifest, file: "ns.yaml" })), ...namespaces.map(lowat)], []).findings;
      expect(refused.map((f) => `${f.rule} ${f.object}`)).toEqual(namespaces.map((ns) => `pod-security/sysctls Pod ${ns.metadata?.name}/lowat`));
      const at37 = namespaces.map((ns) => ({ ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata?.labels, [enforceVersion]: "v1.37" } } }));
      expect(runPolicies(restrictedRules, [...at37.map((manifest) => ({ manifest, file: "ns.yaml" })), ...at37.map(lowat)], []).findings).toEqual([]);
    },
  );
});
