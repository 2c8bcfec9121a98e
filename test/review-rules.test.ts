// What `npm run review` calls unsafe, one change at a time, on the real staging render (plus
// operator custom resources as production will have them): each unsafe class alone is refused,
// naming the object and the field; safe changes pass and show their fields.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Acknowledgement, judge, loadAcknowledgements } from "../review/acknowledged.ts";
import { compareEnvironment } from "../review/compare.ts";
import { diffFields, type Json } from "../review/diff.ts";
import type { Manifest } from "../review/objects.ts";
import { changeLines } from "../review/report.ts";
import { quantityBytes } from "../review/rules.ts";
import { kustomizeBuild, type PlainObject, removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const keep = { "argocd.argoproj.io/sync-options": "Prune=false,Delete=false" };

/** Operator custom resources as production will render them, marked like the generator marks data. */
const operatorObjects: PlainObject[] = [
  {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: { name: "nx-postgresql", namespace: "nx-persistent", annotations: keep },
    spec: { instances: 3, storage: { size: "20Gi", storageClass: "csi-sc-vnpaycloud" }, walStorage: { size: "5Gi", storageClass: "csi-sc-vnpaycloud" } },
  },
  {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Pooler",
    metadata: { name: "nx-postgresql-rw", namespace: "nx-persistent" },
    spec: { cluster: { name: "nx-postgresql" }, instances: 2, type: "rw", pgbouncer: { poolMode: "transaction" } },
  },
  {
    apiVersion: "kafka.strimzi.io/v1beta2",
    kind: "KafkaNodePool",
    metadata: { name: "brokers", namespace: "nx-broker", labels: { "strimzi.io/cluster": "nx-kafka" }, annotations: keep },
    spec: {
      replicas: 3,
      roles: ["controller", "broker"],
      storage: { type: "jbod", volumes: [{ id: 0, type: "persistent-claim", size: "100Gi", class: "csi-sc-vnpaycloud", deleteClaim: false }] },
    },
  },
  {
    apiVersion: "kafka.strimzi.io/v1beta2",
    kind: "KafkaTopic",
    metadata: { name: "nx.events", namespace: "nx-broker", labels: { "strimzi.io/cluster": "nx-kafka" }, annotations: keep },
    spec: { partitions: 6, replicas: 3 },
  },
];

const staging: PlainObject[] = [
  ...kustomizeBuild(join(repoRoot, "overlays/staging")),
  ...kustomizeBuild(join(repoRoot, "argocd/staging/apps")),
  ...operatorObjects,
];

type Draft = Record<string, any>;

/** The object of that kind whose name is `name`, or starts with `name-` and a template hash (Jobs). */
function find(objects: Draft[], kind: string, name: string): Draft {
  const found = objects.filter((o) => o.kind === kind && (o.metadata.name === name || new RegExp(`^${name}-[0-9a-f]{8}$`).test(o.metadata.name)));
  if (found.length !== 1) throw new Error(`${found.length} objects ${kind} ${name}`);
  return found[0]!;
}

/** A copy of the staging render with `edit` applied: the head of a change. */
function changed(edit: (objects: Draft[]) => void): Manifest[] {
  const copy = structuredClone(staging) as Draft[];
  edit(copy);
  return copy as Manifest[];
}

const review = (edit: (objects: Draft[]) => void) => compareEnvironment("staging", staging as Manifest[], changed(edit));

const unsafe: [string, (objects: Draft[]) => void, { rule: string; object: string; field?: string }][] = [
  [
    "a StatefulSet's selector",
    (o) => (find(o, "StatefulSet", "nx-redis").spec.selector.matchLabels["app.kubernetes.io/instance"] = "nx-redis"),
    { rule: "immutable-field", object: "StatefulSet nx-broker/nx-redis", field: "spec.selector" },
  ],
  [
    "a StatefulSet's serviceName",
    (o) => (find(o, "StatefulSet", "nx-postgresql-replica").spec.serviceName = "nx-postgresql-replicas"),
    { rule: "immutable-field", object: "StatefulSet nx-persistent/nx-postgresql-replica", field: "spec.serviceName" },
  ],
  [
    "a StatefulSet's claim template (access mode)",
    (o) => (find(o, "StatefulSet", "nx-typesense").spec.volumeClaimTemplates[0].spec.accessModes = ["ReadWriteOncePod"]),
    { rule: "immutable-field", object: "StatefulSet nx-search/nx-typesense", field: "spec.volumeClaimTemplates" },
  ],
  [
    "a StatefulSet's claim template (size increase)",
    (o) => (find(o, "StatefulSet", "nx-redis").spec.volumeClaimTemplates[0].spec.resources.requests.storage = "10Gi"),
    { rule: "immutable-field", object: "StatefulSet nx-broker/nx-redis", field: "spec.volumeClaimTemplates" },
  ],
  [
    "a StatefulSet's podManagementPolicy",
    (o) => (find(o, "StatefulSet", "nx-kafka").spec.podManagementPolicy = "OrderedReady"),
    { rule: "immutable-field", object: "StatefulSet nx-broker/nx-kafka", field: "spec.podManagementPolicy" },
  ],
  [
    "a Deployment's selector",
    (o) => (find(o, "Deployment", "nx-pgbouncer").spec.selector.matchLabels["app.kubernetes.io/component"] = "pool"),
    { rule: "immutable-field", object: "Deployment nx-persistent/nx-pgbouncer", field: "spec.selector" },
  ],
  [
    "a Job's template under an unchanged name",
    (o) => (find(o, "Job", "nx-redis-cluster-init").spec.template.spec.containers[0].image = "redis:8-alpine"),
    { rule: "immutable-field", object: expect.stringMatching(/^Job nx-broker\/nx-redis-cluster-init-[0-9a-f]{8}$/), field: "spec.template" },
  ],
  [
    "a Service going from headless to a cluster IP",
    (o) => delete find(o, "Service", "nx-redis-headless").spec.clusterIP,
    { rule: "immutable-field", object: "Service nx-broker/nx-redis-headless", field: "spec.clusterIP" },
  ],
  [
    "a Service becoming headless",
    (o) => (find(o, "Service", "nx-pgbouncer").spec.clusterIP = "None"),
    { rule: "immutable-field", object: "Service nx-persistent/nx-pgbouncer", field: "spec.clusterIP" },
  ],
  [
    "a CloudNativePG Pooler's cluster",
    (o) => (find(o, "Pooler", "nx-postgresql-rw").spec.cluster.name = "nx-postgresql-2"),
    { rule: "immutable-field", object: "Pooler.postgresql.cnpg.io nx-persistent/nx-postgresql-rw", field: "spec.cluster" },
  ],
  [
    "a CloudNativePG Cluster's storage class",
    (o) => (find(o, "Cluster", "nx-postgresql").spec.storage.storageClass = "csi-sc-fast"),
    { rule: "immutable-field", object: "Cluster.postgresql.cnpg.io nx-persistent/nx-postgresql", field: "spec.storage.storageClass" },
  ],
  [
    "a CloudNativePG Cluster's WAL storage class",
    (o) => (find(o, "Cluster", "nx-postgresql").spec.walStorage.storageClass = "csi-sc-fast"),
    { rule: "immutable-field", object: "Cluster.postgresql.cnpg.io nx-persistent/nx-postgresql", field: "spec.walStorage.storageClass" },
  ],
  [
    "a Strimzi node pool's storage type",
    (o) => (find(o, "KafkaNodePool", "brokers").spec.storage = { type: "persistent-claim", size: "100Gi", class: "csi-sc-vnpaycloud" }),
    { rule: "immutable-field", object: "KafkaNodePool.kafka.strimzi.io nx-broker/brokers", field: "spec.storage" },
  ],
  [
    "a Strimzi node pool volume's storage class",
    (o) => (find(o, "KafkaNodePool", "brokers").spec.storage.volumes[0].class = "csi-sc-fast"),
    { rule: "immutable-field", object: "KafkaNodePool.kafka.strimzi.io nx-broker/brokers", field: "spec.storage" },
  ],
  [
    "a StatefulSet's volume shrinking",
    (o) => (find(o, "StatefulSet", "nx-kafka").spec.volumeClaimTemplates[0].spec.resources.requests.storage = "5Gi"),
    {
      rule: "volume-shrink",
      object: "StatefulSet nx-broker/nx-kafka",
      field: "spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage",
    },
  ],
  [
    "a CloudNativePG Cluster's volume shrinking",
    (o) => (find(o, "Cluster", "nx-postgresql").spec.storage.size = "19Gi"),
    { rule: "volume-shrink", object: "Cluster.postgresql.cnpg.io nx-persistent/nx-postgresql", field: "spec.storage.size" },
  ],
  [
    "a Strimzi JBOD volume shrinking",
    (o) => (find(o, "KafkaNodePool", "brokers").spec.storage.volumes[0].size = "50Gi"),
    { rule: "volume-shrink", object: "KafkaNodePool.kafka.strimzi.io nx-broker/brokers", field: "spec.storage.volumes[id=0].size" },
  ],
  [
    "a StatefulSet removed",
    (o) => o.splice(o.indexOf(find(o, "StatefulSet", "nx-typesense")), 1),
    { rule: "data-removed", object: "StatefulSet nx-search/nx-typesense" },
  ],
  [
    "a Namespace removed",
    (o) => o.splice(o.indexOf(find(o, "Namespace", "nx-search")), 1),
    { rule: "data-removed", object: "Namespace nx-search" },
  ],
  [
    "a CloudNativePG Cluster removed",
    (o) => o.splice(o.indexOf(find(o, "Cluster", "nx-postgresql")), 1),
    { rule: "data-removed", object: "Cluster.postgresql.cnpg.io nx-persistent/nx-postgresql" },
  ],
  [
    "a KafkaTopic renamed",
    (o) => (find(o, "KafkaTopic", "nx.events").metadata.name = "nx.events.v2"),
    { rule: "data-removed", object: "KafkaTopic.kafka.strimzi.io nx-broker/nx.events" },
  ],
  [
    "a StatefulSet losing its keep mark",
    (o) => delete find(o, "StatefulSet", "nx-redis").metadata.annotations["argocd.argoproj.io/sync-options"],
    { rule: "data-mark-removed", object: "StatefulSet nx-broker/nx-redis", field: 'metadata.annotations["argocd.argoproj.io/sync-options"]' },
  ],
];

describe("each unsafe change, alone, is refused with its object and field", () => {
  it.each(unsafe)("%s", (_, edit, expected) => {
    const { findings } = review(edit);
    expect(findings.map((f) => ({ rule: f.rule, object: f.object, ...(f.field ? { field: f.field } : {}) }))).toEqual([expected]);
    expect(findings[0]!.instead.length).toBeGreaterThan(0);
  });
});

describe("what the refusals say to do instead", () => {
  it("a claim template that only grows: patch each claim, then recreate the StatefulSet without its pods", () => {
    const [finding] = review((o) => (find(o, "StatefulSet", "nx-redis").spec.volumeClaimTemplates[0].spec.resources.requests.storage = "10Gi")).findings;
    const commands = finding!.instead.flatMap((s) => s.commands ?? []);
    expect(commands).toEqual([
      `kubectl -n nx-broker patch pvc data-nx-redis-0 -p '{"spec":{"resources":{"requests":{"storage":"10Gi"}}}}'`,
      `kubectl -n nx-broker patch pvc data-nx-redis-1 -p '{"spec":{"resources":{"requests":{"storage":"10Gi"}}}}'`,
      `kubectl -n nx-broker patch pvc data-nx-redis-2 -p '{"spec":{"resources":{"requests":{"storage":"10Gi"}}}}'`,
      "kubectl -n nx-broker get pvc data-nx-redis-0 data-nx-redis-1 data-nx-redis-2 -o custom-columns=NAME:.metadata.name,CAPACITY:.status.capacity.storage",
      "kubectl -n nx-broker delete statefulset nx-redis --cascade=orphan",
      "argocd app sync staging-nx-broker",
    ]);
    expect(finding!.changes.map((c) => c.path)).toEqual(["spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage"]);
  });

  it("any other claim template change: no PVC patches, the claims never follow the template", () => {
    const [finding] = review((o) => (find(o, "StatefulSet", "nx-typesense").spec.volumeClaimTemplates[0].spec.accessModes = ["ReadWriteOncePod"])).findings;
    expect(finding!.instead.flatMap((s) => s.commands ?? []).some((c) => c.includes("patch pvc"))).toBe(false);
    expect(finding!.instead.map((s) => s.text).join(" ")).toMatch(/never follow the claim templates/);
  });

  it("a shrink is reported once, as a shrink, never also as a claim template change", () => {
    const { findings } = review((o) => (find(o, "StatefulSet", "nx-kafka").spec.volumeClaimTemplates[0].spec.resources.requests.storage = "5Gi"));
    expect(findings.map((f) => f.rule)).toEqual(["volume-shrink"]);
    expect(findings[0]!.message).toMatch(/from 10Gi to 5Gi/);
  });

  it("a rename of a data-bearing object says the new name starts empty", () => {
    const { findings, added, removed } = review((o) => (find(o, "StatefulSet", "nx-typesense").metadata.name = "nx-typesense-v2"));
    expect(removed.map((r) => r.metadata?.name)).toEqual(["nx-typesense"]);
    expect(added.map((a) => a.metadata?.name)).toEqual(["nx-typesense-v2"]);
    expect(findings[0]!.instead[0]!.text).toContain("rename to StatefulSet nx-search/nx-typesense-v2");
  });
});

describe("safe changes pass and show only the changed fields", () => {
  it("a memory limit", () => {
    const result = review((o) => (find(o, "StatefulSet", "nx-redis").spec.template.spec.containers[0].resources.limits.memory = "768Mi"));
    expect(result.findings).toEqual([]);
    expect(result.changed.map((c) => [c.object, c.changes.flatMap(changeLines)])).toEqual([
      ["StatefulSet nx-broker/nx-redis", ['spec.template.spec.containers[name=redis].resources.limits.memory: "512Mi" -> "768Mi"']],
    ]);
  });

  it("a Job whose name follows its new template (removed and added, not changed)", () => {
    const result = review((o) => {
      const job = find(o, "Job", "nx-redis-cluster-init");
      job.metadata.name = "nx-redis-cluster-init-00000000";
      job.spec.template.spec.containers[0].image = "redis:8-alpine";
    });
    expect(result.findings).toEqual([]);
    expect(result.removed.map((r) => r.kind)).toEqual(["Job"]);
    expect(result.added.map((a) => a.metadata?.name)).toEqual(["nx-redis-cluster-init-00000000"]);
  });

  it("volumes that grow on CloudNativePG and Strimzi (the operators grow them), a Service port, a ConfigMap removed", () => {
    const result = review((o) => {
      find(o, "Cluster", "nx-postgresql").spec.storage.size = "40Gi";
      find(o, "KafkaNodePool", "brokers").spec.storage.volumes[0].size = "200Gi";
      find(o, "Service", "nx-pgbouncer").spec.ports[0].port = 6432;
      o.splice(o.indexOf(find(o, "ConfigMap", "nx-debezium-connector")), 1);
    });
    expect(result.findings).toEqual([]);
    expect(result.changed.map((c) => c.object)).toEqual([
      "Cluster.postgresql.cnpg.io nx-persistent/nx-postgresql",
      "KafkaNodePool.kafka.strimzi.io nx-broker/brokers",
      "Service nx-persistent/nx-pgbouncer",
    ]);
  });

  it("no change at all", () => {
    const result = review(() => {});
    expect([result.changed, result.added, result.removed, result.findings]).toEqual([[], [], [], []]);
    expect(result.total).toBe(staging.length);
  });
});

describe("field paths", () => {
  it("match named list items by name, show multi-line text as a line diff, and report a reorder", () => {
    const before = { env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], script: "a\nb\nc\n" } as Json;
    const after = { env: [{ name: "B", value: "2" }, { name: "A", value: "3" }], script: "a\nB\nc\n" } as Json;
    expect(diffFields(before, after).flatMap(changeLines)).toEqual(['env[name=A].value: "1" -> "3"', "script:", "    a", "  + B", "  - b", "    c"]);
    const reordered = { env: [{ name: "B", value: "2" }, { name: "A", value: "1" }], script: "a\nb\nc\n" } as Json;
    expect(diffFields(before, reordered).map((c) => c.path)).toEqual(["env"]);
  });

  it.each([
    ["10Gi", 10 * 2 ** 30],
    ["500M", 5e8],
    ["1.5T", 1.5e12],
    ["1e3", 1000],
    ["20Gi ", undefined],
    ["big", undefined],
  ])("quantity %j is %j bytes", (q, bytes) => {
    expect(quantityBytes(q)).toBe(bytes);
  });
});

describe("acknowledgements", () => {
  const redisGrowth = review((o) => (find(o, "StatefulSet", "nx-redis").spec.volumeClaimTemplates[0].spec.resources.requests.storage = "10Gi"));
  const ack = (extra: Partial<Acknowledgement> = {}): Acknowledgement => ({
    entry: "entry 1",
    environment: "staging",
    kind: "StatefulSet",
    namespace: "nx-broker",
    name: "nx-redis",
    rule: "immutable-field",
    reason: "Redis needs room",
    reviewedBy: "platform",
    ...extra,
  });

  it("let through the finding they name (the field narrows it), and report the ones that match nothing", () => {
    const exact = judge(redisGrowth.findings, [ack({ field: "spec.volumeClaimTemplates" })], ["staging"]);
    expect([exact.refused.length, exact.acknowledged.length, exact.unused.length]).toEqual([0, 1, 0]);
    const otherField = judge(redisGrowth.findings, [ack({ field: "spec.selector" })], ["staging"]);
    expect([otherField.refused.length, otherField.acknowledged.length, otherField.unused.length]).toEqual([1, 0, 1]);
    const otherEnvironment = judge(redisGrowth.findings, [ack({ environment: "production" })], ["staging"]);
    expect(otherEnvironment.unused).toEqual([]); // production was not reviewed: nothing to say about it
  });

  it("are checked when read: every field known, the required ones present, the rule one of the rules", () => {
    const file = join(tempDir("acks"), "acknowledged.yaml");
    const load = (text: string) => {
      writeFileSync(file, text);
      return () => loadAcknowledgements(file, "acknowledged.yaml");
    };
    const entry = "environment: staging\n  kind: StatefulSet\n  namespace: nx-broker\n  name: nx-redis\n  reviewedBy: platform\n";
    expect(load(`- ${entry}  rule: immutable-field\n  reason: room\n`)()).toHaveLength(1);
    expect(load(`- ${entry}  rule: immutable-field\n`)).toThrow("acknowledged.yaml entry 1: reason must be a non-empty string");
    expect(load(`- ${entry}  rule: immutable\n  reason: room\n`)).toThrow(/rule must be one of immutable-field, volume-shrink/);
    expect(load(`- ${entry}  rule: immutable-field\n  reason: room\n  fields: spec\n`)).toThrow(/unknown field\(s\) fields/);
    expect(load("[]\n")()).toEqual([]);
  });
});
