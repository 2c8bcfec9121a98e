// Config the generator checks before it builds anything: values the TypeScript types name but
// cannot enforce at run time (an environment file that was never type-checked can still say
// `poolMode: "transactional"`), ranges, and values that only make sense against other values.
// Each problem names the object the value ends up in and the config field that holds it, like
// every other bad config; a component with a problem is not built.
import type { Environment, ExternalAddresses, KafkaStrimzi, PostgresBackup, PostgresCloudNativePg, PostgresFailover, PostgresSettings, RedisBackup, RedisReplicatedShards } from "../config/types.ts";
import { maxmemoryPolicies, poolModes, syncModes } from "../config/types.ts";
import { apiServerAddresses } from "../lib/network.ts";
import { memoryMiB } from "../lib/pod.ts";
import { redisBytes } from "./redis/nodes.ts";
import { names as debeziumNames } from "./debezium.ts";
import { largestReplicationFactor } from "./kafka/model.ts";
import { kafkaGeneratedKeys, names as kafkaNames } from "./kafka/statefulsets.ts";
import { pools as kafkaPools, strimziForbids } from "./kafka/strimzi.ts";
import { names as redisBackupNames } from "./redis/backup.ts";
import { names as redisMastersNames } from "./redis/masters.ts";
import { failoverSeconds as redisFailoverSeconds, names as redisShardNames } from "./redis/replicated-shards.ts";
import { names as typesenseNames, typesenseNodeHosts } from "./typesense.ts";
import { poolerName } from "./pgbouncer/cloudnative-pg.ts";
import { objectStoreName } from "./postgres/backup.ts";
import { failoverSeconds, layerParameterNames, operatorParameters } from "./postgres/cloudnative-pg.ts";

export interface ConfigProblem {
  readonly component: string;
  readonly object: string;
  readonly field: string;
  readonly message: string;
}

type Found = { field: string; message: string };

const oneOf = (field: string, value: unknown, allowed: readonly string[]): Found[] =>
  allowed.includes(value as string) ? [] : [{ field, message: `${JSON.stringify(value)} is not one of ${allowed.join(", ")}` }];

const integerAtLeast = (field: string, value: unknown, min: number, why = ""): Found[] =>
  Number.isInteger(value) && (value as number) >= min ? [] : [{ field, message: `${JSON.stringify(value)} must be an integer of at least ${min}${why}` }];

/** Every later occurrence of a name already given at an earlier index. */
function repeated(field: string, names: readonly string[], normalize: (name: string) => string, why: string): Found[] {
  return names.flatMap((name, i) => {
    const first = names.findIndex((n) => normalize(n) === normalize(name));
    return first < i ? [{ field: `${field}[${i}]`, message: `${name} is already set at ${field}[${first}]; ${why}` }] : [];
  });
}

// PostgreSQL setting names are case-insensitive; of two `-c` for one setting the last wins.
const postgresRepeats = (field: string, settings: PostgresSettings) =>
  repeated(field, settings.map(([name]) => name), (n) => n.toLowerCase(), "PostgreSQL would silently keep only the last value");

function redisMemory(env: Environment): Found[] {
  const bytes = redisBytes(env.redis.maxmemory);
  if (bytes === undefined) return [{ field: "redis.maxmemory", message: `${JSON.stringify(env.redis.maxmemory)} is not a Redis memory size (e.g. 256mb)` }];
  const limit = memoryMiB(env.redis.resources.limits.memory);
  // A malformed limit is reported by the object's own validation.
  if (limit === undefined || bytes <= (limit * 2 ** 20) / 2) return [];
  return [{
    field: "redis.maxmemory",
    message: `${env.redis.maxmemory} leaves too little of the container's ${env.redis.resources.limits.memory} memory limit: an AOF rewrite forks Redis, which may then use up to twice maxmemory; keep maxmemory at most half the limit, or raise redis.resources.limits.memory`,
  }];
}

// Each minimum of in-sync replicas, the replication factor it is measured against, and Kafka's
// default for that factor. The component itself requires the brokers to hold every factor, so
// a minimum within its factor is within the brokers too.
const inSyncMinimums: Record<string, { factor: string; byDefault: number }> = {
  "min.insync.replicas": { factor: "default.replication.factor", byDefault: 1 },
  "transaction.state.log.min.isr": { factor: "transaction.state.log.replication.factor", byDefault: 3 },
};

/** The broker settings both kinds apply: minimums within their factors, and each key once. */
function kafkaSettings(env: Environment): Found[] {
  const { serverProperties } = env.kafka;
  const keys = serverProperties.map(([key]) => key);
  const setting = (key: string) => serverProperties.find(([k]) => k === key)?.[1];
  const isr = serverProperties.flatMap(([key, value], i) => {
    const against = inSyncMinimums[key];
    if (!against) return [];
    const factor = Number(setting(against.factor) ?? against.byDefault);
    return Number(value) > factor
      ? [{ field: `kafka.serverProperties[${i}]`, message: `${key}=${value} is more than ${against.factor}=${factor}, the replicas a partition has (which the brokers must hold): no write with acks=all could succeed` }]
      : [];
  });
  return [...isr, ...repeated("kafka.serverProperties", keys, (k) => k, "Kafka would silently keep only the last value")];
}

/** What only the layer's own StatefulSets check: the keys the generator writes itself, the SCRAM iterations. */
function kafkaStatefulSetsSettings(env: Environment): Found[] {
  const cluster = env.kafka.cluster;
  if (cluster.kind !== "statefulsets") return [];
  // Kafka reads server.properties with java.util.Properties: of a key given twice the last wins.
  const generated = env.kafka.serverProperties.flatMap(([key], i) =>
    kafkaGeneratedKeys.includes(key)
      ? [{ field: `kafka.serverProperties[${i}]`, message: `${key} is set by the generator itself (server.properties would hold it twice, and Kafka keeps the last)` }]
      : [],
  );
  return [...generated, ...integerAtLeast("kafka.cluster.scramIterations", cluster.scramIterations, 4096, " (Kafka's minimum for SCRAM-SHA-512)")];
}

/**
 * A Strimzi Kafka: settings Strimzi refuses, and pools that cannot work or cannot be placed. A
 * KRaft quorum needs a majority of its controllers: an even count tolerates no more failures than
 * one less (Strimzi only warns), and fewer than 3 tolerates none. Each pool's nodes must each have
 * a host of their own (they spread over hosts DoNotSchedule), and rack awareness puts a
 * partition's replicas in distinct zones: fewer zones than the largest replication factor would
 * leave Cruise Control's hard RackAwareGoal unmet, so it is refused rather than silently weakened.
 */
function strimziChecks(env: Environment, cluster: KafkaStrimzi): [component: string, object: string, found: Found[]][] {
  const ns = env.common.namespaces.broker;
  const { hosts, zones } = env.statefulNodes;
  const forbidden = env.kafka.serverProperties.flatMap(([key], i) =>
    strimziForbids(key) ? [{ field: `kafka.serverProperties[${i}]`, message: `${key} is set by Strimzi itself, which refuses it in spec.kafka.config` }] : [],
  );
  const { key, factor } = largestReplicationFactor(env);
  const rack: Found[] = zones >= factor ? [] : [{ field: "statefulNodes.zones", message: `${zones} zones, but ${key}=${factor}: rack awareness puts a partition's ${factor} replicas in ${factor} distinct zones` }];
  const placement = (pool: "controllers" | "brokers"): Found[] =>
    cluster[pool].replicas <= hosts ? [] : [{ field: `kafka.cluster.${pool}.replicas`, message: `${cluster[pool].replicas} nodes, each on a host of its own, but the stateful pool has ${hosts} hosts (statefulNodes.hosts)` }];
  const controllers = cluster.controllers.replicas;
  const quorum: Found[] =
    Number.isInteger(controllers) && controllers >= 3 && controllers % 2 === 1
      ? []
      : [{ field: "kafka.cluster.controllers.replicas", message: `${controllers} controllers: the KRaft quorum needs an odd number of at least 3 (a majority survives one lost controller; an even count tolerates no more than one less)` }];
  return [
    ["kafka", `Kafka ${ns}/${cluster.name}`, [...kafkaSettings(env), ...forbidden, ...rack]],
    ["kafka", `KafkaNodePool ${ns}/${kafkaPools.controller}`, [...quorum, ...placement("controllers")]],
    ["kafka", `KafkaNodePool ${ns}/${kafkaPools.broker}`, placement("brokers")],
  ];
}

function kafkaChecks(env: Environment): [component: string, object: string, found: Found[]][] {
  const ns = env.common.namespaces.broker;
  const cluster = env.kafka.cluster;
  if (cluster.kind === "strimzi") return strimziChecks(env, cluster);
  return [["kafka", `ConfigMap ${ns}/${kafkaNames.config}`, [...kafkaSettings(env), ...kafkaStatefulSetsSettings(env)]]];
}

// CloudNativePG's cron (robfig/cron v1.2.0 `cron.Parse`) reads six fields, seconds first; given
// five, it takes them as second, minute, hour, day and month with the weekday left out, and its
// webhook only warns: `0 2 * * *` would back up at minute 2 of every hour.
const cronField = /^[0-9A-Za-z*?\/,-]+$/;
// The ObjectStore CRD's pattern for retentionPolicy.
const retentionPattern = /^[1-9][0-9]*[dwm]$/;
const s3Destination = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/;
const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
// A Cluster's name becomes its pods', Services' and PVCs' names (RFC 1123 label).
const clusterName = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function addressesProblems(field: string, addresses: ExternalAddresses | undefined, needed: string): Found[] {
  if (!addresses) return [{ field, message: `is not set: ${needed}` }];
  const badCidrs = addresses.cidrs.flatMap((c, i) => {
    const m = cidr.exec(c);
    return m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32 ? [] : [{ field: `${field}.cidrs[${i}]`, message: `${JSON.stringify(c)} is not an IPv4 CIDR block` }];
  });
  return [
    ...(addresses.cidrs.length === 0 ? [{ field: `${field}.cidrs`, message: "lists no address: nothing could be reached" }] : []),
    ...badCidrs,
    ...addresses.ports.flatMap((p, i) => (Number.isInteger(p) && p >= 1 && p <= 65535 ? [] : [{ field: `${field}.ports[${i}]`, message: `${JSON.stringify(p)} is not a port` }])),
    ...(/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(addresses.name) ? [] : [{ field: `${field}.name`, message: `${JSON.stringify(addresses.name)} must be a lower-case DNS label: NetworkPolicies are named after it` }]),
  ];
}

function scheduleProblems(backup: PostgresBackup): Found[] {
  const fields = backup.schedule.trim().split(/\s+/);
  if (fields.length !== 6) {
    const asFive = fields.length === 5 ? `it would take this one as second ${fields[0]}, minute ${fields[1]}, hour ${fields[2]}, day ${fields[3]}, month ${fields[4]}; ` : "";
    return [{ field: "postgres.cluster.backup.schedule", message: `${JSON.stringify(backup.schedule)} has ${fields.length} fields: CloudNativePG reads six, seconds first (${asFive}a daily backup at 02:00 is "0 0 2 * * *")` }];
  }
  return fields.every((f) => cronField.test(f)) ? [] : [{ field: "postgres.cluster.backup.schedule", message: `${JSON.stringify(backup.schedule)} is not a cron expression` }];
}

function storeProblems(backup: PostgresBackup): Found[] {
  return [
    ...(retentionPattern.test(backup.retention)
      ? []
      : [{ field: "postgres.cluster.backup.retention", message: `${JSON.stringify(backup.retention)} is not a retention: a number and d, w or m (${retentionPattern.source}), e.g. 30d` }]),
    ...(s3Destination.test(backup.destinationPath)
      ? []
      : [{ field: "postgres.cluster.backup.destinationPath", message: `${JSON.stringify(backup.destinationPath)} is not an S3 destination (s3://bucket/path/): the backups go to S3 with the credentials of docs/secrets.md` }]),
  ];
}

/**
 * The instance count and the synchronous replication it must carry. PostgreSQL under CloudNativePG
 * has no voting quorum whose parity matters: the primary is whoever holds the Cluster's Lease in
 * the API server (etcd's quorum decides), so an even count risks no split brain. What must hold is
 * that the standbys can serve what a commit waits for: `number` of them, and with
 * `dataDurability: required` still when one standby is down (a drain or a rolling update), or every
 * write stops.
 */
function replicationProblems(cluster: PostgresCloudNativePg): Found[] {
  const standbys = cluster.instances - 1;
  const sync = cluster.synchronous;
  const syncProblems: Found[] = !sync
    ? []
    : !Number.isInteger(sync.number) || sync.number < 1 || sync.number > standbys
      ? [{ field: "postgres.cluster.synchronous.number", message: `${sync.number} must be an integer from 1 to the ${standbys} standbys` }]
      : sync.dataDurability === "required" && sync.number > standbys - 1
        ? [{ field: "postgres.cluster.synchronous.number", message: `${sync.number} synchronous standbys of ${standbys}, required: one standby down (a drain, a rolling update) would stop every write; lower it or make dataDurability preferred` }]
        : [];
  return [
    ...integerAtLeast("postgres.cluster.instances", cluster.instances, 3, ": a primary and two standbys, so one standby can fail (or be drained) while another can still take over"),
    ...syncProblems,
    ...oneOf("postgres.cluster.synchronous.dataDurability", sync?.dataDurability ?? "preferred", ["required", "preferred"]),
  ];
}

function failoverProblems(failover: PostgresFailover): Found[] {
  const field = "postgres.cluster.failover";
  const { readiness, primaryLease: lease } = failover;
  const counts = [
    ...integerAtLeast(`${field}.readiness.periodSeconds`, readiness.periodSeconds, 1),
    ...integerAtLeast(`${field}.readiness.timeoutSeconds`, readiness.timeoutSeconds, 1),
    ...integerAtLeast(`${field}.readiness.failureThreshold`, readiness.failureThreshold, 1),
    ...integerAtLeast(`${field}.switchoverDelaySeconds`, failover.switchoverDelaySeconds, 1),
    ...integerAtLeast(`${field}.primaryLease.leaseDurationSeconds`, lease.leaseDurationSeconds, 1),
    ...integerAtLeast(`${field}.primaryLease.renewDeadlineSeconds`, lease.renewDeadlineSeconds, 1),
    ...integerAtLeast(`${field}.primaryLease.retryPeriodSeconds`, lease.retryPeriodSeconds, 1),
  ];
  if (counts.length > 0) return counts;
  // CloudNativePG's webhook holds the Lease to Kubernetes leader election's invariants.
  const leaseProblems: Found[] = [
    ...(lease.leaseDurationSeconds > lease.renewDeadlineSeconds ? [] : [{ field: `${field}.primaryLease.leaseDurationSeconds`, message: `${lease.leaseDurationSeconds} must be more than renewDeadlineSeconds=${lease.renewDeadlineSeconds}` }]),
    ...(lease.renewDeadlineSeconds > 1.2 * lease.retryPeriodSeconds ? [] : [{ field: `${field}.primaryLease.renewDeadlineSeconds`, message: `${lease.renewDeadlineSeconds} must be more than 1.2 × retryPeriodSeconds=${lease.retryPeriodSeconds}` }]),
  ];
  const t = failoverSeconds(failover);
  const budget: Found[] =
    t.worst <= failover.budgetSeconds
      ? []
      : [{
          field: `${field}.budgetSeconds`,
          message: `the settings let a failover take up to ${t.worst} s, more than ${failover.budgetSeconds}: ${t.detect} s to see the primary fail (readiness ${readiness.failureThreshold} × ${readiness.periodSeconds} s + ${readiness.timeoutSeconds} s), then ${t.stop} s to stop it and ${t.handOver} s to hand over the Lease (or ${t.lost} s for a lost pod's Lease to expire), then ${t.promote} s to promote`,
        }];
  return [...leaseProblems, ...budget];
}

function cloudNativePgChecks(env: Environment, cluster: PostgresCloudNativePg): [component: string, object: string, found: Found[]][] {
  const ns = env.common.namespaces.persistent;
  const managed = new Set(operatorParameters);
  const layer = new Set(layerParameterNames());
  const settings = cluster.settings.flatMap(([name], i): Found[] => {
    const key = name.toLowerCase();
    if (managed.has(key)) return [{ field: `postgres.cluster.settings[${i}]`, message: `${name} is set by CloudNativePG, whose webhook refuses it` }];
    if (layer.has(key)) return [{ field: `postgres.cluster.settings[${i}]`, message: `${name} is set by the generator itself (generator/components/postgres/cloudnative-pg.ts)` }];
    return [];
  });
  const recovery: Found[] = !cluster.recovery
    ? []
    : [
        ...(clusterName.test(cluster.recovery.source) ? [] : [{ field: "postgres.cluster.recovery.source", message: `${JSON.stringify(cluster.recovery.source)} is not a Cluster name` }]),
        ...(cluster.recovery.source === cluster.name ? [{ field: "postgres.cluster.recovery.source", message: `is the Cluster's own name: a recovered Cluster needs a new name, or it would archive into the folder it restores from` }] : []),
        ...(rfc3339(cluster.recovery.targetTime) ? [] : [{ field: "postgres.cluster.recovery.targetTime", message: `${JSON.stringify(cluster.recovery.targetTime)} is not an RFC 3339 time (2026-09-01T10:15:00Z)` }]),
      ];
  return [
    ["postgres", `Cluster ${ns}/${cluster.name}`, [
      ...(clusterName.test(cluster.name) && cluster.name.length <= 50 ? [] : [{ field: "postgres.cluster.name", message: `${JSON.stringify(cluster.name)} is not a lower-case DNS label of at most 50 characters` }]),
      ...postgresRepeats("postgres.cluster.settings", cluster.settings),
      ...settings,
      ...replicationProblems(cluster),
      ...failoverProblems(cluster.failover),
      ...recovery,
      ...addressesProblems("apiServer", apiServerAddresses(env), "the instances call the API server"),
      ...addressesProblems("postgres.cluster.backup.objectStorage", cluster.backup.objectStorage, "the instances archive to the object store"),
    ]],
    ["postgres", `ObjectStore ${ns}/${objectStoreName}`, storeProblems(cluster.backup)],
    ["postgres", `ScheduledBackup ${ns}/${cluster.name}-daily`, scheduleProblems(cluster.backup)],
  ];
}

/** What CloudNativePG's Pooler allows of the shared PgBouncer settings, and the pods production needs. */
function cloudNativePgPoolerChecks(env: Environment): [component: string, object: string, found: Found[]][] {
  if (env.pgbouncer.pooler.kind !== "cloudnative-pg") return [];
  return [["pgbouncer", `Pooler ${env.common.namespaces.persistent}/${poolerName}`, [
    ...integerAtLeast("pgbouncer.replicas", env.pgbouncer.replicas, 2, ": one pooler pod is an outage at every drain, upgrade or node loss"),
    ...(env.pgbouncer.poolMode === "statement" ? [{ field: "pgbouncer.poolMode", message: "statement is not a pool mode CloudNativePG's Pooler offers (session, transaction)" }] : []),
    ...addressesProblems("apiServer", apiServerAddresses(env), "the pooler calls the API server"),
  ]]];
}

/** An RFC 3339 date-time with a time zone (a real day and time), which CloudNativePG's recovery target takes as it is. */
export function rfc3339(time: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/.exec(time);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  const offsetOk = m[8] === "Z" || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour <= 23 && minute <= 59 && second <= 60 && offsetOk;
}


function postgresChecks(env: Environment): [component: string, object: string, found: Found[]][] {
  const ns = env.common.namespaces.persistent;
  const cluster = env.postgres.cluster;
  if (cluster.kind === "statefulsets") {
    return [
      ["postgres", `StatefulSet ${ns}/nx-postgresql-primary`, postgresRepeats("postgres.cluster.primary.settings", cluster.primary.settings)],
      ["postgres", `StatefulSet ${ns}/nx-postgresql-replica`, [
        ...postgresRepeats("postgres.cluster.replica.settings", cluster.replica.settings),
        ...integerAtLeast("postgres.cluster.replica.replicas", cluster.replica.replicas, 0),
      ]],
    ];
  }
  if (cluster.kind === "cloudnative-pg") return cloudNativePgChecks(env, cluster);
  // Another kind is reported by components/kinds.ts, where the implementation is chosen.
  return [];
}

function pgbouncerChecks(env: Environment): [component: string, object: string, found: Found[]][] {
  const ns = env.common.namespaces.persistent;
  const cfg = env.pgbouncer;
  // The objects the values end up in: the Deployment and its pgbouncer.ini, or CloudNativePG's Pooler.
  const [pods, settings] = cfg.pooler.kind === "cloudnative-pg"
    ? [`Pooler ${ns}/nx-pgbouncer`, `Pooler ${ns}/nx-pgbouncer`]
    : [`Deployment ${ns}/nx-pgbouncer`, `ConfigMap ${ns}/nx-pgbouncer-config`];
  return [
    ["pgbouncer", pods, [
      ...integerAtLeast("pgbouncer.replicas", cfg.replicas, 1, ": without a pooler no client reaches PostgreSQL"),
    ]],
    ["pgbouncer", settings, [
      ...oneOf("pgbouncer.poolMode", cfg.poolMode, poolModes),
      ...integerAtLeast("pgbouncer.maxClientConn", cfg.maxClientConn, 1),
      ...integerAtLeast("pgbouncer.defaultPoolSize", cfg.defaultPoolSize, 1),
      ...integerAtLeast("pgbouncer.minPoolSize", cfg.minPoolSize, 0),
      ...integerAtLeast("pgbouncer.reservePoolSize", cfg.reservePoolSize, 0),
      ...integerAtLeast("pgbouncer.maxDbConnections", cfg.maxDbConnections, 0, " (0: no limit)"),
    ]],
  ];
}

/**
 * A shard's pods must each have a node of their own (required anti-affinity), and the settings a
 * failover's duration adds up from must fit its budget.
 */
function replicatedShardsProblems(env: Environment, cluster: RedisReplicatedShards): Found[] {
  const field = "redis.cluster";
  const counts = [
    ...integerAtLeast("redis.masters", env.redis.masters, 3, ": a Redis Cluster needs at least 3 masters"),
    ...integerAtLeast(`${field}.replicasPerShard`, cluster.replicasPerShard, 1, ": a replicated shard has at least one replica"),
    ...integerAtLeast("redis.clusterNodeTimeoutMs", env.redis.clusterNodeTimeoutMs, 1),
  ];
  if (counts.length > 0) return counts;
  const size = 1 + cluster.replicasPerShard;
  const placement: Found[] =
    size <= env.statefulNodes.hosts
      ? []
      : [{
          field: `${field}.replicasPerShard`,
          message: `Redis replicas that cannot be placed: a shard's ${size} pods (a master and ${cluster.replicasPerShard} replicas) must each be on a node of their own, and statefulNodes.hosts is ${env.statefulNodes.hosts}; lower the replicas or add nodes to the pool`,
        }];
  const { clientRedirectSeconds: client, budgetSeconds } = cluster.failover;
  if (!(typeof client === "number" && client >= 0)) return [...placement, { field: `${field}.failover.clientRedirectSeconds`, message: `${JSON.stringify(client)} must be a number of seconds, 0 or more` }];
  const t = redisFailoverSeconds(env, cluster);
  const budget: Found[] =
    t.worst <= budgetSeconds
      ? []
      : [{
          field: `${field}.failover.budgetSeconds`,
          message: `the settings let a failover take up to ${t.worst} s, more than ${budgetSeconds}: ${t.detect} s to flag the master failing (PING after clusterNodeTimeoutMs/2, then clusterNodeTimeoutMs unanswered), ${t.reports} s for a majority of masters' reports to meet, ${t.election} s before the replica of rank ${cluster.replicasPerShard - 1} starts its election, ${t.ticks} s of cron ticks, ${t.client} s for clients to follow; lower redis.clusterNodeTimeoutMs or the replicas, or raise the budget`,
        }];
  return [...placement, ...budget];
}

// A CronJob's schedule (robfig/cron's standard parser, as the CronJob controller uses it): five
// fields, minute first, or a macro such as @daily.
const cronMacro = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;

function redisBackupProblems(backup: RedisBackup): Found[] {
  const fields = backup.schedule.trim().split(/\s+/);
  const schedule: Found[] =
    cronMacro.test(backup.schedule.trim()) || (fields.length === 5 && fields.every((f) => cronField.test(f)))
      ? []
      : [{ field: "redis.backup.schedule", message: `${JSON.stringify(backup.schedule)} is not a CronJob schedule: five fields, minute hour day month weekday (a daily run at 03:00 UTC is "0 3 * * *")` }];
  let endpoint: URL | undefined;
  try {
    endpoint = new URL(backup.endpointURL);
  } catch {
    endpoint = undefined;
  }
  const endpointPort = endpoint?.protocol === "https:" ? Number(endpoint.port || 443) : undefined;
  return [
    ...schedule,
    ...integerAtLeast("redis.backup.retentionDays", backup.retentionDays, 1),
    ...(s3Destination.test(backup.destinationPath)
      ? []
      : [{ field: "redis.backup.destinationPath", message: `${JSON.stringify(backup.destinationPath)} is not an S3 destination (s3://bucket/path/)` }]),
    ...(endpointPort === undefined
      ? [{ field: "redis.backup.endpointURL", message: `${JSON.stringify(backup.endpointURL)} is not an https:// URL: the snapshots go to S3 over TLS only` }]
      : backup.objectStorage?.ports.includes(endpointPort) === false
        ? [{ field: "redis.backup.objectStorage.ports", message: `do not include ${endpointPort}, the port of ${backup.endpointURL}: the backup could not reach it` }]
        : []),
    ...addressesProblems("redis.backup.objectStorage", backup.objectStorage, "the backup uploads to the object store"),
  ];
}

function redisChecks(env: Environment): [component: string, object: string, found: Found[]][] {
  const ns = env.common.namespaces.broker;
  const cluster = env.redis.cluster;
  const nodes = cluster.kind === "replicated-shards" ? redisShardNames.shard(0) : redisMastersNames.statefulSet;
  return [
    ["redis", `StatefulSet ${ns}/${nodes}`, [
      ...redisMemory(env),
      ...oneOf("redis.maxmemoryPolicy", env.redis.maxmemoryPolicy, maxmemoryPolicies),
      ...(cluster.kind === "replicated-shards"
        ? replicatedShardsProblems(env, cluster)
        : integerAtLeast("redis.clusterNodeTimeoutMs", env.redis.clusterNodeTimeoutMs, 1)),
    ]],
    ...(env.redis.backup ? [["redis", `CronJob ${ns}/${redisBackupNames.cronJob}`, redisBackupProblems(env.redis.backup)] as [string, string, Found[]]] : []),
  ];
}

const storeKinds = ["ClusterSecretStore", "SecretStore"] as const;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// A Go duration, as the ExternalSecret's refreshInterval (metav1.Duration) is parsed.
const goDuration = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** Where the External Secrets Operator reads the Secrets from: every ExternalSecret names it. */
function secretStore(env: Environment): Found[] {
  const source = env.secrets;
  if (source.kind !== "external-secrets") return [];
  const { store, remoteKeyPrefix, refreshInterval, endpoint } = source;
  return [
    ...oneOf("secrets.store.kind", store?.kind, storeKinds),
    ...(typeof store?.name === "string" && store.name.length <= 253 && dnsSubdomain.test(store.name)
      ? []
      : [{ field: "secrets.store.name", message: `${JSON.stringify(store?.name)} is not the name of a ${store?.kind ?? "secret store"}: name the store the External Secrets Operator reads the Secrets from` }]),
    ...(typeof remoteKeyPrefix === "string" && remoteKeyPrefix.length > 0 && !remoteKeyPrefix.endsWith("/")
      ? []
      : [{ field: "secrets.remoteKeyPrefix", message: `${JSON.stringify(remoteKeyPrefix)} must be a non-empty path without a trailing slash (remote keys are <prefix>/<Secret name>)` }]),
    ...(typeof refreshInterval === "string" && goDuration.test(refreshInterval)
      ? []
      : [{ field: "secrets.refreshInterval", message: `${JSON.stringify(refreshInterval)} is not a duration such as 1h or 30m` }]),
    ...(Number.isInteger(endpoint?.port) && endpoint.port >= 1 && endpoint.port <= 65535
      ? []
      : [{ field: "secrets.endpoint.port", message: `${JSON.stringify(endpoint?.port)} is not a TCP port (1-65535)` }]),
  ];
}

// Typesense's limit on a host of its nodes file (raft_server.cpp resolve_node_hosts): a longer one
// is dropped from the peers.
const typesenseHostLength = 64;

/**
 * One node, or a Raft cluster it can build: an odd number of nodes (an even one tolerates no more
 * failures than one node fewer, and 2 tolerate none), each on a host of its own, each named within
 * Typesense's host length.
 */
function typesenseSize(env: Environment): Found[] {
  const { replicas } = env.typesense;
  const field = "typesense.replicas";
  const atLeastOne = integerAtLeast(field, replicas, 1, ": search would be down");
  if (atLeastOne.length > 0 || replicas === 1) return atLeastOne;
  if (replicas % 2 === 0) {
    const survives = replicas / 2 - 1;
    return [{ field, message: `${replicas} nodes: a Raft majority of ${replicas} is ${replicas / 2 + 1}, so they survive ${survives} failed node${survives === 1 ? "" : "s"}, no more than ${replicas - 1} would, and a split into halves elects no leader; use 1 or an odd number of at least 3` }];
  }
  if (replicas > env.statefulNodes.hosts) {
    return [{ field, message: `${replicas} Raft nodes need ${replicas} hosts (one node per host, required anti-affinity), but statefulNodes.hosts is ${env.statefulNodes.hosts}: the rest would never be scheduled` }];
  }
  const tooLong = typesenseNodeHosts(env).find((host) => host.length > typesenseHostLength);
  return tooLong
    ? [{ field, message: `node host ${tooLong} is ${tooLong.length} characters; Typesense drops a nodes-file host longer than ${typesenseHostLength}, so that node would never join` }]
    : [];
}

/** Every config problem of the environment, by the component (or stage) the value belongs to. */
export function configProblems(env: Environment): ConfigProblem[] {
  const ns = env.common.namespaces;
  const checks: [component: string, object: string, found: Found[]][] = [
    ...postgresChecks(env),
    ...pgbouncerChecks(env),
    ...cloudNativePgPoolerChecks(env),
    ...redisChecks(env),
    ...kafkaChecks(env),
    ["typesense", `StatefulSet ${ns.search}/${typesenseNames.statefulSet}`, typesenseSize(env)],
    ["debezium", `Deployment ${ns.search}/${debeziumNames.deployment}`, integerAtLeast("debezium.replicas", env.debezium.replicas, 1, ": no change would reach Kafka")],
    ["external-secrets", "ExternalSecret (each)", secretStore(env)],
    ["argocd", "(config)", oneOf("sync", env.sync, syncModes)],
  ];
  return checks.flatMap(([component, object, found]) => found.map((f) => ({ component, object, ...f })));
}
