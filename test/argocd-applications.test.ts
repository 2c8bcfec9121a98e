// The Argo CD objects of every environment: one AppProject for the layer (one repository, three
// namespaces, Namespaces as the only cluster kind), an admin-only project for the root apps, one
// root app-of-apps and one child Application per namespace overlay, all valid against the strict
// Argo CD CRD schemas, with the sync policy each environment's config asks for.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planArgocd } from "../generator/argocd/applications.ts";
import { common } from "../generator/config/common.ts";
import { environments } from "../generator/config/environments.ts";
import { buildOutput, environmentObjects } from "../generator/pipeline.ts";
import { kustomizeBuild, type PlainObject, parseYaml, subfolders } from "./support/repo.ts";
import { stagingWith } from "./support/config.ts";
import { strictValidator } from "./support/schemas.ts";

const repo = join(import.meta.dirname, "..");
const spec = (o: PlainObject) => o.spec as any;

describe.each(environments.map((e) => e.name))("Argo CD objects of %s", (env) => {
  const bootstrap = kustomizeBuild(join(repo, "argocd", env, "bootstrap"));
  const apps = kustomizeBuild(join(repo, "argocd", env, "apps"));
  const projects = bootstrap.filter((o) => o.kind === "AppProject");
  const applications = [...bootstrap, ...apps].filter((o) => o.kind === "Application");
  const project = (name: string) => projects.find((p) => p.metadata?.name === name)!;
  const layer = project(common.delivery.projects.layer);
  const root = project(common.delivery.projects.root);

  it("limits the layer's project to the exact repository, the three namespaces and Namespaces", () => {
    expect(spec(layer).sourceRepos).toEqual([common.delivery.source.repoURL]);
    expect(spec(layer).destinations).toEqual(
      ["nx-persistent", "nx-broker", "nx-search"].map((namespace) => ({ namespace, server: "https://kubernetes.default.svc" })),
    );
    expect(spec(layer).clusterResourceWhitelist).toEqual(
      ["nx-persistent", "nx-broker", "nx-search"].map((name) => ({ group: "", kind: "Namespace", name })),
    );
    expect(spec(layer).namespaceResourceBlacklist).toContainEqual({ group: "", kind: "Secret" });
  });

  it("keeps the root apps in an admin-only project that can only create Applications in argocd", () => {
    expect(spec(root).sourceRepos).toEqual([common.delivery.source.repoURL]);
    expect(spec(root).destinations).toEqual([{ namespace: "argocd", server: "https://kubernetes.default.svc" }]);
    expect(spec(root).clusterResourceWhitelist).toEqual([]);
    expect(spec(root).namespaceResourceWhitelist).toEqual([{ group: "argoproj.io", kind: "Application" }]);
  });

  it("never uses the default project", () => {
    for (const app of applications) {
      expect(spec(app).project, app.metadata?.name).not.toBe("default");
      expect(projects.map((p) => p.metadata?.name), app.metadata?.name).toContain(spec(app).project);
    }
  });

  it("has one root app-of-apps, pointing at the child Applications", () => {
    const roots = bootstrap.filter((o) => o.kind === "Application");
    expect(roots).toHaveLength(1);
    expect(spec(roots[0]!).source.path).toBe(`argocd/${env}/apps`);
    expect(spec(roots[0]!).project).toBe(common.delivery.projects.root);
  });

  it("has one child Application per namespace overlay, each path existing and building", () => {
    // The others install an operator's Helm chart (test/operators.test.ts).
    const children = apps.filter((o) => o.kind === "Application" && !spec(o).source.chart);
    expect(children.map((a) => spec(a).source.path).sort()).toEqual(
      subfolders(join(repo, "overlays", env)).map((ns) => `overlays/${env}/${ns}`).sort(),
    );
    // An Application delivers its namespace's objects, and the Namespaces of those its operator watches.
    const rendered = environmentObjects(environments.find((e) => e.name === env)!).objects;
    for (const app of children) {
      const namespace = spec(app).destination.namespace;
      const objects = kustomizeBuild(join(repo, spec(app).source.path));
      const watched = rendered.filter((o) => o.deliveredWith === namespace).map((o) => o.object.metadata?.name);
      const namespaces = new Set(objects.map((o) => (o.kind === "Namespace" ? o.metadata?.name : o.metadata?.namespace)));
      expect([...namespaces].sort(), spec(app).source.path).toEqual([namespace, ...watched].sort());
    }
  });

  it("takes the repository URL and target revision from the one place in config", () => {
    for (const app of applications.filter((a) => !spec(a).source.chart)) {
      expect(spec(app).source.repoURL).toBe(common.delivery.source.repoURL);
      expect(spec(app).source.targetRevision).toBe(common.delivery.source.targetRevision);
    }
  });

  it("retries failed syncs with backoff and applies server-side", () => {
    for (const app of applications) {
      expect(spec(app).syncPolicy.retry).toEqual({ limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } });
    }
    for (const app of apps) expect(spec(app).syncPolicy.syncOptions).toContain("ServerSideApply=true");
  });

  it("cannot cascade a deletion: no Application has a finalizer; the projects cannot be deleted while used", () => {
    for (const app of applications) expect(app.metadata?.finalizers, app.metadata?.name).toBeUndefined();
    for (const p of projects) expect(p.metadata?.finalizers).toEqual(["resources-finalizer.argocd.argoproj.io"]);
  });

  it("validates every Argo CD object and argocd-cm against the strict schemas", async () => {
    const validator = strictValidator();
    for (const o of [...bootstrap, ...apps]) {
      const result = await validator.validate(o);
      expect(result, `${o.kind} ${o.metadata?.name}`).toMatchObject({ status: "valid" });
    }
  });
});

describe("sync policy from config", () => {
  const childPolicies = (sync: "automated" | "manual") => {
    const env = stagingWith({ name: "production", sync });
    return buildOutput([env])
      .filter((f) => f.path.startsWith("argocd/production/apps/") && f.path.endsWith("-application.yaml"))
      .map((f) => (parseYaml(f.content, f.path)[0] as any).spec.syncPolicy);
  };

  it("is automated with prune and self-heal where the environment says automated (staging)", () => {
    expect(environments.find((e) => e.name === "staging")?.sync).toBe("automated");
    for (const policy of childPolicies("automated")) expect(policy.automated).toEqual({ prune: true, selfHeal: true });
  });

  it("is manual where the environment says manual (production)", () => {
    const policies = childPolicies("manual");
    expect(policies).toHaveLength(3);
    for (const policy of policies) expect(policy.automated).toBeUndefined();
  });

  it("follows a changed repository URL everywhere at once", () => {
    const env = stagingWith({ common: { delivery: { source: { repoURL: "https://git.example.com/nx/data-layer.git" } } } });
    const files = planArgocd([environmentObjects(env)], [
      ...["nx-persistent", "nx-broker", "nx-search"].map((ns) => ({ path: `overlays/staging/${ns}/kustomization.yaml`, documents: [] })),
    ]);
    const urls = files.flatMap((f) => f.documents as any[]).flatMap((d) => [d.spec?.source?.repoURL, ...(d.spec?.sourceRepos ?? [])]).filter(Boolean);
    expect(new Set(urls)).toEqual(new Set(["https://git.example.com/nx/data-layer.git"]));
    expect(urls.length).toBe(6);
  });
});
