// Backups of a CloudNativePG Cluster through the Barman Cloud plugin (CloudNativePG's in-tree
// `barmanObjectStore` is deprecated since 1.26 and goes in 1.31): one ObjectStore the WAL archive
// and the base backups go to, the plugin on the Cluster, and a daily base backup.
import { ScheduledBackup } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/ScheduledBackup";
import type { Environment, PostgresBackup } from "../../config/types.ts";
import { holdsData, recommendedLabels, role } from "../../lib/labels.ts";
import type { SecretRef } from "../../lib/topology.ts";
import { ObjectStore } from "./object-store.ts";

/** The CNPG-I plugin name under which CloudNativePG calls the Barman Cloud plugin (its `metadata.PluginName`). */
export const barmanCloudPlugin = "barman-cloud.cloudnative-pg.io";

/**
 * One store for every Cluster of the environment: each writes into a folder named after itself (its
 * server name), so a Cluster made by a point-in-time recovery archives next to the one it was
 * restored from, and reads that one's folder.
 */
export const objectStoreName = "nx-postgresql-backups";

const credentialsSecret = "nx-postgresql-backup-s3";

/** The access key the plugin writes and reads the bucket with (a Secret; the pods have no cloud identity). */
export function backupSecrets(): { accessKeyId: SecretRef; secretAccessKey: SecretRef } {
  return {
    accessKeyId: { name: credentialsSecret, key: "ACCESS_KEY_ID", holds: "the access key id of the backup bucket's S3 credentials" },
    secretAccessKey: { name: credentialsSecret, key: "ACCESS_SECRET_KEY", holds: "the secret access key of the backup bucket's S3 credentials" },
  };
}

const backupRole = (instance: string) => role({ app: "postgresql", component: "backup" }, instance);

export function objectStore(env: Environment, backup: PostgresBackup): ObjectStore {
  const { accessKeyId, secretAccessKey } = backupSecrets();
  return new ObjectStore({
    // It holds no data itself, but removing it stops the archive and the backups of every Cluster.
    metadata: {
      name: objectStoreName,
      namespace: env.common.namespaces.persistent,
      labels: recommendedLabels(env, backupRole(objectStoreName)),
      annotations: holdsData,
    },
    spec: {
      retentionPolicy: backup.retention,
      configuration: {
        destinationPath: backup.destinationPath,
        ...(backup.endpointURL ? { endpointURL: backup.endpointURL } : {}),
        s3Credentials: {
          accessKeyId: { name: accessKeyId.name, key: accessKeyId.key },
          secretAccessKey: { name: secretAccessKey.name, key: secretAccessKey.key },
        },
        wal: { compression: "gzip", maxParallel: 4 },
        data: { compression: "gzip", jobs: 2 },
      },
    },
  });
}

/** The Cluster's `plugins` entry: the plugin archives its WAL (and takes its base backups) into the store. */
export const walArchiver = { name: barmanCloudPlugin, isWALArchiver: true, parameters: { barmanObjectName: objectStoreName } };

/**
 * Where a recovery reads: the store's folder of the Cluster `server`. Named explicitly: left out,
 * the plugin would read the folder of the new Cluster's own name, which holds nothing.
 */
export function recoverySource(server: string) {
  return { name: server, plugin: { name: barmanCloudPlugin, parameters: { barmanObjectName: objectStoreName, serverName: server } } };
}

/**
 * The daily base backup. The Backup objects it creates are owned by it (they are records; the
 * backups themselves stay in the store until the retention policy removes them).
 */
export function scheduledBackup(env: Environment, cluster: string, backup: PostgresBackup): ScheduledBackup {
  const name = `${cluster}-daily`;
  return new ScheduledBackup({
    metadata: { name, namespace: env.common.namespaces.persistent, labels: recommendedLabels(env, backupRole(name)) },
    spec: {
      cluster: { name: cluster },
      schedule: backup.schedule,
      method: "plugin",
      pluginConfiguration: { name: barmanCloudPlugin },
      backupOwnerReference: "self",
      // A new Cluster gets its first base backup at once, not at the next schedule.
      immediate: true,
    },
  });
}
