import { describe, expect, it } from "vitest";
import { redis } from "../generator/components/redis/index.ts";
import { redisCluster, redisClusterInitJob, redisNodeHosts } from "../generator/components/redis/masters.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, stagingWith } from "./support/config.ts";

const container = (env = staging) => plain<any>(redisCluster(env)).spec.template.spec.containers[0];
const jobScript = (env = staging) => plain<any>(redisClusterInitJob(env)).spec.template.spec.containers[0].command[2];
const jobEnv = (env = staging): Record<string, string | undefined> =>
  Object.fromEntries(plain<any>(redisClusterInitJob(env)).spec.template.spec.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));

describe("Redis Cluster", () => {

  it("runs redis-server with every flag of the design document, in order", () => {
    const args: string[] = container().args;
    expect(args.slice(0, 19)).toEqual([
      "redis-server",
      "--requirepass", "$(REDIS_PASSWORD)",
      "--masterauth", "$(REDIS_PASSWORD)",
      "--cluster-enabled", "yes",
      "--cluster-config-file", "/data/nodes.conf",
      "--cluster-node-timeout", "5000",
      "--appendonly", "yes",
      "--appendfsync", "everysec",
      "--maxmemory", "256mb",
      "--maxmemory-policy", "noeviction",
    ]);
  });

  it("announces each node by its stable pod hostname so clients and peers survive IP changes", () => {
    const args: string[] = container().args;
    const at = args.indexOf("--cluster-announce-hostname");
    expect(args[at + 1]).toBe("$(POD_NAME).nx-redis-headless.nx-broker.svc.cluster.local");
    expect(args.slice(args.indexOf("--cluster-preferred-endpoint-type"), args.indexOf("--cluster-preferred-endpoint-type") + 2)).toEqual([
      "--cluster-preferred-endpoint-type",
      "hostname",
    ]);
    // The start script re-resolves peers' hostnames in nodes.conf before exec'ing redis-server.
    expect(container().command[2]).toContain("getent hosts");
    expect(container().command[2]).toContain('exec "$@"');
  });

  it("is ready when it answers PING, not when the cluster has formed", () => {
    const probe = container().readinessProbe.exec.command[2];
    expect(probe).toContain("redis-cli -h 127.0.0.1 -p 6379 ping");
    expect(probe).not.toContain("cluster");
  });

  it("creates the cluster over every master, and never over a node that knows a peer", () => {
    const script = jobScript();
    expect(jobEnv(staging).REDIS_NODES).toBe(redisNodeHosts(staging).join(" "));
    expect(script).toContain("for host in $REDIS_NODES; do");
    expect(script).toContain("redis-cli --cluster create $addresses --cluster-replicas 0 --cluster-yes");
    expect(script).toContain('if [ "$(info "$ip" cluster_known_nodes)" -gt 1 ]; then formed=1; fi');
    expect(script).toContain('echo "cluster already created; not creating it again"');
    // `--cluster fix` asks before covering slots even with --cluster-yes, and a Job has no stdin.
    expect(script).not.toContain("--cluster fix");
  });

  it("lets a drain or any other eviction take at most one master at a time", () => {
    const budgets = redis(staging).filter((o) => o.kind === "PodDisruptionBudget").map((o) => plain<any>(o));
    expect(budgets).toHaveLength(1);
    const [budget] = budgets;
    expect(budget.metadata).toMatchObject({ name: "nx-redis", namespace: "nx-broker" });
    expect(budget.spec.maxUnavailable).toBe(1);
    // It selects exactly the cluster's pods (not the init Job's, whose component differs).
    const sts = plain<any>(redisCluster(staging));
    expect(budget.spec.selector).toEqual(sts.spec.selector);
    expect(plain<any>(redisClusterInitJob(staging)).spec.template.metadata.labels["app.kubernetes.io/component"]).not.toBe(
      budget.spec.selector.matchLabels["app.kubernetes.io/component"],
    );
  });

  it("spreads the masters over nodes, one per node while there are enough nodes, and places a drained master again at once", () => {
    const pod = plain<any>(redisCluster(staging)).spec.template;
    const selector = { matchLabels: plain<any>(redisCluster(staging)).spec.selector.matchLabels };
    expect(pod.spec.topologySpreadConstraints).toContainEqual({
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "DoNotSchedule",
      // A cordoned node is not a place to spread to: otherwise its evicted master stays Pending.
      nodeTaintsPolicy: "Honor",
      labelSelector: selector,
    });
    expect(pod.metadata.labels).toMatchObject(selector.matchLabels);
  });


  it("follows the configured number of masters", () => {
    const env = stagingWith({ redis: { masters: 6 } });
    expect(plain<any>(redisCluster(env)).spec.replicas).toBe(6);
    expect(redisNodeHosts(env)).toHaveLength(6);
    expect(jobEnv(env).REDIS_NODES?.split(" ")).toEqual(redisNodeHosts(env));
    // The count reaches the Job as its node list: the script is the same for any number of masters.
    expect(jobScript(env)).toBe(jobScript(staging));
  });

  it("keeps the init Job on the default pool, restricted, with no TTL", () => {
    const job = plain<any>(redisClusterInitJob(staging));
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(job.spec.backoffLimit).toBe(3);
    expect(job.spec.template.spec.restartPolicy).toBe("OnFailure");
    expect(job.spec.template.spec.nodeSelector).toEqual({ "node.kubernetes.io/pool": "default" });
    expect(job.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } });
    expect(job.spec.template.spec.containers[0].securityContext.capabilities.drop).toEqual(["ALL"]);
  });
});
