// Data survives re-syncs and mistakes: what holds data is never pruned or deleted by Argo CD,
// StatefulSets keep their volumes, init Jobs neither vanish (TTL) nor block a sync (immutable
// template), and nothing forces a delete-and-recreate.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { debeziumInitJob } from "../generator/components/debezium.ts";
import { kafkaScramInitJob } from "../generator/components/kafka.ts";
import { environments } from "../generator/config/environments.ts";
import { staging } from "../generator/config/staging.ts";
import { holdsDataAnnotation } from "../generator/lib/labels.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { plain, stagingWith } from "./support/config.ts";
import { kustomizeBuild, type PlainObject } from "./support/repo.ts";

const repo = join(import.meta.dirname, "..");
type Meta = { annotations?: Record<string, string> };
const annotations = (o: PlainObject) => (o.metadata as Meta | undefined)?.annotations ?? {};
const id = (o: PlainObject) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

const childApps = kustomizeBuild(join(repo, "argocd", "staging", "apps"));
const synced = childApps.flatMap((app) => kustomizeBuild(join(repo, (app.spec as any).source.path)));

// Every kind the layer renders, classified: a new kind fails the test below until it is added here.
// "holds data": deleting it deletes data (its volumes, or everything in it); "disposable": Argo CD
// may prune and re-create it from Git at any time.
const kindSafety: Readonly<Record<string, "holds data" | "disposable">> = {
  Namespace: "holds data",
  StatefulSet: "holds data",
  PersistentVolumeClaim: "holds data",
  Deployment: "disposable",
  Job: "disposable",
  Service: "disposable",
  ConfigMap: "disposable",
  NetworkPolicy: "disposable",
  PodDisruptionBudget: "disposable",
  // Its Secret is a copy of the secret store's value, written again by the next sync.
  ExternalSecret: "disposable",
  // CloudNativePG: deleting a Cluster deletes its volume claims; the Barman Cloud store holds every
  // Cluster's archive and backups. A Pooler is stateless; a ScheduledBackup's Backups are records;
  // a Database's and a Publication's reclaim policy (retain) keeps what they made.
  Cluster: "holds data",
  ObjectStore: "holds data",
  Pooler: "disposable",
  ScheduledBackup: "disposable",
  Database: "disposable",
  Publication: "disposable",
};

describe("What holds data is marked on the object", () => {
  const rendered = environments.flatMap((env) => environmentObjects(env).objects.map(({ object }) => ({ env: env.name, o: plain<PlainObject>(object) })));

  it.each(rendered.map(({ env, o }) => [`${env} ${id(o)}`, o] as const))("%s is of a classified kind, marked exactly when its kind holds data", (_id, o) => {
    expect(Object.keys(kindSafety), `${o.kind} is neither classified as holding data nor as disposable`).toContain(o.kind);
    expect(annotations(o)[holdsDataAnnotation] === "true").toBe(kindSafety[o.kind] === "holds data");
  });

  it("the mark alone keeps an object from being pruned or deleted", () => {
    for (const { o } of rendered) {
      const options = annotations(o)["argocd.argoproj.io/sync-options"];
      expect(options === "Prune=false,Delete=false", id(o)).toBe(annotations(o)[holdsDataAnnotation] === "true");
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
    const unrelated = stagingWith({ kafka: { storage: "50Gi", resources: { limits: { memory: "3Gi" } } }, typesense: { replicas: 3 } });
    expect(name(kafkaScramInitJob(unrelated))).toBe(name(kafkaScramInitJob(staging)));
    expect(name(debeziumInitJob(unrelated))).toBe(name(debeziumInitJob(staging)));
  });

  it("gets a new name when its pod template changes", () => {
    const changed = kafkaScramInitJob(stagingWith({ kafka: { scramIterations: 16384 } }));
    expect(name(changed)).toMatch(/^nx-kafka-scram-init-[0-9a-f]{8}$/);
    expect(name(changed)).not.toBe(name(kafkaScramInitJob(staging)));
  });

  it("gets a new name when the connector config it registers changes, so the change is registered", () => {
    const changed = debeziumInitJob(stagingWith({ debezium: { topicPrefix: "nx2" } }));
    expect(name(changed)).not.toBe(name(debeziumInitJob(staging)));
  });

  it("never pairs one Job name with two different templates across environments", () => {
    const variants = [staging, stagingWith({ kafka: { scramIterations: 4096 } }), stagingWith({ redis: { masters: 5 } })];
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
