// The off-cluster backup (redis.backup): on its schedule, a CronJob takes an RDB snapshot of every
// shard, from a replica when the shard has one up (the master keeps serving without the fork), and
// uploads them to S3 under a folder named after the run's start, then deletes the snapshots older
// than the retention. The nodes' own AOF stays what a pod restart recovers from; these snapshots
// are for losing the volumes or the cluster (restore: docs/redis.md).
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { Environment, RedisBackup } from "../../config/types.ts";
import { objectMeta, recommendedLabels, role } from "../../lib/labels.ts";
import { networkPolicy, type Pods, podsOf, toAddresses } from "../../lib/network.ts";
import type { KubeObject } from "../../lib/objects.ts";
import { container, plainEnv, resources, restrictedPodSecurity, secretEnv } from "../../lib/pod.ts";
import type { SecretRef } from "../../lib/topology.ts";
import { ports, redisBytes, secret, shardMembersFunction, uid } from "./nodes.ts";

export const names = {
  cronJob: "nx-redis-backup",
  egress: "allow-redis-backup",
  nodesIngress: "allow-redis-from-backup",
} as const;

const backupRole = { app: "redis", component: "backup" } as const;

const credentialsSecret = "nx-redis-backup-s3";

/** The access key the backup writes, lists and deletes in the bucket with. */
export function backupSecrets(): { accessKeyId: SecretRef; secretAccessKey: SecretRef } {
  return {
    accessKeyId: { name: credentialsSecret, key: "ACCESS_KEY_ID", holds: "the access key id of the Redis backup bucket's S3 credentials" },
    secretAccessKey: { name: credentialsSecret, key: "ACCESS_SECRET_KEY", holds: "the secret access key of the Redis backup bucket's S3 credentials" },
  };
}

/** A run may take this long (a stuck upload ends, and the next run is not held off by Forbid). */
const activeDeadlineSeconds = 3600;

// For each shard, a replica whose link to its master is up, else the master itself; `--rdb` makes
// the node send a fresh snapshot as it would to a new replica (a BGSAVE, or a diskless transfer,
// which waits repl-diskless-sync-delay first): the shards' snapshots are taken at once.
const snapshotScript = `set -eu
export REDISCLI_AUTH="$REDIS_PASSWORD"
${shardMembersFunction}
shards=$(( $(set -- $REDIS_SHARDS; echo $#) / REDIS_SHARD_SIZE ))
replication() { redis-cli -h "$1" -p ${ports.redis} info replication | tr -d '\\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
pids=""
k=0
while [ "$k" -lt "$shards" ]; do
  source=""
  for host in $(shard_members "$k"); do
    role=$(replication "$host" role || true)
    if [ "$role" = slave ] && [ "$(replication "$host" master_link_status)" = up ]; then source="$host"; break; fi
    if [ "$role" = master ] && [ -z "$source" ]; then source="$host"; fi
  done
  [ -n "$source" ] || { echo "shard $k: no member answers" >&2; exit 1; }
  echo "shard $k: snapshot of $source"
  redis-cli -h "$source" -p ${ports.redis} --rdb "/backup/shard-$k.rdb" &
  pids="$pids $!"
  k=$((k + 1))
done
# A failed snapshot fails the pod, so nothing is uploaded and no old snapshot deleted.
for pid in $pids; do wait "$pid"; done
`;

// rclone reads the remote "backup" from RCLONE_CONFIG_BACKUP_* (no config file); --min-age keeps
// what was uploaded within the retention, this run's snapshots included.
const uploadScript = `set -eu
run=$(date -u +%Y-%m-%dT%H%M%SZ)
rclone copy /backup "$BACKUP_REMOTE/$run"
echo "uploaded to $BACKUP_REMOTE/$run"
rclone delete "$BACKUP_REMOTE" --min-age "\${RETENTION_DAYS}d"
`;

/** `s3://bucket/path/` as rclone names it on the remote `backup`. */
const rcloneRemote = (destinationPath: string) => `backup:${destinationPath.replace(/^s3:\/\//, "").replace(/\/+$/, "")}`;

/** The restricted container context, with the root filesystem read-only (the snapshots go to an emptyDir). */
const readOnly = (spec: IContainer): IContainer => {
  const c = container(spec);
  return { ...c, securityContext: { ...c.securityContext, readOnlyRootFilesystem: true } };
};

function backupCronJob(env: Environment, backup: RedisBackup, shards: readonly (readonly string[])[]): CronJob {
  const { accessKeyId, secretAccessKey } = backupSecrets();
  const jobResources = resources(env.common.jobs.resources);
  const maxmemory = redisBytes(env.redis.maxmemory) ?? 0;
  const initContainers = [
    readOnly({
      name: "snapshot",
      image: env.common.images.redis,
      command: ["sh", "-c", snapshotScript],
      env: [
        plainEnv("REDIS_SHARDS", shards.flat().join(" ")),
        plainEnv("REDIS_SHARD_SIZE", String(shards[0]?.length ?? 1)),
        secretEnv("REDIS_PASSWORD", secret),
      ],
      resources: jobResources,
      volumeMounts: [{ name: "backup", mountPath: "/backup" }],
    }),
  ];
  const containers = [
    readOnly({
      name: "upload",
      image: env.common.images.rclone,
      command: ["sh", "-c", uploadScript],
      env: [
        plainEnv("BACKUP_REMOTE", rcloneRemote(backup.destinationPath)),
        plainEnv("RETENTION_DAYS", String(backup.retentionDays)),
        plainEnv("RCLONE_CONFIG_BACKUP_TYPE", "s3"),
        plainEnv("RCLONE_CONFIG_BACKUP_PROVIDER", "Other"),
        plainEnv("RCLONE_CONFIG_BACKUP_ENDPOINT", backup.endpointURL),
        ...(backup.region ? [plainEnv("RCLONE_CONFIG_BACKUP_REGION", backup.region)] : []),
        // The key may write and delete objects, not create buckets.
        plainEnv("RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET", "true"),
        secretEnv("RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID", accessKeyId),
        secretEnv("RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY", secretAccessKey),
        // The image's home and config folders are on the read-only root filesystem.
        plainEnv("HOME", "/tmp"),
        plainEnv("XDG_CONFIG_HOME", "/tmp/config"),
        plainEnv("XDG_CACHE_HOME", "/tmp/cache"),
      ],
      resources: jobResources,
      volumeMounts: [
        { name: "backup", mountPath: "/backup", readOnly: true },
        { name: "tmp", mountPath: "/tmp" },
      ],
    }),
  ];
  const pod = { initContainers, containers };
  const jobRole = role(backupRole, names.cronJob, env.common.images.redis);
  return new CronJob({
    metadata: objectMeta(env, jobRole, names.cronJob, env.common.namespaces.broker),
    spec: {
      schedule: backup.schedule,
      timeZone: "Etc/UTC",
      // A run still going when the next is due (a large upload) is left to finish.
      concurrencyPolicy: "Forbid",
      // A run missed by more than this (the controller down) is skipped, not started late.
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: env.common.jobs.backoffLimit,
          activeDeadlineSeconds,
          template: {
            metadata: { labels: recommendedLabels(env, jobRole) },
            spec: {
              restartPolicy: "Never",
              ...pod,
              volumes: [
                // Room for every shard's snapshot: an RDB is at most about its data set, capped by maxmemory.
                { name: "backup", emptyDir: { sizeLimit: `${Math.ceil((shards.length * maxmemory) / 2 ** 20)}Mi` } },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
              nodeSelector: { "node.kubernetes.io/pool": env.common.nodePools.jobs },
              securityContext: restrictedPodSecurity(uid, { fsGroup: false }),
            },
          },
        },
      },
    },
  });
}

/** The backup's CronJob and its flows: to the nodes, and to the object store and nothing else outside the cluster. */
export function redisBackup(env: Environment, backup: RedisBackup, shards: readonly (readonly string[])[], nodes: Pods): KubeObject[] {
  const namespace = env.common.namespaces.broker;
  const backupPods = podsOf(backupRole);
  return [
    backupCronJob(env, backup, shards),
    networkPolicy(env, {
      name: names.egress,
      namespace,
      pods: backupPods,
      egress: [{ peers: [{ namespace, pods: nodes }], ports: [ports.redis] }, toAddresses(backup.objectStorage)],
    }),
    networkPolicy(env, {
      name: names.nodesIngress,
      namespace,
      pods: nodes,
      ingress: [{ peers: [{ namespace, pods: backupPods }], ports: [ports.redis] }],
    }),
  ];
}
