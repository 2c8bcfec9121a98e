// What Argo CD may prune. Every kind the layer renders is classified, by group and kind, as
// holding data (deleting one deletes data, or what data depends on) or as safe to prune (Git
// re-creates it as it was). An object of a data-bearing kind must carry the holds-data mark
// (lib/labels.ts), which is what keeps it from being pruned or deleted (`Prune=false,Delete=false`,
// delivery/waves.ts); a marked object of a prunable kind is a mistake too, and so is a kind in
// neither list: generation fails, naming the object, before anything is written.
import type { RenderedObject } from "../components/render.ts";
import { type Problem } from "../lib/errors.ts";
import { groupKind, objectId } from "../lib/identity.ts";
import { holdsDataAnnotation } from "../lib/labels.ts";

/** Kinds whose objects hold data or delete it when deleted, and why. */
export const dataBearingKinds: Readonly<Record<string, string>> = {
  Namespace: "deleting a Namespace deletes everything in it, volumes included",
  "StatefulSet.apps": "its claim templates give each pod the volume that holds its data",
  "Cluster.postgresql.cnpg.io": "the database: CloudNativePG owns its volumes and deletes them with it",
  // The default reclaim policy (retain) keeps it, but one `databaseReclaimPolicy: delete` would not.
  "Database.postgresql.cnpg.io": "with `databaseReclaimPolicy: delete`, deleting it drops the database",
  "ObjectStore.barmancloud.cnpg.io": "the backups' store: the Cluster archives its WAL through it, and a recovery reads every backup through it",
  // deleteClaim false keeps the volumes, but the cluster they belong to would be gone.
  "Kafka.kafka.strimzi.io": "the Kafka cluster: deleting it deletes every node and its configuration, and the volumes are left orphaned",
  "KafkaNodePool.kafka.strimzi.io": "a pool's nodes: deleting it removes them and their partitions' replicas from the cluster",
  "KafkaTopic.kafka.strimzi.io": "the topic Operator deletes the topic, and every message in it, with the KafkaTopic",
};

/** Kinds Argo CD may prune and Git re-creates, and why nothing is lost. */
export const prunableKinds: Readonly<Record<string, string>> = {
  ConfigMap: "configuration, all of it in Git",
  Service: "an address and a selector",
  "NetworkPolicy.networking.k8s.io": "a rule of which flows are allowed",
  "PodDisruptionBudget.policy": "a limit on voluntary evictions",
  "Deployment.apps": "stateless pods (no volume but memory)",
  "Job.batch": "a one-time init step, named after its content; a changed Job is a new one and the old is pruned",
  // Pruning it also deletes its Jobs (they are its own): at worst a running backup stops early.
  "CronJob.batch": "it starts backups; the snapshots live in the object store, kept by their retention",
  "Pooler.postgresql.cnpg.io": "PgBouncer pods; clients reconnect",
  "ScheduledBackup.postgresql.cnpg.io": "it starts backups; the backups live in the object store, kept by its retention policy",
  // No rows: with the default `publicationReclaimPolicy: retain` a pruned Publication stays in
  // PostgreSQL; with `delete` only the definition goes, and CDC stops until it is declared again.
  "Publication.postgresql.cnpg.io": "the definition of what CDC streams, no data",
  // With `creationPolicy: Owner` its Secret goes with it, but the secret store keeps the value:
  // declared again, it writes the same Secret (pods starting meanwhile wait for it).
  "ExternalSecret.external-secrets.io": "a copy of a value the secret store keeps",
  // Its password comes from a Secret the store keeps; the User Operator writes it again with its ACLs.
  "KafkaUser.kafka.strimzi.io": "a SCRAM user and its ACLs, re-created as they were (clients fail to log in meanwhile)",
};

/** The objects whose kind is unclassified, or whose mark disagrees with their kind's class. */
export function dataSafetyProblems(environment: string, objects: readonly RenderedObject[]): Problem[] {
  const field = `metadata.annotations["${holdsDataAnnotation}"]`;
  return objects.flatMap(({ component, object }) => {
    const kind = groupKind(object);
    const marked = object.metadata?.annotations?.[holdsDataAnnotation] === "true";
    const at = { environment, component, object: objectId(object) };
    const holds = dataBearingKinds[kind];
    if (holds !== undefined) {
      return marked ? [] : [{ ...at, field, message: `${kind} holds data (${holds}) but is not marked: its builder must set holdsData (lib/labels.ts), or Argo CD could prune it` }];
    }
    if (prunableKinds[kind] !== undefined) {
      return marked ? [{ ...at, field, message: `${kind} is classified as safe to prune, yet marked as holding data: classify the kind as data-bearing (delivery/data-safety.ts) or drop the mark` }] : [];
    }
    return [{ ...at, field: "kind", message: `${kind} is classified neither as holding data nor as safe to prune: add it to delivery/data-safety.ts, saying why` }];
  });
}
