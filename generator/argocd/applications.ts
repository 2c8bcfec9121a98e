// The Argo CD side of each environment, rendered from the delivery config:
//   argocd/<env>/bootstrap/   applied once by an admin (`kubectl apply --server-side -k`): the
//                             AppProjects, the Application health check in argocd-cm, the root app
//   argocd/<env>/apps/        what the root app syncs: one Application per namespace overlay, and
//                             one per operator the environment runs (its Helm chart), in waves
//                             before the namespaces whose objects need them
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
import type { RenderedEnvironment } from "../components/render.ts";
import { type Operator, operatorsUsed } from "../components/operators.ts";
import type { Environment } from "../config/types.ts";
import type { Json } from "../lib/objects.ts";
import type { YamlFile } from "../layout/plan.ts";
import { GenerationFailed, type Problem } from "../lib/errors.ts";
import { groupOf, objectId } from "../lib/identity.ts";
import { recommendedLabels } from "../lib/labels.ts";
import { applicationHealthKey, applicationHealthLua, argocdWideNotice } from "./health.ts";
import { namespaceWaves, syncWaveAnnotation } from "../delivery/waves.ts";
import { plain } from "../lib/objects.ts";
import { byCodePoint } from "../lib/order.ts";

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

function syncPolicy(env: Environment, syncOptions: string[], prune = true) {
  return {
    // prune removes what Git removed, except objects annotated Prune=false (the stateful ones).
    ...(env.sync === "automated" ? { automated: { prune, selfHeal: true } } : {}),
    syncOptions,
    retry: env.common.delivery.retry,
  };
}

/** An AppProject sourcing the layer's repository (and `chartRepositories`); its finalizer blocks deletion while in use. */
function appProject(
  env: Environment,
  name: string,
  spec: Omit<NonNullable<IAppProject["spec"]>, "sourceRepos">,
  chartRepositories: string[] = [],
): IAppProject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { ...meta(env, name), finalizers: [projectFinalizer] },
    spec: { ...spec, sourceRepos: [env.common.delivery.source.repoURL, ...chartRepositories] },
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

/**
 * The operators' project: their chart repositories (and the layer's, for their namespaces'
 * overlays), their namespaces, and the cluster-wide kinds their charts install: the CRDs of the API
 * groups they serve, RBAC, admission webhooks, and their Namespaces by name. The layer's project
 * refuses Secrets and RBAC, which the charts need.
 */
function operatorsProject(env: Environment, operators: readonly Operator[]): IAppProject {
  const d = env.common.delivery;
  const namespaces = [...new Set(operators.map((o) => o.namespace))];
  // A chart that binds its Roles in the namespaces it watches writes there too (RoleBindings only:
  // the layer's project refuses RBAC, the operators' does not).
  const watched = [...new Set(operators.flatMap((o) => o.watches ?? []))].filter((ns) => !namespaces.includes(ns));
  const kinds = (group: string, ...names: string[]) => names.map((kind) => ({ group, kind }));
  return appProject(env, d.projects.operators, {
    description: `Operators of the nx data layer: ${operators.map((o) => `${o.name} ${o.chart.version}`).join(", ")}.`,
    destinations: [...namespaces, ...watched].map((namespace) => ({ server: d.destinationServer, namespace })),
    clusterResourceWhitelist: [
      ...operators.flatMap((o) => o.serves).map((group) => ({ group: "apiextensions.k8s.io", kind: "CustomResourceDefinition", name: `*.${group}` })),
      ...kinds("rbac.authorization.k8s.io", "ClusterRole", "ClusterRoleBinding"),
      ...kinds("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
      // A watched namespace is created with the operators' (components/render.ts deliveredWith).
      ...[...namespaces, ...watched].map((name) => ({ group: "", kind: "Namespace", name })),
    ],
    namespaceResourceBlacklist: kinds("", "ResourceQuota", "LimitRange"),
  }, [...new Set(operators.map((o) => o.chart.repository))]);
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

/**
 * The Application of one namespace overlay. `crsFromOperators`: some of its objects are of a kind an
 * operator's Application installs; without SkipDryRunOnMissingResource a sync started before that
 * CRD exists would fail whole at the dry run (the dry run still runs once the CRD is there).
 */
function childApplication(env: Environment, namespace: string, wave: number, project: string, crsFromOperators: boolean): IApplication {
  const d = env.common.delivery;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: meta(env, childApplicationName(env, namespace), { [syncWaveAnnotation]: String(wave) }),
    spec: {
      project,
      source: { ...d.source, path: `overlays/${env.name}/${namespace}` },
      destination: { server: d.destinationServer, namespace },
      // Server-side apply: no last-applied annotation, whose 256 KiB limit large objects exceed.
      // The overlay owns its Namespace, so Argo CD never creates one.
      syncPolicy: syncPolicy(env, [
        "ServerSideApply=true",
        "FailOnSharedResource=true",
        "PruneLast=true",
        ...(crsFromOperators ? ["SkipDryRunOnMissingResource=true"] : []),
      ]),
    },
  };
}

/**
 * An operator's Helm chart. The Application is named as the Helm release (an operator runs once per
 * cluster): Argo CD's label tracking would otherwise overwrite the chart's
 * `app.kubernetes.io/instance` selectors with a different name. Its namespace comes from the layer's
 * overlay of that namespace (an earlier wave), never from CreateNamespace.
 */
function chartApplication(env: Environment, operator: Operator, wave: number): IApplication {
  const d = env.common.delivery;
  const { chart } = operator;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: meta(env, operator.name, { [syncWaveAnnotation]: String(wave) }),
    spec: {
      project: d.projects.operators,
      source: {
        repoURL: chart.repository,
        chart: chart.chart,
        targetRevision: chart.version,
        helm: { releaseName: operator.name, valuesObject: operator.values },
      },
      destination: { server: d.destinationServer, namespace: operator.namespace },
      // Server-side apply: CloudNativePG's CRDs exceed the 256 KiB last-applied annotation. Never
      // pruned automatically: a CRD pruned takes every resource of its kind (a Cluster's volumes) with it.
      syncPolicy: syncPolicy(
        env,
        ["ServerSideApply=true", "FailOnSharedResource=true", ...(operator.requires.length ? ["SkipDryRunOnMissingResource=true"] : [])],
        false,
      ),
    },
  };
}

/**
 * The root app's waves for the operators: their namespaces (Namespace, NetworkPolicies) first, then
 * each chart one wave after the charts it requires, the last of them one wave before `firstDataWave`.
 */
function operatorWaves(operators: readonly Operator[], firstDataWave: number) {
  const depth = (o: Operator): number =>
    Math.max(-1, ...o.requires.map((name) => operators.find((r) => r.name === name)).filter((r) => r !== undefined).map(depth)) + 1;
  const deepest = Math.max(0, ...operators.map(depth));
  return {
    namespaces: firstDataWave - 2 - deepest,
    chart: (o: Operator) => firstDataWave - 1 - deepest + depth(o),
  };
}

/** The environment's child Applications: operators (namespaces, then charts) and the namespace overlays. */
function children(rendered: RenderedEnvironment, operators: readonly Operator[]): IApplication[] {
  const env = rendered.environment;
  const d = env.common.delivery;
  const objects = rendered.objects.map((o) => o.object);
  const served = new Set(operators.flatMap((o) => o.serves));
  const fromOperator = (namespace: string) =>
    objects.some((o) => o.metadata?.namespace === namespace && served.has(groupOf(o)));
  const layer = namespaceWaves(env);
  const waves = operatorWaves(operators, Math.min(...layer.map((a) => a.wave)));
  return [
    ...[...new Set(operators.map((o) => o.namespace))].map((ns) => childApplication(env, ns, waves.namespaces, d.projects.operators, false)),
    ...operators.map((o) => chartApplication(env, o, waves.chart(o))),
    ...layer.map((a) => childApplication(env, a.namespace, a.wave, d.projects.layer, fromOperator(a.namespace))),
  ];
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
    documents: [plain<Json>(o)],
    ...(o === notice?.on ? { notice: notice.text } : {}),
  }));
  const names = files.map((f) => f.path.slice(path.length + 1)).sort(byCodePoint);
  return [...files, { path: `${path}/kustomization.yaml`, documents: [kustomization(names)], ...(notice ? { notice: notice.text } : {}) }];
}

/**
 * The Argo CD files of every environment. `planned` is the layout's file list: every path an
 * Application names must be a kustomization in it. Throws GenerationFailed listing bad paths.
 */
export function planArgocd(environments: readonly RenderedEnvironment[], planned: readonly YamlFile[]): YamlFile[] {
  const suffix = "/kustomization.yaml";
  const kustomizations = new Set(planned.filter((f) => f.path.endsWith(suffix)).map((f) => f.path.slice(0, -suffix.length)));
  const problems: Problem[] = [];
  const files = environments.flatMap((rendered) => {
    const env = rendered.environment;
    const operators = operatorsUsed(env, rendered.objects.map((o) => o.object));
    const apps = children(rendered, operators);
    for (const app of apps) {
      const path = app.spec?.source?.path;
      if (path !== undefined && !kustomizations.has(path)) {
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
    const projects = [layerProject(env), rootProject(env), ...(operators.length ? [operatorsProject(env, operators)] : [])];
    const bootstrap = [...projects, argocdCm, rootApplication(env)];
    return [...folder(bootstrapPath(env), bootstrap, { text: argocdWideNotice, on: argocdCm }), ...folder(appsPath(env), apps)];
  });
  if (problems.length > 0) throw new GenerationFailed(problems);
  return files;
}
