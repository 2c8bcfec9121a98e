// How Argo CD syncs each object of an environment: its sync wave (one small function of kind),
// which objects it must never prune or delete (those marked as holding data, every kind classified
// in data-safety.ts), and a marker that makes each sync wait for the init Jobs. The stage between
// the components and the layout.
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { type RenderedEnvironment, type RenderedObject, renderedObject } from "../components/render.ts";
import type { Environment } from "../config/types.ts";
import { GenerationFailed, type Problem } from "../lib/errors.ts";
import { groupOf, namespaceOf, objectId } from "../lib/identity.ts";
import { holdsDataAnnotation, recommendedLabels } from "../lib/labels.ts";
import { dataSafetyProblems } from "./data-safety.ts";
import type { Json, KubeObject } from "../lib/objects.ts";
import { byCodePoint } from "../lib/order.ts";

export const syncWaveAnnotation = "argocd.argoproj.io/sync-wave";
const syncOptionsAnnotation = "argocd.argoproj.io/sync-options";

/** Name of the ConfigMap that closes every namespace's sync (see `syncMarker`). */
const syncMarkerName = "nx-data-layer-synced";

// Namespace-scoped setup first; then Services and the workloads (a CloudNativePG Cluster, a Strimzi
// Kafka and its node pools among them); last, what acts on a running workload: the init Jobs, the
// CloudNativePG objects that name a Cluster (a Database or Publication its primary applies, a
// ScheduledBackup, a Pooler) and the Strimzi topics and users that name a Kafka. An
// ExternalSecret is setup: it is Healthy once its Secret is written, which the pods of the next
// wave read at start.
const setupKinds = new Set(["Namespace", "NetworkPolicy", "ConfigMap", "ServiceAccount", "ExternalSecret"]);
const workloadKinds = new Set(["StatefulSet", "Deployment"]);

/**
 * The cluster an operator's object acts on, if it names one: a CloudNativePG object's Cluster
 * (`spec.cluster.name`), a Strimzi KafkaTopic's or KafkaUser's Kafka (`strimzi.io/cluster`, which
 * the entity operator applies to that Kafka once it runs). A KafkaNodePool names its Kafka too,
 * but is part of it: the pools and the Kafka start together.
 */
function clusterNamed(object: KubeObject): { kind: string; name: string; field: string } | undefined {
  const group = groupOf(object);
  if (group === "postgresql.cnpg.io") {
    const name = (object as { spec?: { cluster?: { name?: string } } }).spec?.cluster?.name;
    return name === undefined ? undefined : { kind: "Cluster", name, field: "spec.cluster.name" };
  }
  if (group === "kafka.strimzi.io" && (object.kind === "KafkaTopic" || object.kind === "KafkaUser")) {
    const name = object.metadata?.labels?.["strimzi.io/cluster"];
    return { kind: "Kafka", name: name ?? "", field: 'metadata.labels["strimzi.io/cluster"]' };
  }
  return undefined;
}

/**
 * Sync waves inside each Application: namespace-scoped setup (Namespace, NetworkPolicies,
 * ConfigMaps, ExternalSecrets), then Services and workloads (a CloudNativePG Cluster among them),
 * then, once those are healthy, the init Jobs and the CloudNativePG objects that name a Cluster
 * (Database, Publication, ScheduledBackup, Pooler).
 */
export const objectWaves = { setup: -1, workloads: 0, initJobs: 1 } as const;

export type ObjectWaves = { readonly [K in keyof typeof objectWaves]: number };

/**
 * The root Application's wave of each namespace's Application; a later wave syncs only once the
 * earlier ones are healthy. Debezium (nx-search) registers a PostgreSQL connector into Kafka: both
 * must be healthy first.
 */
export function namespaceWaves(env: Environment): readonly { readonly namespace: string; readonly wave: number }[] {
  const { persistent, broker, search } = env.common.namespaces;
  return [
    { namespace: persistent, wave: 0 },
    { namespace: broker, wave: 0 },
    { namespace: search, wave: 1 },
  ];
}

function syncWave(object: KubeObject, waves: ObjectWaves): number {
  if (setupKinds.has(object.kind)) return waves.setup;
  if (object.kind === "Job" || clusterNamed(object) !== undefined) return waves.initJobs;
  return waves.workloads;
}

/**
 * A copy of a rendered object with extra annotations (the rendered object stays as it was). Its
 * JSON is the rendered JSON with a new `metadata`, sharing the rest (no stage changes a JSON).
 */
function annotated(rendered: RenderedObject, annotations: Record<string, string>): RenderedObject {
  const { object, json, ...placement } = rendered;
  const metadata = (json as { metadata?: { annotations?: Record<string, string> } }).metadata;
  const data = { ...(json as Record<string, Json>), metadata: { ...metadata, annotations: { ...metadata?.annotations, ...annotations } } };
  const Model = object.constructor as new (data: unknown) => KubeObject;
  return { ...placement, object: new Model(data), json: data };
}

/**
 * Argo CD ends a sync operation once the last wave is applied, without waiting for it to become
 * healthy. This marker, one wave after the init Jobs, keeps the Jobs out of the last wave, so a
 * namespace's sync ends only when its Jobs have completed.
 */
function syncMarker(env: Environment, namespace: string, wave: number): KubeObject {
  return new ConfigMap({
    metadata: {
      name: syncMarkerName,
      namespace,
      labels: recommendedLabels(env, { app: env.common.partOf, component: "sync-marker", instance: syncMarkerName }),
      annotations: { [syncWaveAnnotation]: String(wave) },
    },
    data: { purpose: "Last sync wave: the sync of this namespace ends once its init Jobs have completed." },
  });
}

/**
 * Every init Job must run in a later wave than the workload it initializes (same app, same
 * namespace), and every CloudNativePG object in a later wave than the Cluster it names.
 */
function orderProblems(env: Environment, objects: readonly RenderedObject[]): Problem[] {
  const all = objects.map((o) => o.object);
  const waveOf = (o: KubeObject) => Number(o.metadata?.annotations?.[syncWaveAnnotation]);
  const appOf = (o: KubeObject) => o.metadata?.labels?.["app.kubernetes.io/name"];
  /** What must be healthy before `object` syncs, and what to say when it is not rendered. */
  const prerequisite = (object: KubeObject) => {
    const cluster = clusterNamed(object);
    if (cluster === undefined && object.kind !== "Job") return undefined;
    const here = all.filter((o) => namespaceOf(o) === namespaceOf(object));
    if (cluster !== undefined) {
      return {
        of: here.filter((c) => c.kind === cluster.kind && groupOf(c) === groupOf(object) && c.metadata?.name === cluster.name),
        field: cluster.field,
        none: `no ${cluster.kind} ${cluster.name} in ${namespaceOf(object)}: a ${object.kind} acts on a ${cluster.kind} of its namespace`,
        verb: "acts on",
      };
    }
    return {
      of: here.filter((w) => workloadKinds.has(w.kind) && appOf(w) === appOf(object)),
      field: 'metadata.labels["app.kubernetes.io/name"]',
      none: `no StatefulSet or Deployment of app ${appOf(object)} in ${namespaceOf(object)}: an init Job must name the workload it initializes`,
      verb: "initializes",
    };
  };
  return objects.flatMap(({ component, object }) => {
    const needs = prerequisite(object);
    if (!needs) return [];
    const problem = (field: string, message: string): Problem => ({ environment: env.name, component, object: objectId(object), field, message });
    if (needs.of.length === 0) return [problem(needs.field, needs.none)];
    return needs.of
      .filter((w) => waveOf(object) <= waveOf(w))
      .map((w) =>
        problem(
          `metadata.annotations["${syncWaveAnnotation}"]`,
          `wave ${waveOf(object)} would run the ${object.kind} with or before ${objectId(w)} (wave ${waveOf(w)}), which it ${needs.verb}; it must run strictly after it is healthy`,
        ),
      );
  });
}

/**
 * The environment's objects as Argo CD should sync them; throws GenerationFailed on bad waves and
 * on an object whose kind is unclassified or whose holds-data mark disagrees with its kind.
 */
export function withSyncWaves(rendered: RenderedEnvironment, waves: ObjectWaves = objectWaves): RenderedEnvironment {
  const env = rendered.environment;
  const objects: RenderedObject[] = rendered.objects.map((o) =>
    annotated(o, {
      [syncWaveAnnotation]: String(syncWave(o.object, waves)),
      // What holds data is never pruned, and never deleted with its Application.
      ...(o.object.metadata?.annotations?.[holdsDataAnnotation] === "true" ? { [syncOptionsAnnotation]: "Prune=false,Delete=false" } : {}),
    }),
  );
  const lastWave = Math.max(...objects.map(({ object }) => Number(object.metadata?.annotations?.[syncWaveAnnotation])));
  const namespaces = [...new Set(objects.map(({ object }) => namespaceOf(object)))].sort(byCodePoint);
  const synced = [...objects, ...namespaces.map((ns) => renderedObject("sync-marker", syncMarker(env, ns, lastWave + 1)))];
  const problems = [...dataSafetyProblems(env.name, synced), ...orderProblems(env, objects)];
  if (problems.length > 0) throw new GenerationFailed(problems);
  return { environment: env, objects: synced };
}
