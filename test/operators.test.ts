// The operators: which ones an environment runs (from what its components render, never from a
// list), their Helm charts pinned in config, the Applications and AppProject that install them,
// their namespaces under the restricted Pod Security Standard, and the NetworkPolicies of what
// they need. Production, whose PostgreSQL runs on CloudNativePG and backs up through the Barman
// Cloud plugin, exercises the whole chain.
import { join } from "node:path";
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { ScheduledBackup } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/ScheduledBackup";
import { describe, expect, it } from "vitest";
import { externalSecrets } from "../generator/components/external-secrets.ts";
import { secretsRead } from "../generator/components/index.ts";
import { operatorsUsed } from "../generator/components/operators.ts";
import { common } from "../generator/config/common.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { holdsData } from "../generator/lib/labels.ts";
import { decide, type Endpoint, type NetworkPolicyLike } from "../generator/lib/reachability.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { networkRules } from "../policies/rules/network.ts";
import type { Source } from "../policies/engine.ts";
import { cluster, plan } from "./support/operators.ts";
import { plain, productionWith, stagingWith } from "./support/config.ts";
import { kustomizeBuild, type PlainObject, subfolders } from "./support/repo.ts";
import { strictValidator } from "./support/schemas.ts";

const repo = join(import.meta.dirname, "..");
const spec = (o: unknown) => (o as { spec: any }).spec;
const names = (operators: readonly { name: string }[]) => operators.map((o) => o.name);
const esoStaging = stagingWith({
  secrets: {
    kind: "external-secrets",
    store: { kind: "ClusterSecretStore", name: "staging-vault" },
    remoteKeyPrefix: "nx/staging",
    refreshInterval: "30m",
    endpoint: { cidrs: ["10.1.0.0/24"], port: 8200 },
  },
  apiServer: { cidrs: ["10.2.0.0/28"] },
});

describe("which operators an environment runs follows from what its components render", () => {
  const objectsOf = (env: Environment) => environmentObjects(env).objects.map((o) => o.object);

  it("needs none for staging's StatefulSets and Secrets made by hand", () => {
    expect(operatorsUsed(staging, objectsOf(staging))).toEqual([]);
  });

  it("needs CloudNativePG for a Cluster, and cert-manager and the plugin once it backs up through the plugin", () => {
    const ns = staging.common.namespaces.persistent;
    expect(names(operatorsUsed(staging, [cluster(ns, false)]))).toEqual(["cloudnative-pg"]);
    expect(names(operatorsUsed(staging, [cluster(ns, true)]))).toEqual(["cert-manager", "cloudnative-pg", "plugin-barman-cloud"]);
    const backup = new ScheduledBackup({
      metadata: { name: "daily", namespace: ns },
      spec: { cluster: { name: "nx-postgresql" }, schedule: "0 0 2 * * *", method: "plugin", pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" } },
    });
    expect(names(operatorsUsed(staging, [backup]))).toEqual(["cert-manager", "cloudnative-pg", "plugin-barman-cloud"]);
  });

  it("needs the External Secrets Operator wherever Secrets come from a store, staging too", () => {
    expect(names(operatorsUsed(production, objectsOf(production)))).toContain("external-secrets");
    expect(names(operatorsUsed(esoStaging, objectsOf(esoStaging)))).toEqual(["external-secrets"]);
    expect(plan(esoStaging).applications.map((a) => a.metadata?.name)).toContain("external-secrets");
  });

  it("renders nothing of an operator for staging as committed: no namespace, no chart, no project", () => {
    const operatorNamespaces = Object.values(common.operatorNamespaces);
    expect(subfolders(join(repo, "overlays", "staging")).filter((ns) => operatorNamespaces.includes(ns))).toEqual([]);
    const argocd = [...kustomizeBuild(join(repo, "argocd/staging/apps")), ...kustomizeBuild(join(repo, "argocd/staging/bootstrap"))];
    expect(argocd.filter((o) => spec(o)?.source?.chart)).toEqual([]);
    expect(argocd.filter((o) => o.metadata?.name === common.delivery.projects.operators)).toEqual([]);
  });
});

describe("the operators' charts", () => {
  const { applications } = plan(production);
  const chartApp = (chart: string) => applications.find((a) => a.spec?.source?.chart === chart)!;

  it("install each chart at the exact version pinned in config, from its repository", () => {
    for (const pinned of Object.values(common.charts)) {
      expect(pinned.version, pinned.chart).toMatch(/^v?\d+\.\d+\.\d+$/);
      expect(chartApp(pinned.chart).spec?.source).toMatchObject({ repoURL: pinned.repository, chart: pinned.chart, targetRevision: pinned.version });
    }
    expect(Object.values(common.charts).map((c) => `${c.chart} ${c.version}`)).toEqual([
      "cert-manager v1.21.1",
      "cloudnative-pg 0.29.0",
      "plugin-barman-cloud 0.7.0",
      "external-secrets 2.9.0",
      "strimzi-kafka-operator 1.2.0",
    ]);
  });

  it("name each Application as its Helm release, in the operator's own namespace; the plugin shares CloudNativePG's", () => {
    const where = Object.fromEntries(Object.values(common.charts).map((c) => [c.chart, chartApp(c.chart).spec?.destination.namespace]));
    expect(where).toEqual({
      "cert-manager": "cert-manager",
      "cloudnative-pg": "cnpg-system",
      "plugin-barman-cloud": "cnpg-system",
      "external-secrets": "external-secrets",
      "strimzi-kafka-operator": "strimzi-system",
    });
    for (const c of Object.values(common.charts)) expect(chartApp(c.chart).spec?.source?.helm?.releaseName).toBe(chartApp(c.chart).metadata?.name);
  });

  it("install the CRDs with the chart, and keep cert-manager's leader election in its namespace", () => {
    const values = (chart: string) => chartApp(chart).spec?.source?.helm?.valuesObject;
    expect(values("cert-manager")).toEqual({ crds: { enabled: true, keep: true }, global: { leaderElection: { namespace: "cert-manager" } } });
    expect(values("cloudnative-pg")).toEqual({ crds: { create: true } });
    expect(values("plugin-barman-cloud")).toEqual({ crds: { create: true } });
    expect(values("external-secrets")).toEqual({ installCRDs: true, crds: { annotations: { "argocd.argoproj.io/sync-options": "Prune=false,Delete=false" } } });
  });

  it("apply server-side, fail on a shared object, never prune by themselves and never create their namespace", () => {
    const automated = plan(esoStaging).applications.find((a) => a.metadata?.name === "external-secrets")!;
    expect(automated.spec?.syncPolicy?.automated).toEqual({ prune: false, selfHeal: true });
    for (const app of [...Object.values(common.charts).map((c) => chartApp(c.chart)), automated]) {
      const policy = app.spec?.syncPolicy;
      expect(policy?.syncOptions, app.metadata?.name).toEqual(expect.arrayContaining(["ServerSideApply=true", "FailOnSharedResource=true"]));
      expect(policy?.syncOptions?.join(","), app.metadata?.name).not.toMatch(/CreateNamespace|Replace=true|Force=true/);
      expect(policy?.managedNamespaceMetadata, app.metadata?.name).toBeUndefined();
    }
    // Production's children sync by hand.
    for (const app of applications.filter((a) => a.spec?.project !== common.delivery.projects.root)) expect(app.spec?.syncPolicy?.automated).toBeUndefined();
  });

  it("skip the dry run of CRs whose CRD another Application installs: the plugin's Certificates, the data namespaces' CRs", () => {
    const skips = (a: unknown) => (spec(a)?.syncPolicy?.syncOptions ?? []).includes("SkipDryRunOnMissingResource=true");
    const skipping = applications.filter(skips).map((a) => a.metadata?.name).sort();
    expect(skipping).toEqual(["plugin-barman-cloud", "production-nx-broker", "production-nx-persistent", "production-nx-search"]);
    // Staging's objects are all built-in kinds.
    expect(kustomizeBuild(join(repo, "argocd/staging/apps")).filter(skips)).toEqual([]);
  });
});

describe("the operators' AppProject", () => {
  const { applications, projects } = plan(production);
  const operators = projects.find((p) => p.metadata?.name === common.delivery.projects.operators)!;
  const namespaces = ["cert-manager", "cnpg-system", "external-secrets", "strimzi-system"];

  it("sources the chart repositories, and the layer's repository for the operators' namespaces", () => {
    expect(operators.spec?.sourceRepos).toEqual([
      common.delivery.source.repoURL,
      "https://charts.jetstack.io",
      "https://cloudnative-pg.github.io/charts",
      "https://charts.external-secrets.io",
      "https://strimzi.io/charts/",
    ]);
  });

  it("deploys into the operators' namespaces, and the namespace Strimzi watches (its chart's RoleBindings)", () => {
    expect(operators.spec?.destinations).toEqual([...namespaces, "nx-broker"].map((namespace) => ({ server: common.delivery.destinationServer, namespace })));
  });

  it("allows cluster-wide only the CRDs of the groups the operators serve, RBAC, webhooks and their Namespaces by name", () => {
    expect(operators.spec?.clusterResourceWhitelist).toEqual([
      ...["cert-manager.io", "acme.cert-manager.io", "postgresql.cnpg.io", "barmancloud.cnpg.io", "external-secrets.io", "generators.external-secrets.io", "kafka.strimzi.io", "core.strimzi.io"].map((g) => ({
        group: "apiextensions.k8s.io",
        kind: "CustomResourceDefinition",
        name: `*.${g}`,
      })),
      { group: "rbac.authorization.k8s.io", kind: "ClusterRole" },
      { group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding" },
      { group: "admissionregistration.k8s.io", kind: "MutatingWebhookConfiguration" },
      { group: "admissionregistration.k8s.io", kind: "ValidatingWebhookConfiguration" },
      // nx-broker too: Strimzi watches it, so its Namespace is created with the operators' namespaces.
      ...[...namespaces, "nx-broker"].map((name) => ({ group: "", kind: "Namespace", name })),
    ]);
    // The charts make Secrets, Roles and RoleBindings in their namespaces, which the layer's project refuses.
    expect(operators.spec?.namespaceResourceBlacklist).toEqual([{ group: "", kind: "ResourceQuota" }, { group: "", kind: "LimitRange" }]);
    expect(operators.metadata?.finalizers).toEqual(["resources-finalizer.argocd.argoproj.io"]);
  });

  it("holds every operator Application, and no Application of the data namespaces", () => {
    const inProject = applications.filter((a) => a.spec?.project === common.delivery.projects.operators);
    expect(inProject.map((a) => a.spec?.destination.namespace).every((ns) => namespaces.includes(ns!))).toBe(true);
    expect(inProject.map((a) => a.metadata?.name).sort()).toEqual([
      "cert-manager",
      "cloudnative-pg",
      "external-secrets",
      "plugin-barman-cloud",
      "production-cert-manager",
      "production-cnpg-system",
      "production-external-secrets",
      "production-strimzi-system",
      "strimzi",
    ]);
  });

  it("validates every Application and AppProject against the strict Argo CD schemas", async () => {
    const validator = strictValidator();
    for (const o of [...applications, ...projects]) {
      expect(await validator.validate(plain<PlainObject>({ toJSON: () => o })), `${o.kind} ${o.metadata?.name}`).toMatchObject({ status: "valid" });
    }
  });
});

describe("the operators' namespaces", () => {
  const { rendered } = plan(production);
  const objects = rendered.objects.map((o) => plain<PlainObject & { spec?: any }>(o.object));
  const namespaceObjects = objects.filter((o) => o.kind === "Namespace" && ["cert-manager", "cnpg-system", "external-secrets"].includes(o.metadata!.name!));

  it("are rendered once each by the layer, enforcing the restricted Pod Security Standard of the target version", () => {
    expect(namespaceObjects.map((n) => n.metadata?.name)).toEqual(["cert-manager", "cnpg-system", "external-secrets"]);
    for (const ns of namespaceObjects) {
      expect(ns.metadata?.labels, ns.metadata?.name).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.36",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      });
    }
  });

  it("are what production's overlays build, with their NetworkPolicies, from the operators' Application", () => {
    const built = kustomizeBuild(join(repo, "overlays/production/external-secrets"));
    expect(built.find((o) => o.kind === "Namespace")?.metadata?.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    expect(built.filter((o) => o.kind === "NetworkPolicy").map((o) => o.metadata?.name).sort()).toEqual([
      "allow-api-server",
      "allow-dns",
      "allow-external-secrets-to-store",
      "allow-external-secrets-webhook",
      "default-deny-all",
    ]);
  });
});

describe("the operators' NetworkPolicies", () => {
  const { rendered } = plan(production);
  const objects = rendered.objects.map((o) => plain<PlainObject>(o.object));
  const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as NetworkPolicyLike[];
  const namespaces = objects.filter((o) => o.kind === "Namespace").map((o) => ({ name: o.metadata!.name!, labels: {} }));
  const pod = (namespace: string, labels: Record<string, string>, what = JSON.stringify(labels)): Endpoint => ({ namespace, labels, what });
  const chartPod = (namespace: string, name: string, release: string) => pod(namespace, { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release });
  const external = (ip: string | undefined, what: string): Endpoint => ({ namespace: "", labels: {}, external: true, ...(ip ? { ip } : {}), what });
  const cnpg = chartPod("cnpg-system", "cloudnative-pg", "cloudnative-pg");
  const plugin = chartPod("cnpg-system", "plugin-barman-cloud", "plugin-barman-cloud");
  const certManagerWebhook = chartPod("cert-manager", "webhook", "cert-manager");
  const esoController = chartPod("external-secrets", "external-secrets", "external-secrets");
  const esoWebhook = chartPod("external-secrets", "external-secrets-webhook", "external-secrets");
  const apiServer = external("10.20.0.1", "API server");
  const internet = external("1.1.1.1", "internet");
  const anyPod = pod("nx-app", {}, "a pod in nx-app");
  const instance = pod("nx-persistent", { "cnpg.io/cluster": "nx-postgresql", "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": "primary" });
  const allowed = (from: Endpoint, to: Endpoint, port: number) => decide(policies, namespaces, from, to, port).allowed;

  it("deny by default in every operator namespace, and allow DNS", () => {
    for (const ns of ["cert-manager", "cnpg-system", "external-secrets"]) {
      const mine = policies.filter((p) => p.metadata?.namespace === ns).map((p) => p.metadata?.name);
      expect(mine, ns).toEqual(expect.arrayContaining(["default-deny-all", "allow-dns", "allow-api-server"]));
    }
    expect(allowed(anyPod, cnpg, 8080)).toBe(false);
  });

  it("let every operator pod reach the API server's addresses on its ports, and nothing else outside", () => {
    for (const from of [cnpg, plugin, certManagerWebhook, esoController, esoWebhook]) {
      for (const port of [443, 6443]) expect(allowed(from, apiServer, port), `${from.what}:${port}`).toBe(true);
      expect(allowed(from, internet, 443), from.what).toBe(false);
      expect(allowed(from, external("10.99.0.1", "elsewhere"), 6443), from.what).toBe(false);
      // The backup bucket's addresses are the instances' to reach, not the operators'.
      expect(allowed(from, external("10.30.0.1", "object storage"), 443), from.what).toBe(false);
    }
  });

  it("let the API server call each webhook on its port only; the port is open to any source (no selector names the API server)", () => {
    for (const [webhook, port] of [[certManagerWebhook, 10250], [cnpg, 9443], [esoWebhook, 10250]] as const) {
      expect(allowed(apiServer, webhook, port), webhook.what).toBe(true);
      expect(allowed(apiServer, webhook, 8080), webhook.what).toBe(false);
    }
    expect(allowed(apiServer, plugin, 9090)).toBe(false);
  });

  it("let the CloudNativePG operator reach its instances (status and PostgreSQL) and the plugin, and no one else reach the plugin", () => {
    // The instances' own side (admitting the operator) is the PostgreSQL component's.
    const egress = (to: Endpoint, port: number) => decide(policies, namespaces, cnpg, to, port).egress.allowedBy.length > 0;
    expect(egress(instance, 8000)).toBe(true);
    expect(egress(instance, 5432)).toBe(true);
    expect(egress(instance, 9187)).toBe(false);
    expect(egress(pod("nx-broker", { "app.kubernetes.io/name": "redis" }), 6379)).toBe(false);
    expect(allowed(cnpg, plugin, 9090)).toBe(true);
    expect(allowed(anyPod, plugin, 9090)).toBe(false);
    expect(allowed(pod("nx-backend", {}), plugin, 9090)).toBe(false);
    expect(allowed(esoController, plugin, 9090)).toBe(false);
  });

  it("let the External Secrets controller reach the secret store's address and port only", () => {
    expect(allowed(esoController, external("10.40.0.7", "store"), 8200)).toBe(true);
    expect(allowed(esoController, external("10.40.0.7", "store"), 443)).toBe(false);
    expect(allowed(esoWebhook, external("10.40.0.7", "store"), 8200)).toBe(false);
    expect(allowed(cnpg, external("10.40.0.7", "store"), 8200)).toBe(false);
  });

  it("need the API server's addresses once an environment runs an operator, naming the config field", () => {
    expect(() => plan(productionWith({ apiServer: { cidrs: [] } }))).toThrow(
      "production / operators / NetworkPolicy external-secrets/allow-api-server / apiServer.cidrs: lists no address: the operators could not reach it",
    );
    expect(() => plan(productionWith({ apiServer: { cidrs: ["10.30.0.0"] } }))).toThrow(
      'production / operators / NetworkPolicy external-secrets/allow-api-server / apiServer.cidrs[0]: "10.30.0.0" is not an IPv4 CIDR block (a.b.c.d/n)',
    );
    expect(() => plan(stagingWith({}))).not.toThrow();
  });
});

describe("the network policy rules on production's operators", () => {
  const sources = (objects: readonly PlainObject[]): Source[] => objects.map((manifest) => ({ manifest: manifest as Source["manifest"], file: "(test)" }));
  const built = kustomizeBuild(join(repo, "overlays/production"));
  const rule = (id: string) => networkRules.find((r) => r.id === id)!;
  // Judged as production's, as `npm run policy` judges overlays/production: with its declared flows.
  const run = (id: string, objects: readonly PlainObject[]) => (rule(id).checkAll?.({ all: sources(objects), environment: "production" }) ?? []).map((v) => v.message ?? v.path);

  it("prove the operators' needed flows on the committed overlays, and fail once one is blocked", () => {
    expect(run("network/needed-flow", built)).toEqual([]);
    const withoutStore = built.filter((o) => o.metadata?.name !== "allow-external-secrets-to-store");
    expect(run("network/needed-flow", withoutStore)).toEqual([
      expect.stringMatching(/^External Secrets controller -> the secret store \(10\.40\.0\.0\/24\):8200\/TCP is blocked \(the operator reads the secret store\)/),
    ]);
  });

  it("keep the operators' closed flows closed, and fail once a policy opens one", () => {
    expect(run("network/closed-flow", built)).toEqual([]);
    const open = built.map((o) =>
      o.kind === "NetworkPolicy" && o.metadata?.name === "allow-api-server" && o.metadata?.namespace === "external-secrets"
        ? { ...o, spec: { ...(o.spec as object), egress: [{ ports: [{ port: 443, protocol: "TCP" }] }] } }
        : o,
    );
    expect(run("network/closed-flow", open)).toEqual([expect.stringMatching(/^External Secrets controller -> an address on the internet:443\/TCP is open/)]);
  });

  it("admit operator namespaces by name in the layer's policies, and nothing else", () => {
    const admitting = (namespaceSelector: object): PlainObject => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-operator", namespace: "nx-persistent" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector }], ports: [{ port: 8000 }] }] },
    });
    expect(run("network/ingress-sources", [admitting({ matchLabels: { "kubernetes.io/metadata.name": "cnpg-system" } })])).toEqual([]);
    expect(run("network/ingress-sources", [admitting({ matchLabels: { "kubernetes.io/metadata.name": "monitoring" } })])).toEqual([
      "namespaceSelector admits monitoring, which is neither the layer, a client nor an operator",
    ]);
    expect(run("network/ingress-sources", [admitting({ matchLabels: { "app.kubernetes.io/part-of": "cnpg" } })])).toHaveLength(1);
  });

  it("judge the operators' own policies too: the webhooks' open port is an exception with a reason", () => {
    const webhooks = built.filter((o) => o.kind === "NetworkPolicy" && String(o.metadata?.name).endsWith("-webhook"));
    expect(webhooks.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort()).toEqual([
      "cert-manager/allow-cert-manager-webhook",
      "cnpg-system/allow-cloudnative-pg-webhook",
      "external-secrets/allow-external-secrets-webhook",
    ]);
    expect(run("network/ingress-sources", webhooks)).toEqual(webhooks.map(() => "admits every source, in any namespace"));
  });
});

describe("ExternalSecrets", () => {
  const externals = environmentObjects(production)
    .objects.map((o) => plain<PlainObject & { spec: any }>(o.object))
    .filter((o) => o.kind === "ExternalSecret");

  it("write every Secret the components declare, once per namespace, every key from <prefix>/<Secret>", () => {
    const declared = secretsRead(production).flatMap((r) => r.secrets.map((s) => `${r.namespace}/${s.name}/${s.key}`));
    const written = externals.flatMap((e) => e.spec.data.map((d: any) => `${e.metadata?.namespace}/${e.spec.target.name}/${d.secretKey}`));
    expect(written.sort()).toEqual([...new Set(declared)].sort());
    for (const e of externals) {
      expect(e.metadata?.name).toBe(e.spec.target.name);
      for (const d of e.spec.data) expect(d.remoteRef).toMatchObject({ key: `nx-data-layer/production/${e.metadata?.name}`, property: d.secretKey });
    }
  });

  it("read the store named in config, writing out what ESO and the API server would default", () => {
    for (const e of externals) {
      expect(e.spec).toMatchObject({
        refreshInterval: "1h",
        secretStoreRef: { kind: "ClusterSecretStore", name: "nx-vault" },
        target: { creationPolicy: "Owner", deletionPolicy: "Retain" },
      });
      for (const d of e.spec.data) expect(d.remoteRef).toMatchObject({ conversionStrategy: "Default", decodingStrategy: "None", metadataPolicy: "None" });
    }
  });

  it("are valid against the strict External Secrets schema", async () => {
    const validator = strictValidator();
    for (const e of externals) expect(await validator.validate(e), e.metadata?.name).toMatchObject({ status: "valid" });
  });

  it("give a Secret its type (a template of that type, with the defaults written out), and refuse one Secret of two types", () => {
    const ref = (type?: string) => ({ name: "nx-postgresql-app", key: "username", holds: "the user", ...(type ? { type } : {}) });
    const [typed] = externalSecrets(production, [{ namespace: "nx-persistent", secrets: [ref("kubernetes.io/basic-auth"), { ...ref("kubernetes.io/basic-auth"), key: "password" }] }]);
    expect(plain<any>(typed!).spec.target).toEqual({
      name: "nx-postgresql-app",
      creationPolicy: "Owner",
      deletionPolicy: "Retain",
      template: { type: "kubernetes.io/basic-auth", engineVersion: "v2", mergePolicy: "Replace" },
    });
    expect(plain<any>(typed!).spec.data.map((d: any) => d.secretKey)).toEqual(["username", "password"]);
    expect(() => externalSecrets(production, [{ namespace: "nx-persistent", secrets: [ref("kubernetes.io/basic-auth"), ref()] }])).toThrow(
      "Secret nx-postgresql-app is declared both as kubernetes.io/basic-auth and as Opaque",
    );
    expect(externalSecrets(staging, [{ namespace: "nx-persistent", secrets: [ref()] }])).toEqual([]);
  });

  it("are required for every Secret a pod or CR reads: an undeclared one fails generate, naming the object and field", () => {
    // A second Cluster, beside production's, whose bootstrap and managed role read Secret `name`.
    const reads = (name: string) => () => [
      new Cluster({
        metadata: { name: "nx-rogue", namespace: "nx-persistent", annotations: holdsData },
        spec: {
          instances: 1,
          imageName: "ghcr.io/cloudnative-pg/postgresql:17.11-minimal-trixie",
          storage: { size: "1Gi" },
          bootstrap: { initdb: { secret: { name } } },
          managed: { roles: [{ name: "x", passwordSecret: { name } }] },
        },
      }),
    ];
    expect(() => plan(production, { rogue: reads("nx-undeclared") })).toThrow(
      "production / rogue / Cluster nx-persistent/nx-rogue / spec.bootstrap.initdb.secret: reads Secret nx-undeclared, which no ExternalSecret in nx-persistent writes",
    );
    expect(() => plan(production, { rogue: reads("nx-undeclared") })).toThrow(
      "production / rogue / Cluster nx-persistent/nx-rogue / spec.managed.roles[0].passwordSecret: reads Secret nx-undeclared",
    );
    expect(() => plan(production, { rogue: reads("nx-postgresql-app") })).not.toThrow();
  });

  it("are not rendered where Secrets are made by hand", () => {
    expect(environmentObjects(staging).objects.filter((o) => o.object.kind === "ExternalSecret")).toEqual([]);
  });
});

describe("the secret store in config", () => {
  const withStore = (change: object) => productionWith({ secrets: { ...production.secrets, ...change } as Environment["secrets"] });
  const failures = (env: Environment) => {
    try {
      plan(env);
      return [];
    } catch (err) {
      return String((err as Error).message).split("\n").slice(1).map((l) => l.trim());
    }
  };

  it.each<[string, object, string]>([
    ["a missing store name", { store: { kind: "ClusterSecretStore", name: "" } },
      'production / external-secrets / ExternalSecret (each) / secrets.store.name: "" is not the name of a ClusterSecretStore: name the store the External Secrets Operator reads the Secrets from'],
    ["a store kind ESO does not know", { store: { kind: "VaultStore", name: "nx-vault" } },
      'production / external-secrets / ExternalSecret (each) / secrets.store.kind: "VaultStore" is not one of ClusterSecretStore, SecretStore'],
    ["a refresh interval that is not a duration", { refreshInterval: "hourly" },
      'production / external-secrets / ExternalSecret (each) / secrets.refreshInterval: "hourly" is not a duration such as 1h or 30m'],
    ["a remote key prefix ending in a slash", { remoteKeyPrefix: "nx/" },
      'production / external-secrets / ExternalSecret (each) / secrets.remoteKeyPrefix: "nx/" must be a non-empty path without a trailing slash (remote keys are <prefix>/<Secret name>)'],
    ["no store address", { endpoint: { cidrs: [], port: 8200 } },
      "production / operators / NetworkPolicy external-secrets/allow-external-secrets-to-store / secrets.endpoint.cidrs: lists no address: the operators could not reach it"],
  ])("fails on %s, naming environment, component, object and field", (_what, change, message) => {
    expect(failures(withStore(change))).toEqual([message]);
  });
});
