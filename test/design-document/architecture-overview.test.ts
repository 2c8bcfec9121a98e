// Design document, "Architecture Overview › Component Summary": which workloads run, how many
// pods, which image, which storage, on which nodes; checked on the rendered staging overlay.
// (Pod Security restricted on every pod and Namespace is the pod-security policy rules' and
// test/namespaces.test.ts's; every claim's StorageClass, storage/storage-class's.)
import { describe, expect, it } from "vitest";
import { allContainers, claimTemplate, id, podSpec, renderOverlay, replicas } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { components, environment, initJobs, jobPool, layerNamespaces, statefulPool, storageClass } from "./facts.ts";

const overlay = renderOverlay(environment);
const workloadOf = (r: (typeof components)[number]) => overlay.workload(r.kind, r.namespace, r.name);

describe("Architecture Overview › Component Summary", () => {
  it("the long-running workloads are exactly the document's components", () => {
    const running = overlay.workloads.filter((w) => w.kind !== "Job").map(id).sort();
    expect(running).toEqual(components.map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort());
  });

  it("the Jobs are the components' init Jobs", () => {
    const jobs = overlay.workloads.filter((w) => w.kind === "Job").map((w) => id(w).replace(/-[0-9a-f]{8}$/, ""));
    expect(jobs.sort()).toEqual(initJobs.map((j) => `Job ${j.namespace}/${j.name}`).sort());
  });

  eachRow(components, (r) => `${r.component} is ${r.kind} ${r.namespace}/${r.name} with ${r.replicas} replica(s)`, (row) => {
    expect(replicas(overlay.workload(row.kind, row.namespace, row.name) as Parameters<typeof replicas>[0])).toBe(row.replicas);
  });

  eachRow(components, (r) => `${r.component} runs ${r.image} in every container`, (row) => {
    const w = workloadOf(row);
    for (const c of allContainers(w)) expect(c.image, `${id(w)} container ${c.name}`).toBe(row.image);
  });

  eachRow(
    components.filter((r) => r.storage !== null),
    (r) => `${r.component} keeps its data on a ${r.storage} ReadWriteOnce volume of StorageClass ${storageClass}, per pod`,
    (row) => {
      expect(claimTemplate(overlay.statefulSet(row.namespace, row.name)).spec).toMatchObject({
        accessModes: ["ReadWriteOnce"],
        storageClassName: storageClass,
        resources: { requests: { storage: row.storage } },
      });
    },
  );

  eachRow(components.filter((r) => r.storage === null), (r) => `${r.component} has no persistent storage ("-")`, (row) => {
    expect((podSpec(workloadOf(row)).volumes ?? []).filter((v) => v.persistentVolumeClaim || v.hostPath)).toEqual([]);
  });

  it("the data layer runs on the stateful node pool, its init Jobs on the default pool", () => {
    for (const row of components) expect(podSpec(workloadOf(row)).nodeSelector, row.name).toEqual(statefulPool);
    for (const j of initJobs) expect(podSpec(overlay.job(j.namespace, j.name)).nodeSelector, j.name).toEqual(jobPool);
  });

  it("every object is in one of the layer's namespaces nx-persistent, nx-broker, nx-search", () => {
    const outside = overlay.objects
      .filter((o) => o.kind !== "Namespace" && !(layerNamespaces as readonly string[]).includes(o.metadata?.namespace ?? ""))
      .map(id);
    expect(outside).toEqual([]);
  });
});
