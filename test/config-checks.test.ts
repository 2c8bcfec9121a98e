// Config checked before anything is built: enums and ranges the types name but cannot enforce at
// run time, and values that only make sense against others. Each fails with its environment,
// component, object and config field; staging as committed passes all of them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { configProblems } from "../generator/components/config-checks.ts";
import { redisBytes } from "../generator/components/redis/nodes.ts";
import { statefulSetsOf } from "../generator/components/postgres/statefulsets.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { GenerationFailed, formatProblem } from "../generator/lib/errors.ts";
import { buildOutput } from "../generator/pipeline.ts";
import { stagingWith } from "./support/config.ts";
import { copyProject, readTree, removeTempDirs } from "./support/repo.ts";

afterAll(removeTempDirs);

function generate(env: Environment): string[] {
  try {
    buildOutput([env]);
  } catch (err) {
    if (err instanceof GenerationFailed) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

/** A value the TypeScript types would refuse, as an environment file that was never type-checked can hold. */
const untyped = <T>(value: unknown) => value as T;
const kafkaWith = (extra: [string, string][]) => ({ kafka: { serverProperties: [...staging.kafka.serverProperties, ...extra] } });

describe("config checked before rendering", () => {
  it("passes staging as committed", () => {
    expect(configProblems(staging)).toEqual([]);
  });

  it.each<[string, Parameters<typeof stagingWith>[0], string[]]>([
    ["a pool mode PgBouncer does not know", { pgbouncer: { poolMode: untyped("transactional") } },
      ['staging / pgbouncer / ConfigMap nx-persistent/nx-pgbouncer-config / pgbouncer.poolMode: "transactional" is not one of session, transaction, statement']],
    ["no PgBouncer replica", { pgbouncer: { replicas: 0 } },
      ["staging / pgbouncer / Deployment nx-persistent/nx-pgbouncer / pgbouncer.replicas: 0 must be an integer of at least 1: without a pooler no client reaches PostgreSQL"]],
    ["a pool size that is not a whole number", { pgbouncer: { defaultPoolSize: 2.5 } },
      ["staging / pgbouncer / ConfigMap nx-persistent/nx-pgbouncer-config / pgbouncer.defaultPoolSize: 2.5 must be an integer of at least 1"]],
    ["no Typesense replica", { typesense: { replicas: 0 } },
      ["staging / typesense / StatefulSet nx-search/nx-typesense / typesense.replicas: 0 must be an integer of at least 1: search would be down"]],
    ["a replica count given as text", { debezium: { replicas: untyped("1") } },
      ['staging / debezium / Deployment nx-search/nx-debezium / debezium.replicas: "1" must be an integer of at least 1: no change would reach Kafka']],
    ["Redis maxmemory without headroom under the memory limit", { redis: { maxmemory: "400mb" } },
      ["staging / redis / StatefulSet nx-broker/nx-redis / redis.maxmemory: 400mb leaves too little of the container's 512Mi memory limit: an AOF rewrite forks Redis, which may then use up to twice maxmemory; keep maxmemory at most half the limit, or raise redis.resources.limits.memory"]],
    ["Redis maxmemory in units Redis does not read", { redis: { maxmemory: "256Mi" } },
      ['staging / redis / StatefulSet nx-broker/nx-redis / redis.maxmemory: "256Mi" is not a Redis memory size (e.g. 256mb)']],
    ["an eviction policy Redis does not know", { redis: { maxmemoryPolicy: untyped("lru") } },
      ['staging / redis / StatefulSet nx-broker/nx-redis / redis.maxmemoryPolicy: "lru" is not one of volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction']],
    ["min.insync.replicas above the brokers", { kafka: { serverProperties: staging.kafka.serverProperties.map(([k, v]) => [k, k === "min.insync.replicas" ? "4" : v] as const) } },
      ["staging / kafka / ConfigMap nx-broker/nx-kafka-config / kafka.serverProperties[4]: min.insync.replicas=4 is more than default.replication.factor=3, the replicas a partition has (which the brokers must hold): no write with acks=all could succeed"]],
    ["a transaction log min.isr above its replication factor", { kafka: { serverProperties: staging.kafka.serverProperties.map(([k, v]) => [k, k === "transaction.state.log.replication.factor" ? "1" : v] as const) } },
      ["staging / kafka / ConfigMap nx-broker/nx-kafka-config / kafka.serverProperties[2]: transaction.state.log.min.isr=2 is more than transaction.state.log.replication.factor=1, the replicas a partition has (which the brokers must hold): no write with acks=all could succeed"]],
    ["a Kafka setting given twice", kafkaWith([["num.partitions", "6"]]),
      ["staging / kafka / ConfigMap nx-broker/nx-kafka-config / kafka.serverProperties[10]: num.partitions is already set at kafka.serverProperties[5]; Kafka would silently keep only the last value"]],
    ["a Kafka setting the generator sets itself", kafkaWith([["log.dirs", "/tmp/kafka"]]),
      ["staging / kafka / ConfigMap nx-broker/nx-kafka-config / kafka.serverProperties[10]: log.dirs is set by the generator itself (server.properties would hold it twice, and Kafka keeps the last)"]],
    ["SCRAM iterations below Kafka's minimum", { kafka: { cluster: { scramIterations: 1000 } } },
      ["staging / kafka / ConfigMap nx-broker/nx-kafka-config / kafka.cluster.scramIterations: 1000 must be an integer of at least 4096 (Kafka's minimum for SCRAM-SHA-512)"]],
    ["a PostgreSQL setting given twice, in another case", { postgres: { cluster: { primary: { settings: [...statefulSetsOf(staging).primary.settings, ["Work_Mem", "16MB"]] } } } },
      ["staging / postgres / StatefulSet nx-persistent/nx-postgresql-primary / postgres.cluster.primary.settings[17]: Work_Mem is already set at postgres.cluster.primary.settings[6]; PostgreSQL would silently keep only the last value"]],
    ["a negative number of PostgreSQL replicas", { postgres: { cluster: { replica: { replicas: -1 } } } },
      ["staging / postgres / StatefulSet nx-persistent/nx-postgresql-replica / postgres.cluster.replica.replicas: -1 must be an integer of at least 0"]],
    ["a sync mode Argo CD delivery does not know", { sync: untyped("auto") },
      ['staging / argocd / (config) / sync: "auto" is not one of automated, manual']],
  ])("rejects %s", (_what, change, expected) => {
    expect(generate(stagingWith(change))).toEqual(expected);
  });

  it("accepts maxmemory at exactly half the limit, and a larger one with a larger limit", () => {
    expect(configProblems(stagingWith({ redis: { maxmemory: "512mb", resources: { limits: { memory: "1Gi" } } } }))).toEqual([]);
    expect(configProblems(stagingWith({ redis: { maxmemory: "257mb" } })).map((p) => p.field)).toEqual(["redis.maxmemory"]);
  });

  it.each([["256mb", 256 * 2 ** 20], ["1GB", 2 ** 30], ["1g", 1e9], ["100k", 1e5], ["4096", 4096]] as const)("reads Redis size %s as %d bytes", (size, bytes) => {
    expect(redisBytes(size)).toBe(bytes);
  });
});

describe("an environment file that was never type-checked", () => {
  it("fails generate with the located message and writes nothing", () => {
    const project = copyProject();
    const file = join(project, "generator/config/staging.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace('name: "staging",', 'name: "staging",\n  pgbouncer: { poolMode: "transactional" },'));
    const before = readTree(project);
    const run = spawnSync(process.execPath, [join(project, "generator/cli.ts"), "generate"], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('staging / pgbouncer / ConfigMap nx-persistent/nx-pgbouncer-config / pgbouncer.poolMode: "transactional" is not one of session, transaction, statement');
    expect(run.stderr).toContain("nothing written");
    expect(readTree(project)).toEqual(before);
  });
});
