// Production's Redis Cluster (3 shards × a master and 2 replicas) on nine real redis-server
// processes: each shard StatefulSet's container command and args as the kubelet starts them, the
// cluster-init Job's script (after an interrupted create, on empty nodes, and again on the
// cluster), a failover within the budget, and the backup's snapshot step. Two sets of nine
// servers, one per scenario, run at the same time: the interrupted create, then the snapshot and
// the restore; the create on empty nodes, its second run, then the failover. Stand-ins as in
// redis-real.test.ts: a pod is a redis-server on its own loopback address with its own folder as
// /data, and name resolution reads the test's hosts file in a private mount namespace (`unshare`).
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { redis, redisContract } from "../generator/components/redis/index.ts";
import { names, shardHosts } from "../generator/components/redis/replicated-shards.ts";
import { production } from "../generator/config/production.ts";
import { plain } from "./support/config.ts";
import { type Container, containerEnv, kubeletExpand, loopbackSubnet, type Result, run, redisBinaries, redisClusterPort, redisClusterSuite, waitFor, withHostsFile } from "./support/local-pods.ts";
import { concurrentScenario, scratchDir } from "./support/servers.ts";

const { server: redisServer, cli: redisCli, unshare } = redisBinaries;

const contract = redisContract(production);
const objects = redis(production).map((o) => plain<any>(o));
const shardContainer = (k: number) =>
  objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === names.shard(k)).spec.template.spec.containers[0] as Container;
const job = objects.find((o) => o.kind === "Job").spec.template.spec.containers[0] as Container;
const snapshot = objects.find((o) => o.kind === "CronJob").spec.jobTemplate.spec.template.spec.initContainers[0] as Container & {
  volumeMounts: { mountPath: string }[];
};
const hosts = shardHosts(production);
const password = "production-password";
const secrets = { [contract.password.name]: { [contract.password.key]: password } };

interface Pod {
  name: string;
  shard: number;
  ordinal: number;
  hostname: string;
  ip: string;
  data: string;
  process?: ChildProcess;
}

/** A node's own line of CLUSTER NODES. */
interface NodeLine {
  id: string;
  flags: string;
  master: string;
  slots: string;
}

redisClusterSuite(
  "Redis Cluster, as rendered for production (replicated shards), on real redis-server processes",
  () => {
    let work = "";
    let port: number = contract.port;
    const path = `${dirname(redisCli!)}:/usr/bin:/bin`;
    const subnet = loopbackSubnet();
    /** The address of pod `i` (in shard order) of set `n`. */
    const address = (n: number, i: number) => `${subnet}.${n * hosts.flat().length + i + 1}`;
    const atPort = (text: string) => text.replace(new RegExp(`\\b${contract.port}\\b`, "g"), String(port));

    /** Nine pods on addresses of their own in the suite's subnet, their folders and hosts file under `work/set-<n>`. */
    function serverSet(n: number) {
      let folder = "";
      let hostsFile = "";
      const pods: Pod[] = hosts.flatMap((members, shard) =>
        members.map((hostname, ordinal) => ({
          name: `${names.shard(shard)}-${ordinal}`,
          shard,
          ordinal,
          hostname,
          ip: address(n, shard * members.length + ordinal),
          data: "",
        })),
      );
      const shardPods = (k: number) => pods.filter((p) => p.shard === k);
      const withDns = (argv: string[]) => withHostsFile(unshare!, hostsFile, argv);
      const serverLog = (pod: Pod) => `${pod.name}:\n${readFileSync(join(folder, `${pod.name}.log`), "utf8").split("\n").slice(-10).join("\n")}`;
      const direct = (pod: Pod, ...args: string[]) => run([redisCli!, "-h", pod.ip, "-p", String(port), ...args], { PATH: path, REDISCLI_AUTH: password });
      /** redis-cli as a cluster client, by the first pod's hostname, following redirects. */
      const client = (...args: string[]) => run(withDns([redisCli!, "-c", "-h", pods[0]!.hostname, "-p", String(port), ...args]), { PATH: path, REDISCLI_AUTH: password });

      async function start(pod: Pod): Promise<void> {
        const node = shardContainer(pod.shard);
        const env = { PATH: path, ...containerEnv(node, { "metadata.name": pod.name, "status.podIP": pod.ip }, secrets) };
        const argv = [...node.command, ...(node.args ?? [])].map((arg) => kubeletExpand(arg, env).replaceAll("/data/", `${pod.data}/`));
        // A full sync starts at once instead of after the 5 s Redis waits for more replicas to
        // share it: what the snapshot, the restore and a new replica wait for, not what they test.
        argv.push("--bind", pod.ip, "--port", String(port), "--repl-diskless-sync-delay", "0");
        const log = openSync(join(folder, `${pod.name}.log`), "a");
        const [command, ...rest] = withDns(argv);
        pod.process = spawn(command!, rest, { cwd: pod.data, env, stdio: ["ignore", log, log] });
        closeSync(log);
        await waitFor(`${pod.name} to answer PING`, async () => (await direct(pod, "ping")).stdout.trim() === "PONG", () => serverLog(pod));
      }

      function initJob(): Promise<Result> {
        const env = { PATH: path, ...containerEnv(job, {}, secrets) };
        return run(withDns(job.command.map((arg) => atPort(kubeletExpand(arg, env)))), env, 60_000);
      }

      async function myself(pod: Pod): Promise<NodeLine> {
        const line = (await direct(pod, "cluster", "nodes")).stdout.split("\n").find((l) => l.includes("myself"))!;
        const f = line.trim().split(" ");
        return { id: f[0]!, flags: f[2]!, master: f[3]!, slots: f.slice(8).join(" ") };
      }

      /** Each of `members` is a master or a replica done with its first full sync, as in a running cluster. */
      async function linked(members: Pod[]): Promise<void> {
        for (const pod of members) {
          await waitFor(
            `${pod.name} to be a master or a linked replica`,
            async () => /role:master|master_link_status:up/.test((await direct(pod, "info", "replication")).stdout),
            () => serverLog(pod),
          );
        }
      }

      /** Every shard is its StatefulSet's pods: one master owning slots, the others its replicas. */
      async function expectShardsAsPlaced(): Promise<void> {
        for (const k of [0, 1, 2]) {
          const members = await Promise.all(shardPods(k).map(myself));
          const masters = members.filter((m) => m.flags.includes("master"));
          expect(masters, `shard ${k}`).toHaveLength(1);
          expect(masters[0]!.slots).not.toBe("");
          for (const replica of members.filter((m) => m !== masters[0])) {
            expect(replica.flags).toContain("slave");
            expect(replica.master).toBe(masters[0]!.id);
          }
        }
      }

      // New pods on new volumes, started all at once (Parallel pod management).
      beforeAll(async () => {
        folder = join(work, `set-${n}`);
        hostsFile = join(folder, "hosts");
        for (const pod of pods) {
          pod.data = join(folder, pod.name);
          mkdirSync(pod.data, { recursive: true });
        }
        writeFileSync(hostsFile, pods.map((p) => `${p.ip}\t${p.hostname}\n`).join(""));
        await Promise.all(pods.map(start));
      }, 30_000);

      afterAll(() => Promise.all(pods.map((p) => stop(p))));

      return { pods, shardPods, withDns, serverLog, direct, client, start, initJob, myself, linked, expectShardsAsPlaced };
    }

    async function stop(pod: Pod, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
      const child = pod.process;
      pod.process = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    }

    beforeAll(async () => {
      work = scratchDir("nx-redis-shards-real-");
      // One port, free with its bus port on the addresses of both sets.
      port = await redisClusterPort([0, 1].flatMap((n) => hosts.flat().map((_, i) => address(n, i))), port);
    });

    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    concurrentScenario("after a create interrupted before the replicas were attached", () => {
      const { pods, shardPods, withDns, serverLog, direct, client, start, initJob, linked, expectShardsAsPlaced } = serverSet(0);

      it("the init Job completes a create interrupted after the nodes met, before the replicas were attached", async () => {
        // What `redis-cli --cluster create` had done: slots on the first pod of each shard, config
        // epochs, every node met; the replicas not yet told whom to replicate.
        const ranges = [["0", "5460"], ["5461", "10922"], ["10923", "16383"]];
        for (const k of [0, 1, 2]) expect((await direct(shardPods(k)[0]!, "cluster", "addslotsrange", ...ranges[k]!)).stdout.trim()).toBe("OK");
        for (const [i, pod] of pods.entries()) await direct(pod, "cluster", "set-config-epoch", String(i + 1));
        for (const pod of pods.slice(1)) await direct(pods[0]!, "cluster", "meet", pod.ip, String(port));
        const result = await initJob();
        expect(result.status, result.stdout + result.stderr).toBe(0);
        expect(result.stdout).toContain("cluster already created; not creating it again");
        expect(result.stdout.match(/making it a replica of shard/g)).toHaveLength(6);
        expect(result.stdout).toContain("cluster state ok");
        await expectShardsAsPlaced();
      }, 60_000);

      it("the backup's snapshot step writes an RDB of each shard, taken from a replica", async () => {
        const keys = ["{a}order:1", "{b}cart:2", "{c}user:3", "{d}stock:4", "{e}price:5", "{f}session:6"];
        for (const key of keys) {
          const set = await client("set", key, "v");
          expect(set.stdout.trim(), set.stderr).toBe("OK");
        }
        // A replica that is still in its first full sync is not a source; a running cluster's are linked.
        await linked(pods);
        const backup = join(work, "backup");
        mkdirSync(backup);
        const env = { PATH: path, ...containerEnv(snapshot, {}, secrets) };
        const script = atPort(snapshot.command[2]!).replaceAll(`${snapshot.volumeMounts[0]!.mountPath}/`, `${backup}/`);
        const result = await run(withDns(["sh", "-c", script]), env, 60_000);
        expect(result.status, result.stdout + result.stderr).toBe(0);
        for (const k of [0, 1, 2]) {
          // The first replica of the shard whose link is up: never the master.
          expect(result.stdout).toMatch(new RegExp(`shard ${k}: snapshot of ${names.shard(k)}-[12]\\.`));
          const rdb = readFileSync(join(backup, `shard-${k}.rdb`));
          expect(rdb.subarray(0, 5).toString()).toBe("REDIS");
        }
        // Every key is in exactly one shard's snapshot.
        const all = [0, 1, 2].map((k) => readFileSync(join(backup, `shard-${k}.rdb`)).toString("latin1")).join("");
        for (const key of keys) expect(all.split(key).length - 1).toBe(1);
      }, 60_000);

      it("restores a shard from its snapshot as docs/redis.md says: the snapshot as the master's AOF base, the replicas resynced", async () => {
        const slotOf = async (key: string) => Number((await client("cluster", "keyslot", key)).stdout.trim());
        // Keys of shard 0 (slots 0-5460) written after the snapshot, and the snapshot's keys deleted.
        const snapshotKeys = ["{a}order:1", "{b}cart:2", "{c}user:3", "{d}stock:4", "{e}price:5", "{f}session:6"];
        const shard0Keys: string[] = [];
        for (const key of snapshotKeys) if ((await slotOf(key)) <= 5460) shard0Keys.push(key);
        expect(shard0Keys.length).toBeGreaterThan(0);
        for (const key of shard0Keys) expect((await client("del", key)).stdout.trim()).toBe("1");
        // The shard scaled to 0; the restore pod's work on the three volumes; the shard scaled back.
        const [master, ...replicas] = shardPods(0);
        await Promise.all(shardPods(0).map((p) => stop(p)));
        const aof = join(master!.data, "appendonlydir");
        rmSync(aof, { recursive: true });
        mkdirSync(aof);
        writeFileSync(join(aof, "appendonly.aof.1.base.rdb"), readFileSync(join(work, "backup", "shard-0.rdb")));
        writeFileSync(join(aof, "appendonly.aof.manifest"), "file appendonly.aof.1.base.rdb seq 1 type b\n");
        for (const replica of replicas) rmSync(join(replica.data, "appendonlydir"), { recursive: true, force: true });
        await start(master!);
        await Promise.all(replicas.map(start));
        // Once the restarted nodes have rejoined (each reports the cluster down until then).
        await waitFor(
          "the restored keys to be served",
          async () => (await Promise.all(shard0Keys.map((key) => client("get", key)))).every((r) => r.stdout.trim() === "v"),
          () => [master!, ...replicas].map(serverLog).join("\n"),
        );
        await waitFor(
          "the replicas to hold the restored keys",
          async () => (await Promise.all(replicas.map((r) => direct(r, "dbsize")))).every((d) => Number(d.stdout.trim()) === shard0Keys.length),
          () => replicas.map(serverLog).join("\n"),
        );
        await expectShardsAsPlaced();
      }, 60_000);

    });

    concurrentScenario("on empty nodes", () => {
      const { pods, shardPods, serverLog, direct, start, initJob, myself, linked, expectShardsAsPlaced } = serverSet(1);

      it("the init Job creates the cluster with --cluster-replicas 2, each shard its StatefulSet's pods, with nothing to repair", async () => {
        const first = await initJob();
        expect(first.status, first.stdout + first.stderr).toBe(0);
        expect(first.stdout).toContain("[OK] All 16384 slots covered.");
        expect(first.stdout).not.toContain("not creating it again");
        // The computed address order alone made the shards: the repair step found nothing to do.
        expect(first.stdout).not.toContain("making it a replica");
        expect(first.stdout).toContain("cluster state ok");
        await expectShardsAsPlaced();
      }, 60_000);

      it("a second run creates nothing and changes nothing", async () => {
        const before = await Promise.all(pods.map(myself));
        const second = await initJob();
        expect(second.status, second.stdout + second.stderr).toBe(0);
        expect(second.stdout).toContain("cluster already created; not creating it again");
        expect(second.stdout).not.toContain("Performing hash slots allocation");
        expect(second.stdout).not.toContain("making it a replica");
        expect(await Promise.all(pods.map(myself))).toEqual(before);
      }, 60_000);

      it("a master lost: its replica takes over within the failover budget, and the shard stays its StatefulSet's pods", async () => {
        const master = shardPods(0)[0]!; // the master since the create
        expect((await myself(master)).flags).toContain("master");
        // A replica that never finished its first sync does not stand for election (its data is
        // as old as its start, beyond cluster-replica-validity-factor): the shard has been running.
        await linked(shardPods(0));
        const lost = Date.now();
        await stop(master, "SIGKILL");
        const observer = shardPods(1)[0]!;
        let promoted: NodeLine | undefined;
        await waitFor(
          "a replica of shard 0 to serve its slots",
          async () => {
            const members = await Promise.all(shardPods(0).filter((p) => p !== master).map(myself));
            promoted = members.find((m) => m.flags.includes("master") && m.slots !== "");
            return promoted !== undefined && (await direct(observer, "cluster", "info")).stdout.includes("cluster_state:ok");
          },
          () => pods.filter((p) => p.shard === 0).map((p) => (p.process ? serverLog(p) : "")).join("\n"),
          200,
          100,
        );
        const seconds = (Date.now() - lost) / 1000;
        const budget = production.redis.cluster.kind === "replicated-shards" ? production.redis.cluster.failover.budgetSeconds : 0;
        expect(seconds, `failover took ${seconds} s`).toBeLessThan(budget);
        // The old master comes back as a replica of the new one: its shard is still its StatefulSet's pods.
        await start(master);
        await waitFor("the old master to replicate the new one", async () => (await myself(master)).master === promoted!.id, () => serverLog(master), 100, 100);
        const rerun = await initJob();
        expect(rerun.status, rerun.stdout + rerun.stderr).toBe(0);
        expect(rerun.stdout).not.toContain("making it a replica");
        await expectShardsAsPlaced();
      }, 60_000);

    });
  },
);
