// An environment's rendered objects with the Argo CD files the generator plans for it: production's
// run the whole operator chain (cert-manager, CloudNativePG, the plugin, External Secrets); a
// minimal typed Cluster lets a test say which operators a Cluster alone needs.
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import type { IApplication } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application";
import type { IAppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject";
import { planArgocd } from "../../generator/argocd/applications.ts";
import { type Component, components } from "../../generator/components/index.ts";
import { barmanCloudPlugin } from "../../generator/components/postgres/backup.ts";
import { type RenderedEnvironment, renderEnvironment } from "../../generator/components/render.ts";
import type { Environment } from "../../generator/config/types.ts";
import { withSyncWaves } from "../../generator/delivery/waves.ts";
import { neutralBase } from "../../generator/config/environments.ts";
import { planLayout } from "../../generator/layout/plan.ts";

/** A minimal Cluster in `namespace`; with `plugin`, WAL archiving through the Barman Cloud plugin. */
export function cluster(namespace: string, plugin: boolean): Cluster {
  return new Cluster({
    metadata: { name: "nx-postgresql", namespace },
    spec: {
      instances: 3,
      imageName: "ghcr.io/cloudnative-pg/postgresql:17.11-minimal-trixie",
      storage: { size: "10Gi" },
      ...(plugin ? { plugins: [{ name: barmanCloudPlugin, isWALArchiver: true, parameters: { barmanObjectName: "nx-postgresql" } }] } : {}),
    },
  });
}

export interface Planned {
  readonly rendered: RenderedEnvironment;
  readonly applications: IApplication[];
  readonly projects: IAppProject[];
}

/** `env` rendered with the layer's components and `extra`, and the Argo CD objects planned for it. */
export function plan(env: Environment, extra: Readonly<Record<string, Component>> = {}): Planned {
  const rendered = withSyncWaves(renderEnvironment(env, { ...components, ...extra }));
  const documents = planArgocd([rendered], planLayout(withSyncWaves(renderEnvironment(neutralBase)), [rendered])).flatMap((f) => f.documents as unknown as { kind: string }[]);
  return {
    rendered,
    applications: documents.filter((d) => d.kind === "Application") as IApplication[],
    projects: documents.filter((d) => d.kind === "AppProject") as IAppProject[],
  };
}

