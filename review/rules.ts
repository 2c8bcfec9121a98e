// What makes a change unsafe, as data: fields the API server or an operator will not change in
// place (keyed by group, kind and JSON path, so new kinds plug in as rows), volume sizes that
// must never go down, and objects that hold data. Each finding says what to do instead.
import { deepEqual, diffFields, type FieldChange, type Json, pairsAt, parsePattern, withField } from "./diff.ts";
import { groupOf } from "../generator/lib/identity.ts";
import { asJson, asManifest, holdsData, type Manifest, objectName, syncOptionsAnnotation } from "./objects.ts";

export const ruleIds = ["immutable-field", "volume-shrink", "data-removed", "data-mark-removed"] as const;
export type RuleId = (typeof ruleIds)[number];

/** One step of what to do instead: a sentence, and the commands it stands for. */
export interface Step {
  readonly text: string;
  readonly commands?: readonly string[];
}

export interface Finding {
  readonly rule: RuleId;
  readonly environment: string;
  /** `Kind namespace/name` (objects.ts: objectName) */
  readonly object: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  /** The field the rule is about, as the rule names it; absent when the whole object is. */
  readonly field?: string;
  readonly message: string;
  readonly changes: readonly FieldChange[];
  readonly instead: readonly Step[];
}

/** What the rules may look at besides the object: the environment and its whole new render. */
export interface Context {
  readonly environment: string;
  readonly head: readonly Manifest[];
}

interface ImmutableField {
  readonly group: string;
  readonly kind: string;
  readonly path: string;
  /** Fields below `path` that may change (a shrink of a size among them is still refused, as a shrink). */
  readonly mutable?: readonly string[];
  /** Why the change cannot simply be synced. */
  readonly why: string;
  readonly instead: (before: Manifest, after: Manifest, context: Context) => Step[];
}

const ns = (m: Manifest) => m.metadata?.namespace ?? "default";
const nameOf = (m: Manifest) => m.metadata?.name ?? "";

type StatefulSetSpec = { replicas?: number; ordinals?: { start?: number }; volumeClaimTemplates?: Json };
const claimTemplatesOf = (m: Manifest) => (m.spec as StatefulSetSpec | undefined)?.volumeClaimTemplates;

/** The ordinals of a StatefulSet's pods (and so of their claims). */
function ordinals(m: Manifest): number[] {
  const spec = (m.spec ?? {}) as StatefulSetSpec;
  const first = spec.ordinals?.start ?? 0;
  return Array.from({ length: spec.replicas ?? 1 }, (_, i) => first + i);
}

/** The Argo CD Application that syncs the object's namespace overlay, from the same render. */
function applicationOf(m: Manifest, context: Context): string | undefined {
  const path = `overlays/${context.environment}/${ns(m)}`;
  const app = context.head.find((o) => o.kind === "Application" && (o.spec as { source?: { path?: string } })?.source?.path === path);
  return app?.metadata?.name;
}

/** Delete a StatefulSet but not its pods or volumes, and let Argo CD create it again from Git. */
function recreate(m: Manifest, context: Context): Step {
  const app = applicationOf(m, context);
  return {
    text:
      "Right after the merge (the sync fails on this object until then), delete the StatefulSet without its pods, " +
      `so Argo CD creates it again with the new spec; the pods keep running on their volumes${app ? ` (\`${app}\` syncs it)` : ""}:`,
    commands: [
      `kubectl -n ${ns(m)} delete statefulset ${nameOf(m)} --cascade=orphan`,
      ...(app ? [`argocd app sync ${app}`] : []),
    ],
  };
}

const statefulSetSpec =
  "Kubernetes refuses any change to a StatefulSet's spec other than replicas, template, updateStrategy, " +
  "minReadySeconds, ordinals and persistentVolumeClaimRetentionPolicy: every sync would fail";

const acknowledge: Step = {
  text: "If the change is meant, acknowledge it in review/acknowledged.yaml in this pull request and follow the steps.",
};

/** Storage sizes, which may grow but never shrink. */
const volumeSizes: readonly { group: string; kind: string; path: string }[] = [
  { group: "apps", kind: "StatefulSet", path: "spec.volumeClaimTemplates[*].spec.resources.requests.storage" },
  { group: "", kind: "PersistentVolumeClaim", path: "spec.resources.requests.storage" },
  { group: "postgresql.cnpg.io", kind: "Cluster", path: "spec.storage.size" },
  { group: "postgresql.cnpg.io", kind: "Cluster", path: "spec.walStorage.size" },
  { group: "kafka.strimzi.io", kind: "KafkaNodePool", path: "spec.storage.size" },
  { group: "kafka.strimzi.io", kind: "KafkaNodePool", path: "spec.storage.volumes[*].size" },
];

const claimTemplateSize = volumeSizes[0]!.path;

/** A changed claim template: the PVC patches for a pure size increase, else the general recipe. */
function claimTemplates(before: Manifest, after: Manifest, context: Context): Step[] {
  const grown = pairsAt(asJson(before), asJson(after), parsePattern(claimTemplateSize)).filter((p) => compareSizes(p.before, p.after) === "grows");
  const grownBefore = asManifest(grown.reduce((m, p) => withField(m, p.segments, p.after), asJson(before)));
  const onlyGrowth = grown.length > 0 && deepEqual(claimTemplatesOf(grownBefore), claimTemplatesOf(after));
  if (!onlyGrowth) {
    return [
      {
        text:
          "Existing PersistentVolumeClaims never follow the claim templates: only claims created later would. " +
          "To move existing data to differently configured volumes, add a new StatefulSet (or claim template) beside the old one and migrate the data.",
      },
      acknowledge,
      recreate(after, context),
    ];
  }
  const claims = grown.flatMap((p) => {
    const template = p.segments.find((s) => "item" in s);
    const claimPrefix = template && "item" in template ? template.item : "";
    return ordinals(after).map((i) => ({ pvc: `${claimPrefix}-${nameOf(after)}-${i}`, size: String(p.after) }));
  });
  return [
    {
      text:
        "Grow the volumes by patching each claim (the storage class must allow volume expansion; " +
        "the CSI driver grows them online), before the merge:",
      commands: claims.map(({ pvc, size }) => `kubectl -n ${ns(after)} patch pvc ${pvc} -p '{"spec":{"resources":{"requests":{"storage":"${size}"}}}}'`),
    },
    {
      text: "Wait until every claim reports the new capacity:",
      commands: [`kubectl -n ${ns(after)} get pvc ${claims.map((c) => c.pvc).join(" ")} -o custom-columns=NAME:.metadata.name,CAPACITY:.status.capacity.storage`],
    },
    acknowledge,
    recreate(after, context),
  ];
}

const immutableFields: readonly ImmutableField[] = [
  {
    group: "apps",
    kind: "StatefulSet",
    path: "spec.selector",
    why: statefulSetSpec,
    instead: (_, after, context) => [
      { text: "Keep the selector (selector labels are meant never to change: no version, no instance)." },
      acknowledge,
      recreate(after, context),
      {
        text: "The old pods do not match the new selector and stay orphaned: delete them one at a time, waiting for each to be Ready again on its own volume:",
        commands: ordinals(after).map((i) => `kubectl -n ${ns(after)} delete pod ${nameOf(after)}-${i}`),
      },
    ],
  },
  {
    group: "apps",
    kind: "StatefulSet",
    path: "spec.serviceName",
    why: `${statefulSetSpec}. The governing Service also makes the pods' DNS names (<pod>.<serviceName>)`,
    instead: (_, after, context) => [
      { text: "Keep the governing Service's name; clients and peers that address pods by DNS name depend on it." },
      acknowledge,
      recreate(after, context),
      {
        text: "The pods keep their old DNS subdomain until they restart: roll them once clients use the new names:",
        commands: [`kubectl -n ${ns(after)} rollout restart statefulset ${nameOf(after)}`],
      },
    ],
  },
  {
    group: "apps",
    kind: "StatefulSet",
    path: "spec.volumeClaimTemplates",
    why: `${statefulSetSpec}; a volume is grown by patching its PersistentVolumeClaim`,
    instead: claimTemplates,
  },
  {
    group: "apps",
    kind: "StatefulSet",
    path: "spec.podManagementPolicy",
    why: statefulSetSpec,
    instead: (_, after, context) => [acknowledge, recreate(after, context)],
  },
  {
    group: "apps",
    kind: "Deployment",
    path: "spec.selector",
    why: "Kubernetes refuses to change a Deployment's selector (apps/v1): every sync would fail",
    instead: () => [
      {
        text:
          "Give the Deployment a new name along with the new selector: Argo CD creates the new one and prunes the old " +
          "one last (PruneLast), so the pods are replaced without a gap. Or keep the selector.",
      },
    ],
  },
  {
    group: "batch",
    kind: "Job",
    path: "spec.template",
    why: "a Job's pod template is immutable: the sync would fail, and a Job that already ran would never run the new template",
    instead: () => [
      {
        text:
          "Name the Job after its template, as the generator's initJob does (`<name>-<hash of the template>`, " +
          "generator/lib/objects.ts): a new template makes a new Job, which runs, and the old one is pruned.",
      },
    ],
  },
  {
    group: "",
    kind: "Service",
    path: "spec.clusterIP",
    why: "Kubernetes refuses to change a Service's clusterIP once it is set, and a change to or from headless (`None`) is such a change",
    instead: (_, after) => [
      {
        text:
          "Add a Service under a new name with the new clusterIP, move its clients (and any StatefulSet's serviceName) to it, " +
          "then remove the old one. Or acknowledge it and delete the Service right after the merge so Argo CD creates it again; " +
          "its clients lose it in between:",
        commands: [`kubectl -n ${ns(after)} delete service ${nameOf(after)}`],
      },
    ],
  },
  {
    group: "postgresql.cnpg.io",
    kind: "Pooler",
    path: "spec.cluster",
    why: "CloudNativePG accepts it, and every client of the pooler moves to another database cluster at once",
    instead: () => [{ text: "Add a new Pooler for the new cluster, move the clients to its Service, then remove the old Pooler." }],
  },
  ...["spec.storage.storageClass", "spec.walStorage.storageClass"].map(
    (path): ImmutableField => ({
      group: "postgresql.cnpg.io",
      kind: "Cluster",
      path,
      why: "CloudNativePG uses the storage class only for volumes it creates later: existing instances keep theirs, and the cluster ends up on two classes",
      instead: () => [
        {
          text:
            "Move the instances one at a time as CloudNativePG's storage guide ('Re-creating storage') describes: set " +
            "resizeInUseVolumes: false, delete one replica's PVCs and pod and let the operator rebuild it, the primary last after a switchover.",
        },
      ],
    }),
  ),
  {
    group: "kafka.strimzi.io",
    kind: "KafkaNodePool",
    path: "spec.storage",
    mutable: ["size", "deleteClaim", "volumes[*].size", "volumes[*].deleteClaim"],
    why: "Strimzi changes nothing of existing Kafka nodes' storage but a size increase and deleteClaim: it warns and keeps the current storage",
    instead: () => [
      {
        text:
          "Add a new KafkaNodePool with the new storage, move the partitions to it (Cruise Control or kafka-reassign-partitions.sh), " +
          "then scale the old pool to zero and remove it.",
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Sizes

const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes quantity (`10Gi`, `500M`, `1e9`, `1.5T`) in bytes; undefined when it is not one. */
export function quantityBytes(value: Json | undefined): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|([KMGTPE]i)|([numkMGTPE]))?$/.exec(String(value ?? ""));
  if (!m || typeof value === "object" || typeof value === "boolean") return undefined;
  const number = Number(m[1]);
  if (m[2]) return number * 10 ** Number(m[2].slice(1));
  if (m[3]) return number * binary[m[3]]!;
  return number * decimal[m[4] ?? ""]!;
}

function compareSizes(before: Json | undefined, after: Json | undefined): "shrinks" | "grows" | undefined {
  const [a, b] = [quantityBytes(before), quantityBytes(after)];
  if (a === undefined || b === undefined || a === b) return undefined;
  return b < a ? "shrinks" : "grows";
}

// ---------------------------------------------------------------------------------------------
// Judging an environment's changes

const appliesTo = (m: Manifest) => (r: { group: string; kind: string }) => r.group === groupOf(m) && r.kind === m.kind;

function located(environment: string, m: Manifest): Pick<Finding, "environment" | "object" | "kind" | "namespace" | "name"> {
  const object = objectName(m);
  return { environment, object, kind: object.split(" ")[0]!, namespace: m.metadata?.namespace, name: nameOf(m) };
}

/** The unsafe parts of one object's change (same group, kind, namespace and name on both sides). */
export function changeFindings(before: Manifest, after: Manifest, context: Context): Finding[] {
  const at = located(context.environment, after);
  const shrinks = volumeSizes
    .filter(appliesTo(after))
    .flatMap((r) => pairsAt(asJson(before), asJson(after), parsePattern(r.path)))
    .filter((p) => compareSizes(p.before, p.after) === "shrinks");
  const findings: Finding[] = shrinks.map((p) => ({
    ...at,
    rule: "volume-shrink",
    field: p.path,
    message: `shrinks a volume from ${String(p.before)} to ${String(p.after)}: Kubernetes refuses a smaller claim (CloudNativePG and Strimzi refuse it too), and a volume never gives space back`,
    changes: [p],
    instead: [
      { text: `Keep ${String(p.before)}. To use less space, move the data to a new, smaller volume (a new object or claim template) and remove the old one once it is empty.` },
    ],
  }));
  // A shrink is reported once, as a shrink: the immutable-field rules judge the rest.
  const rest = asManifest(shrinks.reduce((m, p) => withField(m, p.segments, p.before), asJson(after)));
  for (const rule of immutableFields.filter(appliesTo(after))) {
    const judged = (rule.mutable ?? [])
      .flatMap((m) => pairsAt(asJson(before), asJson(rest), parsePattern(`${rule.path}.${m}`)))
      .reduce((m, p) => withField(m, p.segments, p.before), asJson(rest));
    const changed = pairsAt(asJson(before), judged, parsePattern(rule.path)).filter((p) => !deepEqual(p.before, p.after));
    if (changed.length === 0) continue;
    findings.push({
      ...at,
      rule: "immutable-field",
      field: rule.path,
      message: `changes ${rule.path}: ${rule.why}`,
      changes: changed.flatMap((p) => diffFields(p.before, p.after, p.segments)),
      instead: rule.instead(before, rest, context),
    });
  }
  if (holdsData(before) && !holdsData(after)) {
    const field = `metadata.annotations["${syncOptionsAnnotation}"]`;
    findings.push({
      ...at,
      rule: "data-mark-removed",
      field,
      message:
        "loses its Prune=false/Delete=false sync options, the mark of an object that holds data: a later removal from Git, " +
        "or a cascading delete of its Application, would delete it with its data",
      changes: diffFields(before.metadata?.annotations?.[syncOptionsAnnotation], after.metadata?.annotations?.[syncOptionsAnnotation], [
        { key: "metadata" },
        { key: "annotations" },
        { key: syncOptionsAnnotation },
      ]),
      instead: [{ text: "Keep the sync options: generator/delivery/waves.ts sets them on every kind that holds data." }],
    });
  }
  return findings;
}

/** A data-bearing object that is gone from the new render (removed, or renamed: the same thing to the cluster). */
export function removalFinding(before: Manifest, added: readonly Manifest[], context: Context): Finding | undefined {
  if (!holdsData(before)) return undefined;
  const lookalikes = added.filter((a) => groupOf(a) === groupOf(before) && a.kind === before.kind && a.metadata?.namespace === before.metadata?.namespace);
  return {
    ...located(context.environment, before),
    rule: "data-removed",
    message:
      "holds data (sync options Prune=false/Delete=false) and is gone from the render: Argo CD leaves it in the cluster, " +
      "unmanaged and OutOfSync, with everything it holds, and nothing in the layer uses it anymore",
    changes: [],
    instead: [
      ...(lookalikes.length > 0
        ? [{ text: `If this is a rename to ${lookalikes.map(objectName).join(", ")}: a new name is a new, empty object. Keep the old name.` }]
        : []),
      {
        text:
          "Keep the object. To retire it, back up or move its data first, acknowledge the removal in review/acknowledged.yaml, " +
          "and delete the object by hand once the data is safe.",
      },
    ],
  };
}
