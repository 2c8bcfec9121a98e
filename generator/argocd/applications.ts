// The Argo CD side of each environment, rendered from the delivery config:
//   argocd/<env>/bootstrap/   applied once by an admin (`kubectl apply --server-side -k`): the two
//                             AppProjects, the Application health check in argocd-cm, the root app
//   argocd/<env>/apps/        what the root app syncs: one Application per namespace overlay
// No Application carries the resources finalizer, so deleting one never cascades into the
// cluster; the AppProjects carry it so they cannot be deleted while Applications use them.
//
// The Argo CD objects are typed by @kubernetes-models/argo-cd's interfaces but not built with its
// classes: importing a class loads its whole validator (91 modules, ~35 ms of every generate) for
// a handful of objects built from typed config. They are validated against the stricter Argo CD
// CRD schemas instead (additionalProperties: false), in the tests and by `npm run validate`.
import type { IApplication } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application";
import type { IAppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { Environment } from "../config/types.ts";
import type { Json } from "../layout/json-patch.ts";
import type { YamlFile } from "../layout/plan.ts";
import { GenerationFailed, objectId, type Problem } from "../lib/errors.ts";
import { recommendedLabels } from "../lib/labels.ts";
import { applicationHealthKey, applicationHealthLua, argocdWideNotice } from "./health.ts";
import { syncWaveAnnotation } from "../delivery/waves.ts";

const projectFinalizer = "resources-finalizer.argocd.argoproj.io";

function meta(env: Environment, name: string, annotations?: Record<string, string>) {
  return {
    name,
    namespace: env.common.delivery.argocdNamespace,
    labels: recommendedLabels(env, { app: env.common.partOf, component: "argocd", instance: name }),
    ...(annotations ? { annotations } : {}),
  };
}

const rootApplicationName = (env: Environment) => `${env.common.partOf}-${env.name}`;
const childApplicationName = (env: Environment, namespace: string) => `${env.name}-${namespace}`;
const appsPath = (env: Environment) => `argocd/${env.name}/apps`;
const bootstrapPath = (env: Environment) => `argocd/${env.name}/bootstrap`;

function syncPolicy(env: Environment, syncOptions: string[]) {
  return {
    // prune removes what Git removed, except objects annotated Prune=false (the stateful ones).
    ...(env.sync === "automated" ? { automated: { prune: true, selfHeal: true } } : {}),
    syncOptions,
    retry: env.common.delivery.retry,
  };
}

/** An AppProject sourcing only the layer's repository; its finalizer blocks deletion while in use. */
function appProject(env: Environment, name: string, spec: Omit<NonNullable<IAppProject["spec"]>, "sourceRepos">): IAppProject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { ...meta(env, name), finalizers: [projectFinalizer] },
    spec: { ...spec, sourceRepos: [env.common.delivery.source.repoURL] },
  };
}

/** The layer's project: one repository, the three namespaces here, Namespaces as the only cluster kind. */
function layerProject(env: Environment): IAppProject {
  const d = env.common.delivery;
  return appProject(env, d.projects.layer, {
    description: "The nx data layer: PostgreSQL, PgBouncer, Redis, Kafka, Typesense, Debezium.",
    destinations: Object.values(env.common.namespaces).map((namespace) => ({ server: d.destinationServer, namespace })),
    clusterResourceWhitelist: Object.values(env.common.namespaces).map((name) => ({ group: "", kind: "Namespace", name })),
    // Secrets never come from Git; RBAC, quotas and limits belong to the platform, not the layer.
    namespaceResourceBlacklist: ["Secret", "ResourceQuota", "LimitRange"]
      .map((kind) => ({ group: "", kind }))
      .concat(["Role", "RoleBinding"].map((kind) => ({ group: "rbac.authorization.k8s.io", kind }))),
  });
}

/** The root apps' project: admin-only, it may only create Applications in Argo CD's namespace. */
function rootProject(env: Environment): IAppProject {
  const d = env.common.delivery;
  return appProject(env, d.projects.root, {
    description: "Root (app-of-apps) Applications of the nx data layer. Admin only.",
    destinations: [{ server: d.destinationServer, namespace: d.argocdNamespace }],
    clusterResourceWhitelist: [],
    namespaceResourceWhitelist: [{ group: "argoproj.io", kind: "Application" }],
  });
}

function healthCheckConfig(env: Environment): ConfigMap {
  return new ConfigMap({
    // Only this key is ours: applied server-side, the rest of argocd-cm keeps its owners.
    metadata: {
      name: "argocd-cm",
      namespace: env.common.delivery.argocdNamespace,
      labels: { "app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd" },
    },
    // Resource tracking is left as the admin set it (annotation, Argo CD 3's default): the layer
    // works under every method (docs/argocd.md).
    data: { [applicationHealthKey]: applicationHealthLua },
  });
}

function rootApplication(env: Environment): IApplication {
  const d = env.common.delivery;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: meta(env, rootApplicationName(env)),
    spec: {
      project: d.projects.root,
      source: { ...d.source, path: appsPath(env) },
      destination: { server: d.destinationServer, namespace: d.argocdNamespace },
      syncPolicy: syncPolicy(env, ["FailOnSharedResource=true"]),
    },
  };
}

function childApplication(env: Environment, namespace: string, wave: number): IApplication {
  const d = env.common.delivery;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: meta(env, childApplicationName(env, namespace), { [syncWaveAnnotation]: String(wave) }),
    spec: {
      project: d.projects.layer,
      source: { ...d.source, path: `overlays/${env.name}/${namespace}` },
      destination: { server: d.destinationServer, namespace },
      // Server-side apply: no last-applied annotation, whose 256 KiB limit large objects exceed.
      // The overlay owns its Namespace, so Argo CD never creates one.
      syncPolicy: syncPolicy(env, ["ServerSideApply=true", "FailOnSharedResource=true", "PruneLast=true"]),
    },
  };
}

const kustomization = (resources: string[]): Json => ({
  apiVersion: "kustomize.config.k8s.io/v1beta1",
  kind: "Kustomization",
  resources,
});

type ArgocdObject = IApplication | IAppProject | ConfigMap;

/** One file per object plus the kustomization; `notice` heads the kustomization and `notice.on`'s file. */
function folder(path: string, objects: ArgocdObject[], notice?: { readonly text: string; readonly on: ArgocdObject }): YamlFile[] {
  const files = objects.map((o) => ({
    path: `${path}/${o.metadata?.name}-${o.kind.toLowerCase()}.yaml`,
    documents: [JSON.parse(JSON.stringify(o)) as Json],
    ...(o === notice?.on ? { notice: notice.text } : {}),
  }));
  const names = files.map((f) => f.path.slice(path.length + 1)).sort();
  return [...files, { path: `${path}/kustomization.yaml`, documents: [kustomization(names)], ...(notice ? { notice: notice.text } : {}) }];
}

/**
 * The Argo CD files of every environment. `planned` is the layout's file list: every path an
 * Application names must be a kustomization in it. Throws GenerationFailed listing bad paths.
 */
export function planArgocd(environments: readonly Environment[], planned: readonly YamlFile[]): YamlFile[] {
  const suffix = "/kustomization.yaml";
  const kustomizations = new Set(planned.filter((f) => f.path.endsWith(suffix)).map((f) => f.path.slice(0, -suffix.length)));
  const problems: Problem[] = [];
  const files = environments.flatMap((env) => {
    const children = env.common.delivery.applications.map((a) => childApplication(env, a.namespace, a.wave));
    for (const app of children) {
      const path = app.spec?.source?.path ?? "";
      if (!kustomizations.has(path)) {
        problems.push({
          environment: env.name,
          component: "argocd",
          object: objectId(app),
          field: "spec.source.path",
          message: `${path} does not exist: the generator puts no objects in namespace ${app.spec?.destination.namespace}`,
        });
      }
    }
    const argocdCm = healthCheckConfig(env);
    const bootstrap = [layerProject(env), rootProject(env), argocdCm, rootApplication(env)];
    return [...folder(bootstrapPath(env), bootstrap, { text: argocdWideNotice, on: argocdCm }), ...folder(appsPath(env), children)];
  });
  if (problems.length > 0) throw new GenerationFailed(problems);
  return files;
}
