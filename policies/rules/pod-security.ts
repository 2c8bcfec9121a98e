// The Pod Security Standards, restricted level (which includes baseline), as policy rules: one
// rule per check of upstream pod-security-admission (k8s.io/pod-security-admission, policy/
// check_*.go), at every policy version from v1.30 to v1.37. Where the published standard and the
// upstream code differ, the code wins: test/pod-security.test.ts proves agreement with upstream's
// fixtures of each of those versions.
//
// A pod is judged at the version its Namespace enforces (the `enforce-version` label), as the API
// server judges it: a newer version allows more (sysctls, SELinux types, user-namespace pods) and
// also checks more (host probes), so judging at the wrong one passes pods the server refuses.
//
// Upstream's restricted level is not simply "all checks": a restricted check may override the
// baseline check it tightens (OverrideCheckIDs, policy/registry.go), and the overridden one does
// not run, for the versions that have the overriding check. `podSecurityLevels` holds each level.

import { containersOf, podSpecOf, type Manifest, type Rule, type RuleContext, type Violation } from "../engine.ts";

type Fields = Readonly<Record<string, unknown>>;

/** An object, or undefined when absent, null (Go's nil) or of another type. */
function fields(value: unknown): Fields | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Fields) : undefined;
}

function items(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string field as Go sees it: absent is "". */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A securityContext (the pod's or a container's), where it sits, and who it belongs to, for messages. */
interface Context {
  readonly fields: Fields | undefined;
  readonly path: string;
  readonly who: string;
}

interface ContainerAt {
  readonly spec: Fields;
  readonly path: string;
  readonly securityContext: Context;
}

interface Pod {
  readonly spec: Fields;
  readonly path: string;
  readonly metadataPath: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly securityContext: Context;
  /** Init, regular and ephemeral containers, the order upstream visits them in. */
  readonly containers: readonly ContainerAt[];
  /** `spec.os.name: windows`: exempt from the Linux-only restricted checks (v1.25+). */
  readonly windows: boolean;
  /** `hostUsers: false`: root in the pod is not root on the node, which relaxes some checks (userNamespaceExemptSince). */
  readonly userNamespace: boolean;
}

const containerKind = { initContainers: "init container", containers: "container", ephemeralContainers: "ephemeral container" } as const;

function podOf(manifest: Manifest): Pod | undefined {
  const at = podSpecOf(manifest);
  if (!at) return undefined;
  const spec = at.spec as Fields;
  return {
    spec,
    path: at.path,
    // The pod's metadata sits beside its spec: `spec` -> `metadata`, `spec.template.spec` -> `spec.template.metadata`.
    metadataPath: at.path.replace(/spec$/, "metadata"),
    annotations: at.metadata?.annotations ?? {},
    securityContext: { fields: fields(spec.securityContext), path: `${at.path}.securityContext`, who: "the pod" },
    containers: containersOf(at).map(({ container, path, kind }) => ({
      spec: container as Fields,
      path,
      securityContext: {
        fields: fields(container.securityContext),
        path: `${path}.securityContext`,
        who: `${containerKind[kind]} "${container.name ?? "(unnamed)"}"`,
      },
    })),
    windows: fields(spec.os)?.name === "windows",
    userNamespace: spec.hostUsers === false,
  };
}

/** The pod's securityContext, then every container's: for settings allowed at both levels. */
function contexts(pod: Pod): Context[] {
  return [pod.securityContext, ...pod.containers.map((c) => c.securityContext)];
}

function volumes(pod: Pod): { volume: Fields; path: string; name: string }[] {
  return items(pod.spec.volumes).map((v, i) => {
    const volume = fields(v) ?? {};
    return { volume, path: `${pod.path}.volumes[${i}]`, name: text(volume.name) };
  });
}

const violation = (path: string, message: string): Violation => ({ path, message });

// --- policy versions ---

/** A Pod Security policy version as the `pod-security.kubernetes.io/*-version` labels write it. */
export type PolicyVersion = `v1.${number}`;

const minorOf = (version: PolicyVersion): number => Number(version.slice("v1.".length));

/**
 * The versions the rules know, oldest first: from v1.30 (the operators' charts need Kubernetes
 * 1.30+, so no cluster of the layer enforces an older one) to upstream's newest, v1.37.
 */
export const policyVersions: readonly PolicyVersion[] = ["v1.30", "v1.31", "v1.32", "v1.33", "v1.34", "v1.35", "v1.36", "v1.37"];
const oldestVersion = policyVersions[0]!;
const newestVersion = policyVersions[policyVersions.length - 1]!;

const atLeast = (version: PolicyVersion, since: PolicyVersion | undefined) => since === undefined || minorOf(version) >= minorOf(since);

/** A value that changes with the policy version: each entry holds from its version until the next entry's. */
type Versioned<T> = readonly (readonly [since: PolicyVersion, value: T])[];

function at<T>(versioned: Versioned<T>, version: PolicyVersion): T {
  const entry = versioned.findLast(([since]) => atLeast(version, since));
  if (!entry) throw new Error(`no value for policy version ${version}`);
  return entry[1];
}

/** Upstream's allow-lists only grow: each entry adds to the previous one. */
function growing(additions: Versioned<readonly string[]>): Versioned<ReadonlySet<string>> {
  return additions.map(([since], i) => [since, new Set(additions.slice(0, i + 1).flatMap(([, added]) => added))]);
}

const enforceVersionLabel = "pod-security.kubernetes.io/enforce-version";
// api/helpers.go ParseVersion: "latest" or v1.<minor>, nothing else.
const versionPattern = /^v1\.(0|[1-9][0-9]*)$/;

/** The version a Namespace's label asks for, or why the rules cannot judge at it. */
function policyVersionOf(label: string | undefined): { version: PolicyVersion } | { problem: string } {
  // No label: the admission configuration's default version, which is latest unless the cluster's admins change it.
  if (label === undefined || label === "latest") return { version: newestVersion };
  if (!versionPattern.test(label)) return { problem: `"${label}" is neither latest nor v1.<minor>; the API server refuses such a Namespace` };
  const version = label as PolicyVersion;
  if (policyVersions.includes(version)) return { version };
  return {
    problem: atLeast(version, oldestVersion)
      ? `${label} is newer than ${newestVersion}, the newest version the rules know: judged at ${newestVersion}, a pod could pass that ${label} refuses`
      : `${label} is older than ${oldestVersion}, the oldest version the rules know (the operators' charts need Kubernetes 1.30+)`,
  };
}

/** Each Namespace's resolved version, by name, once per set of manifests. */
const namespaceVersions = new WeakMap<RuleContext["all"], ReadonlyMap<string, ReturnType<typeof policyVersionOf>>>();

/**
 * The version a pod is judged at: its Namespace's, when that Namespace is among the manifests
 * checked, else the newest. Undefined when the Namespace's label is unusable: the
 * `pod-security/policy-version` finding on that Namespace stands for its pods.
 */
function judgedAt(manifest: Manifest, context: RuleContext): PolicyVersion | undefined {
  let versions = namespaceVersions.get(context.all);
  if (!versions) {
    versions = new Map(
      context.all
        .filter(({ manifest: m }) => m.apiVersion === "v1" && m.kind === "Namespace")
        .map(({ manifest: m }) => [m.metadata?.name ?? "", policyVersionOf(m.metadata?.labels?.[enforceVersionLabel])]),
    );
    namespaceVersions.set(context.all, versions);
  }
  const namespace = manifest.metadata?.namespace;
  const resolved = (namespace !== undefined && versions.get(namespace)) || { version: newestVersion };
  return "version" in resolved ? resolved.version : undefined;
}

// --- allow-lists ---

/** check_capabilities_baseline.go; case-sensitive and without a CAP_ prefix, as the kernel names are not. */
const baselineCapabilities = new Set([
  "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
  "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]);

/** check_sysctls.go: namespaced sysctls isolated from other pods (upstream's sets V1Dot29, V1Dot32, V1Dot37). */
const safeSysctls = growing([
  ["v1.29", [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
  ]],
  ["v1.32", ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]],
  ["v1.37", ["net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"]],
]);

/** check_seLinuxOptions.go; "" is the runtime's default type. */
const selinuxTypes = growing([
  ["v1.0", ["", "container_t", "container_init_t", "container_kvm_t"]],
  ["v1.31", ["container_engine_t"]],
]);

/** Seccomp and AppArmor profile types that keep a profile applied. */
const confinedProfiles = new Set(["RuntimeDefault", "Localhost"]);

/** check_restrictedVolumes.go: inline sources that cannot reach node or network storage (image since v1.33). */
const restrictedVolumeSources = new Set([
  "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret",
]);

/** The deprecated AppArmor annotation is still checked (check_appArmorProfile.go). */
const appArmorAnnotation = "container.apparmor.security.beta.kubernetes.io/";
const allowedAppArmorAnnotation = (value: string) => value === "" || value === "runtime/default" || value.startsWith("localhost/");

// --- checks shared by two rules ---

/** Containers setting a procMount other than Default, i.e. an unmasked /proc. */
function unmaskedProc(pod: Pod): Violation[] {
  return pod.containers.flatMap(({ securityContext: sc }) => {
    const procMount = sc.fields?.procMount;
    return isSet(procMount) && procMount !== "Default"
      ? [violation(`${sc.path}.procMount`, `${sc.who} sets procMount "${text(procMount)}"; only Default is allowed`)]
      : [];
  });
}

/** Pod or containers explicitly setting a seccomp profile type other than RuntimeDefault or Localhost. */
function unconfinedSeccomp(pod: Pod): Violation[] {
  return contexts(pod).flatMap(({ fields: sc, path, who }) => {
    const profile = fields(sc?.seccompProfile);
    return profile && !confinedProfiles.has(text(profile.type))
      ? [violation(`${path}.seccompProfile.type`, `${who} sets seccompProfile.type "${text(profile.type)}"; only RuntimeDefault or Localhost are allowed`)]
      : [];
  });
}

/**
 * Containers leaving a required field unset while the pod does not set it either: one violation, at
 * the pod's field, since containers inherit it and one line there fixes them all. (Upstream words it
 * "pod or containers ... must set".) A pod-level bad value is reported by the caller instead.
 */
function unsetInPodAndContainers(pod: Pod, field: string, required: string): Violation[] {
  if (isSet(pod.securityContext.fields?.[field])) return [];
  const unset = pod.containers.map((c) => c.securityContext).filter((sc) => !isSet(sc.fields?.[field]));
  return unset.length === 0
    ? []
    : [violation(`${pod.securityContext.path}.${field}`, `${required} is set neither on the pod nor on ${unset.map((sc) => sc.who).join(", ")}`)];
}

// --- the checks ---

export type Level = "baseline" | "restricted";

// What changes with the policy version is data on each check (upstream's VersionedCheck list):
// the version a check first exists at, the version from which a user-namespace pod passes it,
// and its versioned allow-lists; versions older than v1.30 are not spelled out.
interface Check {
  /** Upstream check ID; lower-cased, it prefixes upstream's fixture file names. */
  readonly check: string;
  readonly id: string;
  readonly level: Level;
  /** The first policy version with this check, where that is newer than the oldest the rules know. */
  readonly since?: PolicyVersion;
  /** The baseline rule this one replaces at restricted wherever both exist (upstream OverrideCheckIDs). */
  readonly overrides?: string;
  /**
   * From this version a pod with `hostUsers: false` passes: root in its user namespace is not root
   * on the node (relaxPolicyForUserNamespacePod in helpers.go).
   */
  readonly userNamespaceExemptSince?: PolicyVersion;
  readonly description: string;
  readonly fix: string;
  readonly evaluate: (pod: Pod, version: PolicyVersion) => Violation[];
}

const checks: readonly Check[] = [
  // baseline
  {
    check: "appArmorProfile",
    id: "pod-security/app-armor-profile",
    level: "baseline",
    description: "AppArmor profiles, set by field or by the beta annotation, must not be Unconfined.",
    fix: "remove appArmorProfile or set its type to RuntimeDefault or Localhost; annotation values must be runtime/default or localhost/<profile>",
    evaluate: (pod) => [
      ...contexts(pod).flatMap(({ fields: sc, path, who }) => {
        const profile = fields(sc?.appArmorProfile);
        return profile && !confinedProfiles.has(text(profile.type))
          ? [violation(`${path}.appArmorProfile.type`, `${who} sets AppArmor profile type "${text(profile.type)}"; only RuntimeDefault or Localhost are allowed`)]
          : [];
      }),
      ...Object.entries(pod.annotations)
        .filter(([key, value]) => key.startsWith(appArmorAnnotation) && !allowedAppArmorAnnotation(value))
        .map(([key, value]) =>
          violation(
            `${pod.metadataPath}.annotations["${key}"]`,
            `annotation ${key} gives container "${key.slice(appArmorAnnotation.length)}" the AppArmor profile "${value}"; only runtime/default or localhost/* are allowed`,
          ),
        ),
    ],
  },
  {
    check: "capabilities_baseline",
    id: "pod-security/capabilities-baseline",
    level: "baseline",
    description: "Containers may add only capabilities from the container runtime's default set (never NET_RAW).",
    fix: "remove the capability from securityContext.capabilities.add, or use one of AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT",
    evaluate: (pod) =>
      pod.containers.flatMap(({ securityContext: sc }) =>
        items(fields(sc.fields?.capabilities)?.add).flatMap((capability, i) =>
          typeof capability === "string" && baselineCapabilities.has(capability)
            ? []
            : [violation(`${sc.path}.capabilities.add[${i}]`, `${sc.who} adds capability "${String(capability)}", which is not in the baseline default set`)],
        ),
      ),
  },
  {
    check: "hostNamespaces",
    id: "pod-security/host-namespaces",
    level: "baseline",
    description: "Pods must not share the node's network, PID or IPC namespace.",
    fix: "remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false)",
    evaluate: (pod) =>
      (["hostNetwork", "hostPID", "hostIPC"] as const)
        .filter((field) => pod.spec[field] === true)
        .map((field) => violation(`${pod.path}.${field}`, `the pod sets ${field}: true, sharing the node's namespace`)),
  },
  {
    check: "hostPathVolumes",
    id: "pod-security/host-path-volumes",
    level: "baseline",
    description: "Pods must not mount hostPath volumes.",
    fix: "replace the hostPath volume with an emptyDir, configMap, secret or persistentVolumeClaim volume",
    evaluate: (pod) =>
      volumes(pod)
        .filter(({ volume }) => isSet(volume.hostPath))
        .map(({ path, name }) => violation(`${path}.hostPath`, `volume "${name}" mounts a hostPath`)),
  },
  {
    check: "hostPorts",
    id: "pod-security/host-ports",
    level: "baseline",
    description: "Containers must not bind host ports.",
    fix: "remove hostPort from the container's ports and expose the port through a Service",
    evaluate: (pod) =>
      pod.containers.flatMap(({ spec, path, securityContext: { who } }) =>
        items(spec.ports).flatMap((port, i) => {
          const hostPort = fields(port)?.hostPort;
          return isSet(hostPort) && hostPort !== 0 ? [violation(`${path}.ports[${i}].hostPort`, `${who} binds host port ${String(hostPort)}`)] : [];
        }),
      ),
  },
  {
    check: "hostProbesAndHostLifecycle",
    id: "pod-security/host-probes-and-host-lifecycle",
    level: "baseline",
    since: "v1.34",
    description: "Probes and lifecycle hooks must not send their HTTP or TCP requests to another host.",
    fix: "remove host from the probe's or hook's httpGet/tcpSocket, so it targets the pod's own IP",
    evaluate: (pod) =>
      pod.containers.flatMap(({ spec, path, securityContext: { who } }) => {
        const lifecycle = fields(spec.lifecycle);
        const handlers = [
          ...["livenessProbe", "readinessProbe", "startupProbe"].map((name) => ({ name, handler: spec[name], at: `${path}.${name}` })),
          ...["postStart", "preStop"].map((name) => ({ name, handler: lifecycle?.[name], at: `${path}.lifecycle.${name}` })),
        ];
        return handlers.flatMap(({ name, handler, at }) =>
          ["httpGet", "tcpSocket"].flatMap((action) => {
            const host = text(fields(fields(handler)?.[action])?.host);
            return host ? [violation(`${at}.${action}.host`, `${who} sends its ${name} ${action} to host "${host}"`)] : [];
          }),
        );
      }),
  },
  {
    check: "privileged",
    id: "pod-security/privileged",
    level: "baseline",
    description: "Containers must not run privileged.",
    fix: "remove securityContext.privileged (or set it to false) on every container",
    evaluate: (pod) =>
      pod.containers
        .map((c) => c.securityContext)
        .filter((sc) => sc.fields?.privileged === true)
        .map((sc) => violation(`${sc.path}.privileged`, `${sc.who} runs privileged`)),
  },
  {
    check: "procMount",
    id: "pod-security/proc-mount",
    level: "baseline",
    description: "Containers must keep the default masked /proc, unless the pod runs in a user namespace.",
    fix: "remove securityContext.procMount (or set it to Default), or run the pod with hostUsers: false (v1.35+)",
    // An unmasked /proc in a user namespace does not expose the node (check_procMount_baseline.go).
    userNamespaceExemptSince: "v1.35",
    evaluate: unmaskedProc,
  },
  {
    check: "seLinuxOptions",
    id: "pod-security/selinux-options",
    level: "baseline",
    description: "SELinux options may set only a container type (container_t, container_init_t, container_kvm_t, and container_engine_t from v1.31), never a user or role.",
    fix: "remove seLinuxOptions.user and .role, and use one of the container SELinux types or none",
    evaluate: (pod, version) =>
      contexts(pod).flatMap(({ fields: sc, path, who }) => {
        const options = fields(sc?.seLinuxOptions);
        if (!options) return [];
        const type = text(options.type);
        const allowed = at(selinuxTypes, version);
        return [
          ...(allowed.has(type) ? [] : [violation(`${path}.seLinuxOptions.type`, `${who} sets SELinux type "${type}"; ${version} allows ${[...allowed].filter(Boolean).join(", ")} or none`)]),
          ...(["user", "role"] as const)
            .filter((field) => text(options[field]) !== "")
            .map((field) => violation(`${path}.seLinuxOptions.${field}`, `${who} sets a custom SELinux ${field}`)),
        ];
      }),
  },
  {
    check: "seccompProfile_baseline",
    id: "pod-security/seccomp-profile-baseline",
    level: "baseline",
    description: "A seccomp profile, where set, must be RuntimeDefault or Localhost, not Unconfined.",
    fix: "set securityContext.seccompProfile.type to RuntimeDefault (or Localhost), or remove it",
    evaluate: unconfinedSeccomp,
  },
  {
    check: "sysctls",
    id: "pod-security/sysctls",
    level: "baseline",
    description: "Pods may set only the safe, namespaced sysctls of their policy version.",
    fix: "remove the sysctl from spec.securityContext.sysctls (the message lists those the namespace's version allows), or raise the namespace's version with the cluster's",
    evaluate: (pod, version) => {
      const allowed = at(safeSysctls, version);
      return items(pod.securityContext.fields?.sysctls).flatMap((sysctl, i) => {
        const name = text(fields(sysctl)?.name);
        return allowed.has(name)
          ? []
          : [violation(`${pod.securityContext.path}.sysctls[${i}].name`, `the pod sets sysctl "${name}", which is not in the safe set of ${version}: ${[...allowed].join(", ")}`)];
      });
    },
  },
  {
    check: "windowsHostProcess",
    id: "pod-security/windows-host-process",
    level: "baseline",
    description: "Pods and containers must not run as Windows HostProcess containers.",
    fix: "remove securityContext.windowsOptions.hostProcess (or set it to false) on the pod and every container",
    evaluate: (pod) =>
      contexts(pod)
        .filter(({ fields: sc }) => fields(sc?.windowsOptions)?.hostProcess === true)
        .map(({ path, who }) => violation(`${path}.windowsOptions.hostProcess`, `${who} runs as a Windows HostProcess`)),
  },

  // restricted
  {
    check: "allowPrivilegeEscalation",
    id: "pod-security/allow-privilege-escalation",
    level: "restricted",
    description: "Every container must set allowPrivilegeEscalation: false (Windows pods excepted).",
    fix: "set securityContext.allowPrivilegeEscalation: false on every container",
    // Unset means allowed (the kernel's no_new_privs stays off), so it must be explicit.
    evaluate: (pod) =>
      pod.windows
        ? []
        : pod.containers
            .map((c) => c.securityContext)
            .filter((sc) => sc.fields?.allowPrivilegeEscalation !== false)
            .map((sc) => violation(`${sc.path}.allowPrivilegeEscalation`, `${sc.who} must set securityContext.allowPrivilegeEscalation: false`)),
  },
  {
    check: "capabilities_restricted",
    id: "pod-security/capabilities-restricted",
    level: "restricted",
    overrides: "pod-security/capabilities-baseline",
    description: "Every container must drop ALL capabilities and may add back only NET_BIND_SERVICE (Windows pods excepted).",
    fix: 'set securityContext.capabilities.drop: ["ALL"] on every container and add nothing but NET_BIND_SERVICE',
    evaluate: (pod) =>
      pod.windows
        ? []
        : pod.containers.flatMap(({ securityContext: sc }) => {
            const capabilities = fields(sc.fields?.capabilities);
            return [
              // Dropping every capability by name is not enough: only ALL covers capabilities added to future kernels.
              ...(items(capabilities?.drop).includes("ALL") ? [] : [violation(`${sc.path}.capabilities.drop`, `${sc.who} must drop ALL capabilities`)]),
              ...items(capabilities?.add).flatMap((capability, i) =>
                capability === "NET_BIND_SERVICE"
                  ? []
                  : [violation(`${sc.path}.capabilities.add[${i}]`, `${sc.who} adds capability "${String(capability)}"; only NET_BIND_SERVICE may be added`)],
              ),
            ];
          }),
  },
  {
    check: "procMount_restricted",
    id: "pod-security/proc-mount-restricted",
    level: "restricted",
    since: "v1.35",
    overrides: "pod-security/proc-mount",
    description: "Containers must keep the default masked /proc, even in a user namespace (v1.35+; before, the baseline check does it).",
    fix: "remove securityContext.procMount (or set it to Default) on every container",
    evaluate: unmaskedProc,
  },
  {
    check: "restrictedVolumes",
    id: "pod-security/restricted-volumes",
    level: "restricted",
    overrides: "pod-security/host-path-volumes",
    description: "Volumes must be configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret.",
    fix: "replace the volume with one of the allowed types, e.g. a persistentVolumeClaim for node or network storage",
    // A volume with no source at all is defaulted to emptyDir by the API server, so it passes.
    evaluate: (pod) =>
      volumes(pod).flatMap(({ volume, path, name }) =>
        Object.entries(volume)
          .filter(([source, value]) => source !== "name" && isSet(value) && !restrictedVolumeSources.has(source))
          .map(([source]) => violation(`${path}.${source}`, `volume "${name}" uses the restricted volume type ${source}`)),
      ),
  },
  {
    check: "runAsNonRoot",
    id: "pod-security/run-as-non-root",
    level: "restricted",
    description: "The pod or every container must set runAsNonRoot: true, and none may set it to false (unless hostUsers: false, v1.35+).",
    fix: "set securityContext.runAsNonRoot: true on the pod (containers inherit it) and remove runAsNonRoot: false from containers",
    userNamespaceExemptSince: "v1.35",
    evaluate: (pod) => [
      ...contexts(pod)
        .filter(({ fields: sc }) => sc?.runAsNonRoot === false)
        .map(({ path, who }) => violation(`${path}.runAsNonRoot`, `${who} sets runAsNonRoot: false`)),
      ...unsetInPodAndContainers(pod, "runAsNonRoot", "runAsNonRoot: true"),
    ],
  },
  {
    check: "runAsUser",
    id: "pod-security/run-as-user",
    level: "restricted",
    description: "Neither the pod nor a container may set runAsUser: 0 (unless hostUsers: false, v1.35+).",
    fix: "set securityContext.runAsUser to a non-zero UID, or remove it and rely on the image's non-root user",
    userNamespaceExemptSince: "v1.35",
    evaluate: (pod) =>
      contexts(pod)
        .filter(({ fields: sc }) => sc?.runAsUser === 0)
        .map(({ path, who }) => violation(`${path}.runAsUser`, `${who} sets runAsUser: 0 (root)`)),
  },
  {
    check: "seccompProfile_restricted",
    id: "pod-security/seccomp-profile-restricted",
    level: "restricted",
    overrides: "pod-security/seccomp-profile-baseline",
    description: "The pod or every container must set seccompProfile.type RuntimeDefault or Localhost (Windows pods excepted).",
    fix: "set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod (containers inherit it)",
    evaluate: (pod) => {
      if (pod.windows) return [];
      return [...unconfinedSeccomp(pod), ...unsetInPodAndContainers(pod, "seccompProfile", "seccompProfile.type: RuntimeDefault or Localhost")];
    },
  },
];

/** The check exists at the version (upstream: a VersionedCheck whose MinimumVersion is at or below it). */
const existsAt = (check: Check, version: PolicyVersion) => atLeast(version, check.since);

/** Whether upstream runs the check at a level and version: it exists there and, at restricted, nothing there overrides it. */
function runsAt(check: Check, level: Level, version: PolicyVersion): boolean {
  if (level === "baseline" && check.level !== "baseline") return false;
  if (!existsAt(check, version)) return false;
  return level === "baseline" || !checks.some((other) => other.overrides === check.id && existsAt(other, version));
}

const policyVersionRule: Rule = {
  id: "pod-security/policy-version",
  severity: "error",
  description: `A Namespace's ${enforceVersionLabel} is latest or a version the rules know (${oldestVersion} to ${newestVersion}), so its pods are judged as its API server judges them.`,
  fix: `set the label to the cluster's v1.<minor> (the layer writes v<common.kubernetesVersion>, generator/config/common.ts); for a version beyond ${newestVersion}, vendor its upstream fixtures (npm run vendor-pss-fixtures) and teach policies/rules/pod-security.ts its checks`,
  check: (manifest) => {
    if (manifest.apiVersion !== "v1" || manifest.kind !== "Namespace") return [];
    const resolved = policyVersionOf(manifest.metadata?.labels?.[enforceVersionLabel]);
    return "problem" in resolved
      ? [violation(`metadata.labels["${enforceVersionLabel}"]`, `Namespace ${manifest.metadata?.name ?? "(unnamed)"}: ${enforceVersionLabel} ${resolved.problem}`)]
      : [];
  },
};

/** A level's rules: every check that runs at the level at some version the rules know, and the version rule. */
function levelRules(level: Level): Rule[] {
  return [
    policyVersionRule,
    ...checks
      .filter((check) => policyVersions.some((version) => runsAt(check, level, version)))
      .map((podCheck): Rule => ({
        id: podCheck.id,
        severity: "error",
        description: podCheck.description,
        fix: podCheck.fix,
        check: (manifest, context) => {
          const pod = podOf(manifest);
          const version = pod && judgedAt(manifest, context);
          if (!pod || !version || !runsAt(podCheck, level, version)) return [];
          const exempt = podCheck.userNamespaceExemptSince !== undefined && pod.userNamespace && atLeast(version, podCheck.userNamespaceExemptSince);
          return exempt ? [] : podCheck.evaluate(pod, version);
        },
      })),
  ];
}

/** Each level's rules; the layer's namespaces enforce restricted (policies/rules/index.ts). */
export const podSecurityLevels: Readonly<Record<Level, readonly Rule[]>> = { baseline: levelRules("baseline"), restricted: levelRules("restricted") };

/** Upstream fixture name prefix (the lower-cased check ID, e.g. `runasnonroot`) -> rule id. */
export const pssCheckRule: Record<string, string> = Object.fromEntries(checks.map((c) => [c.check.toLowerCase(), c.id]));
