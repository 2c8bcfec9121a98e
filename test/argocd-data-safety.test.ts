// Data survives re-syncs and mistakes: every kind is classified as holding data or safe to prune,
// what holds data is marked and never pruned or deleted by Argo CD (an unclassified kind, or a mark
// that disagrees with its kind, fails generation), StatefulSets keep their volumes, init Jobs
// neither vanish (TTL) nor block a sync (immutable template), and nothing forces a delete-and-recreate.
import { join } from "node:path";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { describe, expect, it } from "vitest";
import { debeziumInitJob } from "../generator/components/debezium.ts";
import { kafkaScramInitJob } from "../generator/components/kafka/statefulsets.ts";
import { renderedObject, renderEnvironment } from "../generator/components/render.ts";
import { environments } from "../generator/config/environments.ts";
import { staging } from "../generator/config/staging.ts";
import { dataBearingKinds, prunableKinds } from "../generator/delivery/data-safety.ts";
import { withSyncWaves } from "../generator/delivery/waves.ts";
import { formatProblem, GenerationFailed } from "../generator/lib/errors.ts";
import { groupKind } from "../generator/lib/identity.ts";
import { holdsData, holdsDataAnnotation } from "../generator/lib/labels.ts";
import type { KubeObject } from "../generator/lib/objects.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { plain, stagingWith } from "./support/config.ts";
import { kustomizeBuild, type PlainObject } from "./support/repo.ts";

const repo = join(import.meta.dirname, "..");
type Meta = { annotations?: Record<string, string> };
const annotations = (o: PlainObject) => (o.metadata as Meta | undefined)?.annotations ?? {};
const id = (o: PlainObject) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

const childApps = kustomizeBuild(join(repo, "argocd", "staging", "apps"));
const synced = childApps.flatMap((app) => kustomizeBuild(join(repo, (app.spec as any).source.path)));

describe("What holds data is marked on the object", () => {
  const rendered = environments.flatMap((env) => environmentObjects(env).objects.map(({ object }) => ({ env: env.name, o: plain<PlainObject>(object) })));

  it.each(rendered.map(({ env, o }) => [`${env} ${id(o)}`, o] as const))("%s is of a classified kind, marked exactly when its kind holds data", (_id, o) => {
    const kind = groupKind(o);
    expect([...Object.keys(dataBearingKinds), ...Object.keys(prunableKinds)], `${kind} is unclassified`).toContain(kind);
    expect(annotations(o)[holdsDataAnnotation] === "true").toBe(kind in dataBearingKinds);
  });

  it("the mark alone keeps an object from being pruned or deleted", () => {
    for (const { o } of rendered) {
      const options = annotations(o)["argocd.argoproj.io/sync-options"];
      expect(options === "Prune=false,Delete=false", id(o)).toBe(annotations(o)[holdsDataAnnotation] === "true");
    }
  });
});

/** An object of any kind, as an operator's custom resource is rendered (validate() has no schema here). */
class Resource implements KubeObject {
  apiVersion!: string;
  kind!: string;
  metadata?: KubeObject["metadata"];
  constructor(data: { apiVersion: string; kind: string; metadata?: KubeObject["metadata"] }) {
    Object.assign(this, data);
  }
  validate(): void {}
  toJSON(): unknown {
    return { ...this };
  }
}

/** What the delivery stage says of staging with `extra` objects added: its problems, or none. */
function gate(...extra: KubeObject[]): string[] {
  const rendered = renderEnvironment(staging);
  try {
    withSyncWaves({ ...rendered, objects: [...rendered.objects, ...extra.map((object) => renderedObject("extra", object))] });
    return [];
  } catch (err) {
    if (err instanceof GenerationFailed) return err.problems.map(formatProblem);
    throw err;
  }
}

const custom = (apiVersion: string, kind: string, annotations?: Record<string, string>) =>
  new Resource({ apiVersion, kind, metadata: { name: "nx-postgresql", namespace: "nx-persistent", ...(annotations ? { annotations } : {}) } });
const mark = `metadata.annotations["${holdsDataAnnotation}"]`;

describe("The data-safety gate of the delivery stage", () => {
  it("fails generation on a kind classified neither as holding data nor as safe to prune, naming where", () => {
    const scaler = new HorizontalPodAutoscaler({
      metadata: { name: "nx-debezium", namespace: "nx-search" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "nx-debezium" }, maxReplicas: 3 },
    });
    expect(gate(scaler)).toEqual([
      "staging / extra / HorizontalPodAutoscaler nx-search/nx-debezium / kind: HorizontalPodAutoscaler.autoscaling is classified neither as holding data nor as safe to prune: add it to delivery/data-safety.ts, saying why",
    ]);
  });

  it("classifies by group and kind: another group's Cluster is not CloudNativePG's", () => {
    expect(gate(custom("postgresql.cnpg.io/v1", "Cluster", holdsData))).toEqual([]);
    expect(gate(custom("example.com/v1", "Cluster", holdsData))).toEqual([
      "staging / extra / Cluster nx-persistent/nx-postgresql / kind: Cluster.example.com is classified neither as holding data nor as safe to prune: add it to delivery/data-safety.ts, saying why",
    ]);
  });

  it.each([
    ["a CloudNativePG Cluster", "postgresql.cnpg.io/v1", "Cluster"],
    ["a CloudNativePG Database (its reclaim policy may drop the database)", "postgresql.cnpg.io/v1", "Database"],
    ["a Barman Cloud ObjectStore", "barmancloud.cnpg.io/v1", "ObjectStore"],
  ])("fails on %s that is not marked as holding data", (_what, apiVersion, kind) => {
    const [problem, ...more] = gate(custom(apiVersion, kind));
    expect(more).toEqual([]);
    expect(problem).toMatch(new RegExp(`^staging / extra / ${kind} nx-persistent/nx-postgresql / ${mark.replace(/[[\]"/.]/g, "\\$&")}: ${kind}\\.\\S+ holds data \\(`));
  });

  it("fails on a StatefulSet whose builder forgot the mark", () => {
    const rendered = renderEnvironment(staging);
    const unmarked = rendered.objects.map((o) => {
      const { component, object } = o;
      if (object.kind !== "StatefulSet") return o;
      const copy = plain<any>(object);
      delete copy.metadata.annotations[holdsDataAnnotation];
      return renderedObject(component, new Resource(copy));
    });
    const problems = (() => {
      try {
        withSyncWaves({ ...rendered, objects: unmarked });
        return [];
      } catch (err) {
        return (err as GenerationFailed).problems.map((p) => `${p.object} / ${p.field}`);
      }
    })();
    expect(problems).toEqual(
      rendered.objects.filter(({ object }) => object.kind === "StatefulSet").map(({ object }) => `StatefulSet ${object.metadata?.namespace}/${object.metadata?.name} / ${mark}`),
    );
  });

  it.each([
    ["an ExternalSecret (the store keeps its value)", "external-secrets.io/v1", "ExternalSecret"],
    ["a Pooler", "postgresql.cnpg.io/v1", "Pooler"],
    ["a ConfigMap", "v1", "ConfigMap"],
  ])("fails on %s marked as holding data: its kind is safe to prune", (_what, apiVersion, kind) => {
    expect(gate(custom(apiVersion, kind, holdsData))).toEqual([
      `staging / extra / ${kind} nx-persistent/nx-postgresql / ${mark}: ${groupKind({ apiVersion, kind })} is classified as safe to prune, yet marked as holding data: classify the kind as data-bearing (delivery/data-safety.ts) or drop the mark`,
    ]);
    expect(gate(custom(apiVersion, kind))).toEqual([]);
  });

  it("classifies the kinds production renders on CloudNativePG, Barman Cloud and External Secrets", () => {
    const kinds = ["Cluster", "Pooler", "ScheduledBackup", "Publication", "Database"].map((k) => `${k}.postgresql.cnpg.io`);
    for (const kind of [...kinds, "ObjectStore.barmancloud.cnpg.io", "ExternalSecret.external-secrets.io"]) {
      expect(kind in dataBearingKinds || kind in prunableKinds, kind).toBe(true);
    }
  });
});

describe("What Argo CD syncs for staging", () => {
  it("never prunes or deletes a Namespace or StatefulSet (removed from Git, or its Application deleted)", () => {
    const stateful = synced.filter((o) => ["Namespace", "StatefulSet", "PersistentVolumeClaim"].includes(o.kind));
    expect(stateful.map(id).sort()).toEqual([
      "Namespace /nx-broker",
      "Namespace /nx-persistent",
      "Namespace /nx-search",
      "StatefulSet nx-broker/nx-kafka",
      "StatefulSet nx-broker/nx-redis",
      "StatefulSet nx-persistent/nx-postgresql-primary",
      "StatefulSet nx-persistent/nx-postgresql-replica",
      "StatefulSet nx-search/nx-typesense",
    ]);
    for (const o of stateful) expect(annotations(o)["argocd.argoproj.io/sync-options"], id(o)).toBe("Prune=false,Delete=false");
  });

  it("keeps every StatefulSet's volumes when it is deleted or scaled down, with no drift on its claim templates", () => {
    for (const sts of synced.filter((o) => o.kind === "StatefulSet")) {
      const s = sts.spec as any;
      expect(s.persistentVolumeClaimRetentionPolicy, id(sts)).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
      for (const vct of s.volumeClaimTemplates) {
        expect(vct.apiVersion, id(sts)).toBe("v1");
        expect(vct.kind, id(sts)).toBe("PersistentVolumeClaim");
        expect(vct.status, id(sts)).toBeUndefined();
        expect(vct.metadata.creationTimestamp, id(sts)).toBeUndefined();
      }
    }
  });

  it("never forces a delete-and-recreate (no Force or Replace), and never creates a Namespace on its own", () => {
    for (const o of [...synced, ...childApps]) {
      const options = [annotations(o)["argocd.argoproj.io/sync-options"] ?? "", ...((o.spec as any)?.syncPolicy?.syncOptions ?? [])].join(",");
      expect(options, id(o)).not.toMatch(/Force=true|Replace=true|CreateNamespace=true/);
    }
  });

  it("keeps finished init Jobs (no ttlSecondsAfterFinished), bounded in time and retries", () => {
    const jobs = synced.filter((o) => o.kind === "Job");
    expect(jobs).toHaveLength(4);
    for (const job of jobs) {
      const s = job.spec as any;
      expect(s.ttlSecondsAfterFinished, id(job)).toBeUndefined();
      expect(s.backoffLimit, id(job)).toBeGreaterThan(0);
      expect(s.backoffLimit, id(job)).toBeLessThanOrEqual(6);
      expect(s.activeDeadlineSeconds, id(job)).toBeGreaterThan(0);
    }
  });

  it("owns each Namespace in exactly one Application, and fails a sync that would share an object", () => {
    const namespaces = synced.filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name);
    expect(namespaces.sort()).toEqual(["nx-broker", "nx-persistent", "nx-search"]);
    for (const app of childApps) expect((app.spec as any).syncPolicy.syncOptions).toContain("FailOnSharedResource=true");
  });
});

describe("A changed init Job is a new Job, never an in-place change of an immutable template", () => {
  const name = (job: { toJSON(): unknown }) => plain<any>(job).metadata.name as string;

  it("keeps the name when the change does not touch the Job (so it never runs again)", () => {
    const unrelated = stagingWith({ kafka: { cluster: { storage: "50Gi", resources: { limits: { memory: "3Gi" } } } }, typesense: { replicas: 3 } });
    expect(name(kafkaScramInitJob(unrelated))).toBe(name(kafkaScramInitJob(staging)));
    expect(name(debeziumInitJob(unrelated))).toBe(name(debeziumInitJob(staging)));
  });

  it("gets a new name when its pod template changes", () => {
    const changed = kafkaScramInitJob(stagingWith({ kafka: { cluster: { scramIterations: 16384 } } }));
    expect(name(changed)).toMatch(/^nx-kafka-scram-init-[0-9a-f]{8}$/);
    expect(name(changed)).not.toBe(name(kafkaScramInitJob(staging)));
  });

  it("gets a new name when the connector config it registers changes, so the change is registered", () => {
    const changed = debeziumInitJob(stagingWith({ debezium: { topicPrefix: "nx2" } }));
    expect(name(changed)).not.toBe(name(debeziumInitJob(staging)));
  });

  it("never pairs one Job name with two different templates across environments", () => {
    const variants = [staging, stagingWith({ kafka: { cluster: { scramIterations: 4096 } } }), stagingWith({ redis: { masters: 5 } })];
    const templates = new Map<string, string>();
    for (const env of variants) {
      for (const { object } of environmentObjects(env).objects.filter((o) => o.object.kind === "Job")) {
        const job = plain<any>(object);
        const template = JSON.stringify(job.spec.template);
        expect(templates.get(job.metadata.name) ?? template, job.metadata.name).toBe(template);
        templates.set(job.metadata.name, template);
      }
    }
    // Four Jobs in staging, and one new name for each of the two variants' changed Jobs.
    expect(templates.size).toBe(6);
  });
});
