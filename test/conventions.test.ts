// What holds for every object of the staging layer, whichever component made it.
import { describe, expect, it } from "vitest";
import { renderEnvironment } from "../generator/components/render.ts";
import { staging } from "../generator/config/staging.ts";
import { secretsDoc } from "../generator/docs/secrets.ts";
import { plain } from "./support/config.ts";

const rendered = renderEnvironment(staging);
const objects = rendered.objects.map(({ object }) => plain<any>(object));
const podOwners = objects.filter((o) => ["Deployment", "StatefulSet", "Job"].includes(o.kind));
const id = (o: any) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const allContainers = (o: any) => [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers];

describe("Conventions of every object", () => {
  it("carries the recommended app.kubernetes.io labels", () => {
    for (const o of objects) {
      expect(Object.keys(o.metadata.labels).filter((k) => k.startsWith("app.kubernetes.io/")).sort(), id(o)).toEqual([
        "app.kubernetes.io/component",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/name",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/version",
      ]);
    }
  });

  it("selects pods by name and component only, never by version or instance", () => {
    for (const o of podOwners.filter((o) => o.kind !== "Job")) {
      expect(Object.keys(o.spec.selector.matchLabels).sort(), id(o)).toEqual(["app.kubernetes.io/component", "app.kubernetes.io/name"]);
      expect(o.spec.template.metadata.labels, id(o)).toMatchObject(o.spec.selector.matchLabels);
    }
  });

  it("has every Service select pods that some workload runs", () => {
    for (const svc of objects.filter((o) => o.kind === "Service")) {
      const owner = podOwners.find(
        (w) =>
          w.metadata.namespace === svc.metadata.namespace &&
          Object.entries(svc.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v),
      );
      expect(owner, id(svc)).toBeDefined();
      const named = allContainers(owner).flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
      for (const port of svc.spec.ports) expect(named, `${id(svc)} targetPort ${port.targetPort}`).toContain(port.targetPort);
    }
  });

  it("runs every pod under the restricted Pod Security Standard", () => {
    for (const o of podOwners) {
      const pod = o.spec.template.spec;
      expect(pod.securityContext, id(o)).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(pod.securityContext.runAsUser, id(o)).toBeGreaterThan(0);
      for (const c of allContainers(o)) {
        expect(c.securityContext, `${id(o)} ${c.name}`).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      }
    }
  });

  it("gives every container CPU and memory requests and limits", () => {
    for (const o of podOwners) {
      for (const c of allContainers(o)) {
        expect(Object.keys(c.resources.requests).sort(), `${id(o)} ${c.name}`).toEqual(["cpu", "memory"]);
        expect(Object.keys(c.resources.limits).sort(), `${id(o)} ${c.name}`).toEqual(["cpu", "memory"]);
      }
    }
  });

  it("probes readiness and liveness of every long-running container", () => {
    for (const o of podOwners.filter((o) => o.kind !== "Job")) {
      for (const c of o.spec.template.spec.containers) {
        expect(c.readinessProbe, `${id(o)} ${c.name}`).toBeDefined();
        expect(c.livenessProbe, `${id(o)} ${c.name}`).toBeDefined();
      }
    }
  });

  it("keeps database volumes when a StatefulSet is deleted or scaled down", () => {
    for (const sts of objects.filter((o) => o.kind === "StatefulSet")) {
      expect(sts.spec.persistentVolumeClaimRetentionPolicy, id(sts)).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
      for (const vct of sts.spec.volumeClaimTemplates) {
        expect(vct, id(sts)).toMatchObject({ apiVersion: "v1", kind: "PersistentVolumeClaim" });
        expect(vct.spec.storageClassName, id(sts)).toBe("csi-sc-vnpaycloud");
        expect(vct.spec.accessModes, id(sts)).toEqual(["ReadWriteOnce"]);
      }
      expect(objects.some((s) => s.kind === "Service" && s.metadata.name === sts.spec.serviceName), id(sts)).toBe(true);
    }
  });

  it("bounds every init Job and leaves it for Argo CD to see (no TTL)", () => {
    const jobs = objects.filter((o) => o.kind === "Job");
    // Named after their pod template: a changed Job is a new Job, never an immutable-field error.
    expect(jobs.map((j) => j.metadata.name.replace(/-[0-9a-f]{8}$/, "")).sort()).toEqual([
      "nx-debezium-init",
      "nx-kafka-scram-init",
      "nx-postgresql-setup",
      "nx-redis-cluster-init",
    ]);
    for (const job of jobs) {
      expect(job.spec.ttlSecondsAfterFinished, id(job)).toBeUndefined();
      expect(job.spec.backoffLimit, id(job)).toBeGreaterThan(0);
      expect(job.spec.activeDeadlineSeconds, id(job)).toBeGreaterThan(0);
    }
  });

  it("never writes a Secret into Git, and documents every Secret a pod reads", () => {
    expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
    const doc = secretsDoc([rendered]);
    const refs = new Set<string>();
    for (const o of podOwners) {
      for (const c of allContainers(o)) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) refs.add(`| ${o.metadata.namespace} | \`${ref.name}\` |`);
        }
      }
      for (const v of o.spec.template.spec.volumes ?? []) {
        if (v.secret) refs.add(`| ${o.metadata.namespace} | \`${v.secret.secretName}\` |`);
      }
    }
    expect(refs.size).toBeGreaterThan(5);
    for (const row of refs) expect(doc).toContain(row);
  });
});
