// The rendered staging Redis Cluster on real redis-server processes (Debian's redis 7.0): the
// StatefulSet's container command and args exactly as the kubelet starts them, its probes, the
// cluster-init Job's script (after interrupted creates, on empty nodes, and again on the cluster),
// a full restart of every node on new pod IPs, and the password rotation of docs/redis.md. Two
// sets of three servers run at the same time: one for the interrupted creates, one for the rest.
//
// What stands in for Kubernetes, and why:
// - A pod is one redis-server process on its own loopback address (Linux answers on all of
//   127/8), with its own temporary folder as the /data volume.
// - DNS, the one thing with no real server here: every process that resolves a name runs in a
//   private mount namespace (`unshare`) whose /etc/hosts is this test's file, mapping each pod's
//   hostname to its current address. A getent stand-in alone would not do: redis-cli resolves
//   names itself (getaddrinfo), both for `-h <pod hostname>` in the Job and for the hostnames that
//   MOVED replies carry (the nodes run with `--cluster-preferred-endpoint-type hostname`).
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { redisContract } from "../generator/components/redis/index.ts";
import { names as redisNames, redisCluster, redisClusterInitJob, redisNodeHosts } from "../generator/components/redis/masters.ts";
import { staging } from "../generator/config/staging.ts";
import { plain } from "./support/config.ts";
import { clusterBusOffset, type Container, containerEnv as kubeletEnv, kubeletExpand, loopbackSubnet, type Result, run, redisBinaries, redisClusterPort, redisClusterSuite, waitFor, withHostsFile } from "./support/local-pods.ts";
import { concurrentScenario, scratchDir } from "./support/servers.ts";

const contract = redisContract(staging);

const { server: redisServer, cli: redisCli, unshare } = redisBinaries;

const node = plain<any>(redisCluster(staging)).spec.template.spec.containers[0] as Container;
const job = plain<any>(redisClusterInitJob(staging)).spec.template.spec.containers[0] as Container;
const hostnames = redisNodeHosts(staging);

/** The container's environment as the kubelet builds it for `pod` (field refs and the Secret). */
function containerEnv(c: Container, pod: Pod): Record<string, string> {
  return kubeletEnv(c, { "metadata.name": pod.name, "status.podIP": pod.ip }, { [contract.password.name]: { [contract.password.key]: pod.password } });
}

interface Pod {
  name: string;
  ordinal: number;
  ip: string;
  /** What the pod's mounted Secret holds. */
  password: string;
  /** The pod's /data volume, kept across restarts as the PVC is. */
  data: string;
  process?: ChildProcess;
}

redisClusterSuite(
  "Redis Cluster, as rendered for staging, on real redis-server processes",
  () => {
    let work = "";
    let port: number = contract.port;
    const path = `${dirname(redisCli!)}:/usr/bin:/bin`;
    const subnet = loopbackSubnet();
    /** Pod addresses of set `n` by generation: first start, full restart, rolling restart. */
    const address = (n: number, generation: number, ordinal: number) => `${subnet}.${n * 30 + generation * 10 + ordinal + 1}`;
    const keys = ["order:1001", "cart:42", "session:alice", "stock:sku-9", "price:sku-9", "user:7"];

    // Rewrites for one machine. The nodes keep the rendered port unless another suite holds it on
    // these addresses; then one free port replaces it everywhere (the bus follows at +10000).
    const atPort = (text: string) => text.replace(new RegExp(`\\b${contract.port}\\b`, "g"), String(port));

    async function stop(pod: Pod): Promise<void> {
      const child = pod.process;
      pod.process = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM"); // what the kubelet sends first; redis-server is PID 1 of its pod
      const late = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(late);
    }

    // What `redis-cli --cluster create` does, in order: ADDSLOTS on each node (an even split),
    // SET-CONFIG-EPOCH on each, then every node MEETs the first. A Job killed in between (evicted,
    // deadline) leaves one of the two states below, and its next run must finish the cluster.
    const plannedSlots = ["0-5460", "5461-10922", "10923-16383"];

    /** Three pods of their own (set `n`), their folders and hosts file under `work/set-<n>`. */
    function serverSet(n: number) {
      let folder = "";
      let hostsFile = "";
      const pods: Pod[] = hostnames.map((_, i) => ({
        name: `${redisNames.statefulSet}-${i}`,
        ordinal: i,
        ip: address(n, 0, i),
        password: "staging-password-1",
        data: "",
      }));

      /** The hosts file the pods' resolver reads: each pod's hostname at its current address. */
      const publishAddresses = () =>
        writeFileSync(hostsFile, pods.map((p) => `${p.ip}\t${hostnames[p.ordinal]}\n`).join(""));

      const withDns = (argv: string[]) => withHostsFile(unshare!, hostsFile, argv);

      async function start(pod: Pod): Promise<void> {
        const env = { PATH: path, ...containerEnv(node, pod) };
        const argv = [...node.command, ...(node.args ?? [])].map((arg) =>
          // The volume is mounted at /data in the pod; here each pod has its own folder.
          kubeletExpand(arg, env).replaceAll("/data/", `${pod.data}/`),
        );
        // A pod's network namespace has the pod IP alone; here the pods share the host's, so each
        // node listens on its own address (and on the port chosen above).
        argv.push("--bind", pod.ip, "--port", String(port));
        const log = openSync(join(folder, `${pod.name}.log`), "a");
        // cwd: the image's WORKDIR is /data, where redis-server writes its append-only files.
        const [command, ...rest] = withDns(argv);
        pod.process = spawn(command!, rest, { cwd: pod.data, env, stdio: ["ignore", log, log] });
        closeSync(log);
        const ready = async () => (await probe(pod, "readinessProbe")).status === 0;
        await waitFor(`${pod.name} to be ready`, ready, () => serverLog(pod));
      }

      /** The last `lines` of a pod's server log (all its restarts), for the message of a failed wait. */
      const serverLog = (pod: Pod, lines = 15) =>
        `${pod.name} log:\n${readFileSync(join(folder, `${pod.name}.log`), "utf8").split("\n").slice(-lines).join("\n")}`;


      /** A probe's exec command as the kubelet runs it in the pod's container. */
      function probe(pod: Pod, which: "readinessProbe" | "livenessProbe", password = pod.password): Promise<Result> {
        const [sh, flag, script] = node[which].exec.command;
        // 127.0.0.1 is the pod's own loopback in the pod; here it is the pod's address.
        const here = atPort(script!).replaceAll("-h 127.0.0.1", `-h ${pod.ip}`);
        return run([sh!, flag!, here], { PATH: path, ...containerEnv(node, { ...pod, password }) });
      }

      /** The cluster-init Job's script, run as the Job's container runs it. */
      function initJob(password: string): Promise<Result> {
        const env = { PATH: path, ...containerEnv(job, { ...pods[0]!, password }) };
        const argv = job.command.map((arg) => atPort(kubeletExpand(arg, env)));
        return run(withDns(argv), env, 45_000); // under the test's timeout, so its output is shown
      }

      /** redis-cli as a backend client uses it (by pod hostname, following redirects with -c). */
      const client = (password: string, ...args: string[]) =>
        run(withDns([redisCli!, "-c", "-h", hostnames[0]!, "-p", String(port), ...args]), { PATH: path, REDISCLI_AUTH: password });

      /** redis-cli straight to one node's address. */
      const direct = (pod: Pod, ...args: string[]) =>
        run([redisCli!, "-h", pod.ip, "-p", String(port), ...args], { PATH: path, REDISCLI_AUTH: pod.password });

      const clusterInfo = async (pod: Pod) =>
        Object.fromEntries(
          (await direct(pod, "cluster", "info")).stdout
            .split(/\r?\n/)
            .filter((l) => l.includes(":"))
            .map((l) => l.split(":") as [string, string]),
        );

      /** One node's CLUSTER NODES, without the ping/pong times, sorted by address. */
      async function clusterNodes(pod: Pod) {
        const out = (await direct(pod, "cluster", "nodes")).stdout;
        return out
          .trim()
          .split("\n")
          .map((line) => {
            const f = line.trim().split(" ");
            return { id: f[0]!, address: f[1]!, flags: f[2]!, configEpoch: f[6]!, linkState: f[7]!, slots: f.slice(8).join(" ") };
          })
          .sort((a, b) => a.address.localeCompare(b.address));
      }

      let lastViews = "";
      /**
       * Every node is ok and linked to every other at the other's current address. cluster_state
       * alone proves little after a restart: a node reports ok while its links are still down, until
       * the node timeout has passed and the unreachable peers are flagged.
       */
      async function healed(): Promise<boolean> {
        const views = await Promise.all(pods.map(async (pod) => ({ pod, info: await clusterInfo(pod), known: await clusterNodes(pod) })));
        lastViews = views.map((v) => `${v.pod.name} (${v.pod.ip}): ${v.info.cluster_state}\n${v.known.map((k) => `  ${k.address} ${k.flags} ${k.linkState}`).join("\n")}`).join("\n");
        return views.every(
          (v) =>
            v.info.cluster_state === "ok" &&
            v.known.length === pods.length &&
            v.known.every((k) => {
              const hostname = k.address.split(",")[1] ?? "";
              const peer = pods[hostnames.indexOf(hostname)];
              const current = peer !== undefined && k.address === `${peer.ip}:${port}@${port + clusterBusOffset},${hostname}`;
              return current && !/fail|noaddr/.test(k.flags) && k.linkState === "connected";
            }),
        );
      }
      const waitHealed = (after: string) =>
        waitFor(`every node to reach every other at its current address ${after}`, healed, () =>
          [lastViews, ...pods.map((pod) => serverLog(pod))].join("\n"), 100, 200);

      const assignPlannedSlots = async (upTo: number) => {
        for (const pod of pods.slice(0, upTo)) {
          expect((await direct(pod, "cluster", "addslotsrange", ...plannedSlots[pod.ordinal]!.split("-"))).stdout.trim()).toBe("OK");
        }
      };
      /** Every node owns its planned third and knows all three: the cluster `create` would have made. */
      async function expectFinishedCluster(): Promise<void> {
        await waitHealed("after the Job");
        for (const pod of pods) {
          const myself = (await clusterNodes(pod)).find((n) => n.flags.includes("myself"))!;
          expect(myself.slots).toBe(plannedSlots[pod.ordinal]);
        }
      }
      /**
       * Back to empty nodes, as new pods on new volumes: quicker than CLUSTER RESET HARD, after which
       * the nodes took about the node timeout (5 s) to report ok again.
       */
      async function emptyNodes(): Promise<void> {
        await Promise.all(pods.map(stop));
        for (const pod of pods) {
          rmSync(pod.data, { recursive: true });
          mkdirSync(pod.data);
        }
        await Promise.all(pods.map(start));
      }

      // New pods on new volumes, started all at once (Parallel pod management).
      beforeAll(async () => {
        folder = join(work, `set-${n}`);
        hostsFile = join(folder, "hosts");
        for (const pod of pods) {
          pod.data = join(folder, pod.name);
          mkdirSync(pod.data, { recursive: true });
        }
        publishAddresses();
        await Promise.all(pods.map(start));
      }, 30_000);

      afterAll(() => Promise.all(pods.map(stop)));

      return { pods, publishAddresses, start, serverLog, probe, initJob, client, direct, clusterInfo, clusterNodes, waitHealed, assignPlannedSlots, expectFinishedCluster, emptyNodes };
    }

    beforeAll(async () => {
      work = scratchDir("nx-redis-real-");
      // One port, free with its bus port on every address of both sets.
      port = await redisClusterPort([0, 1].flatMap((n) => [0, 1, 2].flatMap((g) => hostnames.map((_, i) => address(n, g, i)))), port);
    });

    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    concurrentScenario("after interrupted creates", () => {
      const { pods, initJob, direct, assignPlannedSlots, expectFinishedCluster, emptyNodes } = serverSet(0);

      it("the init Job finishes a create interrupted before the nodes met", async () => {
        await assignPlannedSlots(2);
        const result = await initJob(pods[0]!.password);
        expect(result.status, result.stdout + result.stderr).toBe(0);
        await expectFinishedCluster();
        await emptyNodes();
      });

      it("the init Job finishes a create interrupted while the nodes met", async () => {
        await assignPlannedSlots(3);
        for (const pod of pods) await direct(pod, "cluster", "set-config-epoch", String(pod.ordinal + 1));
        await direct(pods[1]!, "cluster", "meet", pods[0]!.ip, String(port)); // pods[2] never met anyone
        const result = await initJob(pods[0]!.password);
        expect(result.status, result.stdout + result.stderr).toBe(0);
        expect(result.stdout).toContain("cluster already created; not creating it again");
        await expectFinishedCluster();
      });
    });

    concurrentScenario("on empty nodes", () => {
      const { pods, publishAddresses, start, serverLog, probe, initJob, client, direct, clusterInfo, clusterNodes, waitHealed, expectFinishedCluster } = serverSet(1);

      it("the nodes are ready and live on PING alone, before any cluster exists, not with a wrong password", async () => {
        for (const pod of pods) {
          expect((await probe(pod, "readinessProbe")).status).toBe(0);
          expect((await probe(pod, "livenessProbe")).status).toBe(0);
          expect((await probe(pod, "readinessProbe", "not-the-password")).status).not.toBe(0);
          expect((await clusterInfo(pod)).cluster_known_nodes).toBe("1");
        }
      });

      it("the init Job creates the cluster over every node, which reaches cluster_state ok", async () => {
        const first = await initJob(pods[0]!.password);
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        expect(first.stdout).toContain("[OK] All 16384 slots covered.");
        expect(first.stdout).not.toContain("not creating it again");
        expect(first.stdout).toContain("cluster state ok");
        for (const pod of pods) {
          expect(await clusterInfo(pod)).toMatchObject({ cluster_state: "ok", cluster_slots_assigned: "16384", cluster_known_nodes: "3" });
        }
        await expectFinishedCluster(); // every node known by its pod hostname, clients are redirected to
      });

      it("a second run of the Job creates nothing and verifies the cluster", async () => {
        const before = await Promise.all(pods.map(clusterNodes));
        const second = await initJob(pods[0]!.password);
        expect(second.status).toBe(0);
        expect(second.stdout).toContain("cluster already created; not creating it again");
        expect(second.stdout).not.toContain("Performing hash slots allocation");
        expect(second.stdout).toContain("cluster state ok");
        expect(await Promise.all(pods.map(clusterNodes))).toEqual(before);
      });

      it("a client writes keys across the nodes by pod hostname, following redirects", async () => {
        for (const key of keys) {
          const set = await client(pods[0]!.password, "set", key, `value of ${key}`);
          expect(set.stdout.trim(), set.stderr).toBe("OK");
        }
        // The keys landed on more than one node, so reading them back later crosses slots.
        const perNode = await Promise.all(pods.map(async (p) => Number((await direct(p, "dbsize")).stdout.trim())));
        expect(perNode.reduce((a, b) => a + b)).toBe(keys.length);
        expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
      });

      it("after a full restart on new pod IPs the cluster heals, at the new addresses, with its data", async () => {
        const ids = (await clusterNodes(pods[0]!)).map((n) => n.id).sort();
        const logged = pods.map((pod) => serverLog(pod, Infinity).length);
        await Promise.all(pods.map(stop));
        // SIGTERM reached redis-server itself (the start step execs it), which flushed its AOF: the
        // keys written a moment ago survive although appendfsync is everysec.
        for (const pod of pods) {
          const sinceStop = serverLog(pod, Infinity).slice(logged[pod.ordinal]);
          expect(sinceStop).toContain("Received SIGTERM");
          expect(sinceStop).toContain("Calling fsync() on the AOF file");
        }
        for (const pod of pods) pod.ip = address(1, 1, pod.ordinal);
        publishAddresses(); // DNS now answers the new addresses, as the headless Service would
        await Promise.all(pods.map(start));
        await waitHealed("after the full restart");
        for (const pod of pods) {
          expect((await clusterNodes(pod)).map((n) => n.id).sort()).toEqual(ids); // the same cluster, not a new one
        }
        for (const key of keys) expect((await client(pods[0]!.password, "get", key)).stdout.trim()).toBe(`value of ${key}`);
      });

      it("rotates the password as docs/redis.md says: both accepted, rolling restart, old one refused", async () => {
        const [oldPassword, newPassword] = [pods[0]!.password, "staging-password-2"];
        // Step 1 of the runbook, on every node: accept the new password next to the old one.
        for (const pod of pods) {
          const added = await direct(pod, "acl", "setuser", "default", `>${newPassword}`);
          expect(added.stdout.trim()).toBe("OK");
        }
        for (const password of [oldPassword, newPassword]) {
          expect((await client(password, "get", keys[0]!)).stdout.trim()).toBe(`value of ${keys[0]}`);
        }
        // Step 3: the Secret holds the new password and the raised revision rolls the StatefulSet:
        // one pod at a time, highest ordinal first, each waiting for the previous one to be ready.
        for (const pod of [...pods].reverse()) {
          await stop(pod);
          pod.password = newPassword;
          pod.ip = address(1, 2, pod.ordinal);
          publishAddresses();
          await start(pod);
        }
        // The Job, renamed by the revision, runs again after the rollout and verifies the cluster.
        const rerun = await initJob(newPassword);
        expect(rerun.status, rerun.stderr).toBe(0);
        expect(rerun.stdout).toContain("cluster already created; not creating it again");
        expect(rerun.stdout).toContain("cluster state ok");
        await waitHealed("after the rolling restart");
        for (const key of keys) expect((await client(newPassword, "get", key)).stdout.trim()).toBe(`value of ${key}`);
        for (const pod of pods) {
          const refused = await run([redisCli!, "-h", pod.ip, "-p", String(port), "ping"], { PATH: path, REDISCLI_AUTH: oldPassword });
          expect(refused.stdout + refused.stderr).toContain("WRONGPASS");
        }
      });
    });
  },
);
