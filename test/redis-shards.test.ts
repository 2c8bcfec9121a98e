// Production's Redis (redis.cluster.kind "replicated-shards") and the backup CronJob: what each
// object must hold, the config refused with its location, and the flows the rendered
// NetworkPolicies must open and keep closed. The real-server side is redis-shards-real.test.ts.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redis, redisContract } from "../generator/components/redis/index.ts";
import { createOrder, failoverSeconds, names, shardHosts } from "../generator/components/redis/replicated-shards.ts";
import { redisBytes } from "../generator/components/redis/nodes.ts";
import { backendSettings } from "../generator/clients/backend.ts";
import { quantityValue } from "../policies/quantity.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment, RedisReplicatedShards } from "../generator/config/types.ts";
import { type Manifest, runPolicies, type Source } from "../policies/engine.ts";
import { loadExceptions } from "../policies/exceptions.ts";
import { rules } from "../policies/rules/index.ts";
import { loadSources } from "../policies/sources.ts";
import { plain, problems, productionWith } from "./support/config.ts";
import { copyProject, readTree, removeTempDirs } from "./support/repo.ts";

afterAll(removeTempDirs);

const rendered = (env: Environment = production) => redis(env).map((o) => plain<any>(o));
const ofKind = (kind: string, env?: Environment) => rendered(env).filter((o) => o.kind === kind);
const shard = (k: number, env?: Environment) => ofKind("StatefulSet", env).find((o) => o.metadata.name === names.shard(k));
const labelsMatch = (selector: any, labels: Record<string, string>) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector.matchExpressions ?? []).every((e: any) => e.operator === "In" && e.values.includes(labels[e.key]));
const shardsConfig = (change: Partial<RedisReplicatedShards>) => ({ ...(production.redis.cluster as RedisReplicatedShards), ...change });

describe("production's Redis: three shards, each a master and two replicas", () => {
  it("runs one StatefulSet of 3 pods per shard, each with its own headless Service and selector", () => {
    const sets = ofKind("StatefulSet");
    expect(sets.map((s) => [s.metadata.name, s.spec.replicas, s.spec.serviceName])).toEqual([
      ["nx-redis-shard-0", 3, "nx-redis-shard-0-headless"],
      ["nx-redis-shard-1", 3, "nx-redis-shard-1-headless"],
      ["nx-redis-shard-2", 3, "nx-redis-shard-2-headless"],
    ]);
    expect(new Set(sets.map((s) => JSON.stringify(s.spec.selector))).size).toBe(3);
    const headless = ofKind("Service");
    expect(headless.map((s) => [s.metadata.name, s.spec.clusterIP, s.spec.publishNotReadyAddresses])).toEqual(
      [0, 1, 2].map((k) => [`nx-redis-shard-${k}-headless`, "None", true]),
    );
    for (const [k, s] of sets.entries()) expect(headless[k].spec.selector).toEqual(s.spec.selector.matchLabels);
    expect(sets.every((s) => s.metadata.annotations["nx-data-layer/holds-data"] === "true")).toBe(true);
  });

  it("keeps replicas with the master they were placed with, announces pod hostnames, and takes the node timeout from config", () => {
    const args: string[] = shard(1).spec.template.spec.containers[0].args;
    expect(args.slice(args.indexOf("--cluster-allow-replica-migration"), args.indexOf("--cluster-allow-replica-migration") + 2)).toEqual([
      "--cluster-allow-replica-migration",
      "no",
    ]);
    expect(args[args.indexOf("--cluster-announce-hostname") + 1]).toBe("$(POD_NAME).nx-redis-shard-1-headless.nx-broker.svc.cluster.local");
    expect(args[args.indexOf("--cluster-node-timeout") + 1]).toBe("5000");
    const slower = productionWith({ redis: { clusterNodeTimeoutMs: 3000 } });
    const slowerArgs: string[] = shard(0, slower).spec.template.spec.containers[0].args;
    expect(slowerArgs[slowerArgs.indexOf("--cluster-node-timeout") + 1]).toBe("3000");
    // Staging's masters have no replicas to keep.
    expect(plain<any>(redis(staging).find((o) => o.kind === "StatefulSet")).spec.template.spec.containers[0].args).not.toContain(
      "--cluster-allow-replica-migration",
    );
  });

  it("never puts two pods of a shard on one node, spreads each shard over zones, and all nine pods over nodes while the pool has nine", () => {
    const pod = shard(0).spec.template.spec;
    const own = { matchLabels: shard(0).spec.selector.matchLabels };
    const anti = pod.affinity.podAntiAffinity;
    expect(anti.requiredDuringSchedulingIgnoredDuringExecution).toContainEqual({ labelSelector: own, topologyKey: "kubernetes.io/hostname" });
    const all = anti.requiredDuringSchedulingIgnoredDuringExecution.find((t: any) => t.labelSelector !== undefined && !t.labelSelector.matchLabels?.["app.kubernetes.io/component"]);
    for (const k of [0, 1, 2]) expect(labelsMatch(all.labelSelector, shard(k).spec.template.metadata.labels)).toBe(true);
    expect(anti.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    expect(pod.topologySpreadConstraints).toContainEqual(
      expect.objectContaining({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: own }),
    );
    // A pool of 5 nodes cannot hold 9 pods apart: within a shard it stays required, across shards preferred.
    const small = shard(0, productionWith({ statefulNodes: { hosts: 5 } })).spec.template.spec.affinity.podAntiAffinity;
    expect(small.requiredDuringSchedulingIgnoredDuringExecution).toEqual([{ labelSelector: own, topologyKey: "kubernetes.io/hostname" }]);
    expect(small.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 100, podAffinityTerm: { labelSelector: all.labelSelector, topologyKey: "kubernetes.io/hostname" } },
    ]);
  });

  it("lets evictions take one Redis pod at a time across all shards, and no Job pod counts", () => {
    const budgets = ofKind("PodDisruptionBudget");
    expect(budgets).toHaveLength(1);
    expect(budgets[0].spec.maxUnavailable).toBe(1);
    for (const k of [0, 1, 2]) expect(labelsMatch(budgets[0].spec.selector, shard(k).spec.template.metadata.labels)).toBe(true);
    expect(labelsMatch(budgets[0].spec.selector, ofKind("Job")[0].spec.template.metadata.labels)).toBe(false);
    expect(labelsMatch(budgets[0].spec.selector, ofKind("CronJob")[0].spec.jobTemplate.spec.template.metadata.labels)).toBe(false);
  });

  it("orders the create's addresses so that redis-cli makes each StatefulSet a shard", () => {
    const h = (k: number, i: number) => `s${k}-${i}`;
    expect(createOrder([0, 1, 2].map((k) => [0, 1, 2].map((i) => h(k, i))))).toEqual([
      "s0-0", "s1-0", "s2-0", "s2-2", "s0-1", "s0-2", "s1-1", "s1-2", "s2-1",
    ]);
    const env = Object.fromEntries(ofKind("Job")[0].spec.template.spec.containers[0].env.filter((e: any) => e.value).map((e: any) => [e.name, e.value]));
    expect(env.REDIS_NODES).toBe(createOrder(shardHosts(production)).join(" "));
    expect(env.REDIS_SHARDS).toBe(shardHosts(production).flat().join(" "));
    expect(env.REDIS_SHARD_SIZE).toBe("3");
    const script: string = ofKind("Job")[0].spec.template.spec.containers[0].command[2];
    expect(script).toContain("--cluster-replicas $((REDIS_SHARD_SIZE - 1))");
    expect(script).toContain("cluster replicate");
  });

  it("gives the backend every node of every shard", () => {
    const nodes = redisContract(production).nodes;
    expect(nodes).toHaveLength(9);
    expect(nodes).toContain("nx-redis-shard-2-2.nx-redis-shard-2-headless.nx-broker.svc.cluster.local:6379");
    expect(backendSettings(production).APP_ENV_BULLMQ_REDIS_CLUSTER_NODES).toBe(nodes.join(","));
  });

  it("adds up to a worst-case failover within the 15 s budget", () => {
    const t = failoverSeconds(production, production.redis.cluster as RedisReplicatedShards);
    expect(t).toMatchObject({ detect: 7.5, reports: 2.5, election: 2, client: 1 });
    expect(t.worst).toBeCloseTo(13.3);
  });
});

describe("the Redis backup CronJob", () => {
  const cronJob = () => ofKind("CronJob")[0];
  const pod = () => cronJob().spec.jobTemplate.spec.template.spec;

  it("runs on the configured schedule in UTC, one run at a time, with deadlines and history limits", () => {
    expect(cronJob().spec).toMatchObject({
      schedule: production.redis.backup!.schedule,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cronJob().spec.jobTemplate.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 3600 });
    expect(pod().restartPolicy).toBe("Never");
    expect(ofKind("CronJob", staging)).toEqual([]);
  });

  it("runs under the restricted Pod Security Standard with a read-only root filesystem and emptyDirs", () => {
    expect(pod().securityContext).toEqual({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of [...pod().initContainers, ...pod().containers]) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
    }
    expect(pod().volumes.map((v: any) => [v.name, Object.keys(v)])).toEqual([["backup", ["name", "emptyDir"]], ["tmp", ["name", "emptyDir"]]]);
    // Room for one snapshot of each shard, each at most its maxmemory.
    const room = quantityValue(pod().volumes[0].emptyDir.sizeLimit)!;
    expect(room).toBeGreaterThanOrEqual(production.redis.masters * redisBytes(production.redis.maxmemory)!);
    expect(room).toBeLessThan((production.redis.masters + 1) * redisBytes(production.redis.maxmemory)!);
  });

  it("snapshots with the Redis image and uploads with the pinned rclone image, credentials from the declared Secret", () => {
    expect(pod().initContainers[0].image).toBe(production.common.images.redis);
    const upload = pod().containers[0];
    expect(upload.image).toBe(production.common.images.rclone);
    const env = Object.fromEntries(upload.env.map((e: any) => [e.name, e.value ?? e.valueFrom.secretKeyRef]));
    expect(env).toMatchObject({
      BACKUP_REMOTE: "backup:nx-data-layer-backups/production/redis",
      RETENTION_DAYS: "7",
      RCLONE_CONFIG_BACKUP_TYPE: "s3",
      RCLONE_CONFIG_BACKUP_ENDPOINT: production.redis.backup!.endpointURL,
      RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID: { name: "nx-redis-backup-s3", key: "ACCESS_KEY_ID" },
      RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: { name: "nx-redis-backup-s3", key: "ACCESS_SECRET_KEY" },
      HOME: "/tmp",
    });
    expect(upload.command[2]).toContain('rclone delete "$BACKUP_REMOTE" --min-age "${RETENTION_DAYS}d"');
    expect(redisContract(production).secrets.map((s) => `${s.name}/${s.key}`)).toEqual([
      "nx-redis-secret/REDIS_PASSWORD",
      "nx-redis-backup-s3/ACCESS_KEY_ID",
      "nx-redis-backup-s3/ACCESS_SECRET_KEY",
    ]);
    expect(redisContract(staging).secrets.map((s) => s.name)).toEqual(["nx-redis-secret"]);
  });
});

describe("Redis config production cannot run, refused with its location", () => {
  it.each<[string, Parameters<typeof productionWith>[0], string]>([
    ["a shard larger than the stateful pool", { statefulNodes: { hosts: 3 }, redis: { cluster: shardsConfig({ replicasPerShard: 3 }) } },
      "production / redis / StatefulSet nx-broker/nx-redis-shard-0 / redis.cluster.replicasPerShard: Redis replicas that cannot be placed: a shard's 4 pods (a master and 3 replicas) must each be on a node of their own, and statefulNodes.hosts is 3"],
    ["a pool smaller than a shard", { statefulNodes: { hosts: 2 } },
      "production / redis / StatefulSet nx-broker/nx-redis-shard-0 / redis.cluster.replicasPerShard: Redis replicas that cannot be placed: a shard's 3 pods (a master and 2 replicas) must each be on a node of their own, and statefulNodes.hosts is 2"],
    ["a node timeout the failover budget cannot hold", { redis: { clusterNodeTimeoutMs: 6000 } },
      "production / redis / StatefulSet nx-broker/nx-redis-shard-0 / redis.cluster.failover.budgetSeconds: the settings let a failover take up to 15.3 s, more than 15"],
    ["no replica", { redis: { cluster: shardsConfig({ replicasPerShard: 0 }) } },
      "production / redis / StatefulSet nx-broker/nx-redis-shard-0 / redis.cluster.replicasPerShard: 0 must be an integer of at least 1"],
    ["a six-field schedule", { redis: { backup: { schedule: "0 0 3 * * *" } } },
      'production / redis / CronJob nx-broker/nx-redis-backup / redis.backup.schedule: "0 0 3 * * *" is not a CronJob schedule: five fields'],
    ["a destination that is not S3", { redis: { backup: { destinationPath: "https://backups.example/redis/" } } },
      'production / redis / CronJob nx-broker/nx-redis-backup / redis.backup.destinationPath: "https://backups.example/redis/" is not an S3 destination'],
    ["an endpoint without TLS", { redis: { backup: { endpointURL: "http://s3.nx-platform.internal" } } },
      'production / redis / CronJob nx-broker/nx-redis-backup / redis.backup.endpointURL: "http://s3.nx-platform.internal" is not an https:// URL'],
    ["an endpoint on a port the object store's addresses do not open", { redis: { backup: { endpointURL: "https://s3.nx-platform.internal:9000" } } },
      "production / redis / CronJob nx-broker/nx-redis-backup / redis.backup.objectStorage.ports: do not include 9000"],
    ["no retention", { redis: { backup: { retentionDays: 0 } } },
      "production / redis / CronJob nx-broker/nx-redis-backup / redis.backup.retentionDays: 0 must be an integer of at least 1"],
  ])("%s", (_, change, message) => {
    expect(problems(productionWith(change))).toContainEqual(expect.stringContaining(message));
  });

  it("passes production as committed", () => {
    expect(() => redis(production)).not.toThrow();
  });

  it("the CLI exits 1 naming the shard that cannot be placed, and writes nothing", () => {
    const work = copyProject();
    const file = join(work, "generator/config/production.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace("statefulNodes: { hosts: 9, zones: 3 }", "statefulNodes: { hosts: 2, zones: 2 }"));
    const before = readTree(work);
    const run = spawnSync(process.execPath, ["generator/cli.ts", "generate"], { cwd: work, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("production / redis / StatefulSet nx-broker/nx-redis-shard-0 / redis.cluster.replicasPerShard: Redis replicas that cannot be placed");
    expect(run.stderr).toContain("nothing written");
    expect(readTree(work)).toEqual(before);
  });
});

describe("production's Redis flows, proven on the rendered NetworkPolicies", () => {
  const sources = loadSources(join(import.meta.dirname, ".."), ["overlays/production"]);
  const network = rules.filter((r) => r.id.startsWith("network/"));
  const findings = (set: readonly Source[]) => runPolicies(network, set, loadExceptions(rules)).findings.map((f) => f.message ?? "");
  const without = (name: string) => sources.filter((s) => !(s.manifest.kind === "NetworkPolicy" && s.manifest.metadata?.name === name));

  it("pass as rendered", () => {
    expect(findings(sources)).toEqual([]);
  });

  it("need the backup's egress to the nodes and the object store, and the nodes' ingress from it", () => {
    expect(findings(without("allow-redis-backup"))).toContainEqual(
      expect.stringContaining("CronJob nx-broker/nx-redis-backup -> the Redis backup object store:443/TCP is blocked"),
    );
    expect(findings(without("allow-redis-from-backup"))).toContainEqual(
      expect.stringContaining("CronJob nx-broker/nx-redis-backup -> StatefulSet nx-broker/nx-redis-shard-0:6379/TCP is blocked"),
    );
  });

  it("need the shards to reach each other on both ports", () => {
    expect(findings(without("allow-redis-cluster"))).toContainEqual(
      expect.stringContaining("StatefulSet nx-broker/nx-redis-shard-0 -> StatefulSet nx-broker/nx-redis-shard-2:16379/TCP is blocked"),
    );
  });

  it("keep every other address outside the cluster closed to the backup", () => {
    const anywhere: Source = {
      manifest: {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "allow-anywhere", namespace: "nx-broker" },
        spec: {
          podSelector: { matchLabels: { "app.kubernetes.io/component": "backup" } },
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }],
        },
      } as Manifest,
      file: "overlays/production/nx-broker/allow-anywhere-networkpolicy.yaml",
      via: "overlays/production",
    };
    expect(findings([...sources, anywhere])).toContainEqual(
      expect.stringContaining("CronJob nx-broker/nx-redis-backup -> any other address outside the cluster:443/TCP is open"),
    );
  });
});
