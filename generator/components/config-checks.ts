// Config the generator checks before it builds anything: values the TypeScript types name but
// cannot enforce at run time (an environment file that was never type-checked can still say
// `poolMode: "transactional"`), ranges, and values that only make sense against other values.
// Each problem names the object the value ends up in and the config field that holds it, like
// every other bad config; a component with a problem is not built.
import type { Environment, PostgresSettings } from "../config/types.ts";
import { maxmemoryPolicies, poolModes, syncModes } from "../config/types.ts";
import { memoryMiB } from "../lib/pod.ts";
import { names as debeziumNames } from "./debezium.ts";
import { kafkaGeneratedKeys, names as kafkaNames } from "./kafka.ts";
import { names as redisNames } from "./redis.ts";
import { names as typesenseNames } from "./typesense.ts";

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

/** Redis' memory units (redis src/util.c memtoull): bytes, k/m/g (powers of 1000), kb/mb/gb (of 1024), any case. */
export function redisBytes(size: string): number | undefined {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(size);
  if (!m) return undefined;
  const unit = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 }[(m[2] ?? "b").toLowerCase() as "b"];
  return Number(m[1]) * unit;
}

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

function kafkaSettings(env: Environment): Found[] {
  const { serverProperties } = env.kafka;
  const keys = serverProperties.map(([key]) => key);
  const setting = (key: string) => serverProperties.find(([k]) => k === key)?.[1];
  const isr = serverProperties.flatMap(([key, value], i) => {
    const against = inSyncMinimums[key];
    if (!against) return [];
    const factor = Number(setting(against.factor) ?? against.byDefault);
    return Number(value) > factor
      ? [{ field: `kafka.serverProperties[${i}]`, message: `${key}=${value} is more than ${against.factor}=${factor}, the replicas a partition has (which the ${env.kafka.brokers} brokers must hold): no write with acks=all could succeed` }]
      : [];
  });
  // Kafka reads server.properties with java.util.Properties: of a key given twice the last wins.
  const generated = keys.flatMap((key, i) =>
    kafkaGeneratedKeys.includes(key)
      ? [{ field: `kafka.serverProperties[${i}]`, message: `${key} is set by the generator itself (server.properties would hold it twice, and Kafka keeps the last)` }]
      : [],
  );
  return [
    ...isr,
    ...repeated("kafka.serverProperties", keys, (k) => k, "Kafka would silently keep only the last value"),
    ...generated,
    ...integerAtLeast("kafka.scramIterations", env.kafka.scramIterations, 4096, " (Kafka's minimum for SCRAM-SHA-512)"),
  ];
}

const clusterKinds = ["statefulsets", "cloudnative-pg"] as const;
const poolerKinds = ["deployment", "cloudnative-pg"] as const;

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
  if (cluster.kind === "cloudnative-pg") {
    return [["postgres", `Cluster ${ns}/nx-postgresql`, postgresRepeats("postgres.cluster.settings", cluster.settings)]];
  }
  return [["postgres", "(config)", oneOf("postgres.cluster.kind", (cluster as { kind: unknown }).kind, clusterKinds)]];
}

/** Every config problem of the environment, by the component (or stage) the value belongs to. */
export function configProblems(env: Environment): ConfigProblem[] {
  const ns = env.common.namespaces;
  const checks: [component: string, object: string, found: Found[]][] = [
    ...postgresChecks(env),
    ["pgbouncer", `PgBouncer ${ns.persistent}/nx-pgbouncer`, [
      ...oneOf("pgbouncer.pooler.kind", env.pgbouncer.pooler.kind, poolerKinds),
      ...integerAtLeast("pgbouncer.replicas", env.pgbouncer.replicas, 1, ": without a pooler no client reaches PostgreSQL"),
      ...oneOf("pgbouncer.poolMode", env.pgbouncer.poolMode, poolModes),
      ...integerAtLeast("pgbouncer.maxClientConn", env.pgbouncer.maxClientConn, 1),
      ...integerAtLeast("pgbouncer.defaultPoolSize", env.pgbouncer.defaultPoolSize, 1),
      ...integerAtLeast("pgbouncer.minPoolSize", env.pgbouncer.minPoolSize, 0),
      ...integerAtLeast("pgbouncer.reservePoolSize", env.pgbouncer.reservePoolSize, 0),
      ...integerAtLeast("pgbouncer.maxDbConnections", env.pgbouncer.maxDbConnections, 0, " (0: no limit)"),
    ]],
    ["redis", `StatefulSet ${ns.broker}/${redisNames.statefulSet}`, [
      ...redisMemory(env),
      ...oneOf("redis.maxmemoryPolicy", env.redis.maxmemoryPolicy, maxmemoryPolicies),
      ...integerAtLeast("redis.clusterNodeTimeoutMs", env.redis.clusterNodeTimeoutMs, 1),
    ]],
    ["kafka", `ConfigMap ${ns.broker}/${kafkaNames.config}`, kafkaSettings(env)],
    ["typesense", `StatefulSet ${ns.search}/${typesenseNames.statefulSet}`, integerAtLeast("typesense.replicas", env.typesense.replicas, 1, ": search would be down")],
    ["debezium", `Deployment ${ns.search}/${debeziumNames.deployment}`, integerAtLeast("debezium.replicas", env.debezium.replicas, 1, ": no change would reach Kafka")],
    ["argocd", "(config)", oneOf("sync", env.sync, syncModes)],
  ];
  return checks.flatMap(([component, object, found]) => found.map((f) => ({ component, object, ...f })));
}
