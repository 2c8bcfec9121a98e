// Each master with replicas (redis.cluster.kind "replicated-shards", production): one StatefulSet
// per shard, so that placement can keep a master off the nodes of its own replicas whatever their
// roles become. A pod's role is not a label Kubernetes could see, and roles move (a failover swaps
// them), but shard membership does not: `cluster-allow-replica-migration no` keeps every replica
// with the master it was placed with, so "a shard's pods on different nodes" is "no master shares
// a node with its replicas", before and after any failover.
import type { IAffinity } from "kubernetes-models/v1/Affinity";
import type { ITopologySpreadConstraint } from "kubernetes-models/v1/TopologySpreadConstraint";
import type { Environment, RedisReplicatedShards } from "../../config/types.ts";
import { role, selectorLabels } from "../../lib/labels.ts";
import { type Pods, podsOf } from "../../lib/network.ts";
import { initJob, type KubeObject, podDisruptionBudget, service, statefulSet } from "../../lib/objects.ts";
import { plainEnv, secretEnv } from "../../lib/pod.ts";
import { waitUntil } from "../../lib/shell.ts";
import { ordinals, podHost, type PodRole } from "../../lib/topology.ts";
import type { RedisContract } from "../contracts.ts";
import {
  clusterInfoFunction,
  clusterInitRole,
  clusterPolicy,
  createOrComplete,
  nodeContainer,
  ports,
  secret,
  servicePorts,
  shardMembersFunction,
  uid,
} from "./nodes.ts";

export const names = {
  shard: (k: number) => `nx-redis-shard-${k}`,
  headless: (k: number) => `nx-redis-shard-${k}-headless`,
  /** The disruption budget over every shard's pods. */
  budget: "nx-redis",
  clusterInitJob: "nx-redis-cluster-init",
} as const;

const shardRole = (k: number): PodRole => ({ app: "redis", component: `shard-${k}` });

function shardsOf(env: Environment): RedisReplicatedShards {
  const cluster = env.redis.cluster;
  if (cluster.kind !== "replicated-shards") throw new Error(`redis.cluster.kind is ${cluster.kind}, not replicated-shards`);
  return cluster;
}

/** Pods of one shard: its master and replicas. */
const shardSize = (env: Environment) => 1 + shardsOf(env).replicasPerShard;

/** Every Redis node of every shard (not the Jobs' pods). */
function allNodes(env: Environment): Pods {
  return podsOf(...ordinals(env.redis.masters).map(shardRole));
}

/** Pod hostnames of each shard, shard by shard, ordinal 0 first. */
export function shardHosts(env: Environment): string[][] {
  const ns = env.common.namespaces.broker;
  return ordinals(env.redis.masters).map((k) =>
    ordinals(shardSize(env)).map((i) => podHost(names.shard(k), i, names.headless(k), ns, env.common.clusterDomain)),
  );
}

/**
 * The order `redis-cli --cluster create --cluster-replicas n` must get the nodes in for shard k to
 * be ordinal 0 of StatefulSet k as master and the others of k as its replicas. redis-cli (src/redis-cli.c,
 * clusterManagerCommandCreate) takes the first `masters` addresses as masters (with one address per
 * pod, its interleaving by IP keeps the given order), rotates the rest by one (the first goes last),
 * then gives master 0 the first n of them, master 1 the next n, and so on; its anti-affinity pass
 * changes nothing when no replica shares an IP with its master. So the replicas go in shard order,
 * the last one first. The Job verifies the outcome anyway, and repairs it with CLUSTER REPLICATE.
 */
export function createOrder(shards: readonly (readonly string[])[]): string[] {
  const masters = shards.map((members) => members[0]!);
  const replicas = shards.flatMap((members) => members.slice(1));
  return [...masters, ...replicas.slice(-1), ...replicas.slice(0, -1)];
}

/** The seconds each step of a failover can take at most, and their sum (docs/redis.md, "Failover"). */
export function failoverSeconds(env: Environment, cluster: RedisReplicatedShards) {
  const timeout = env.redis.clusterNodeTimeoutMs / 1000;
  // src/cluster_legacy.c clusterCron (every 100 ms): a node pings a peer once that peer's last PONG
  // is timeout/2 old, and flags it PFAIL when the PING stays unanswered for the timeout.
  const detect = timeout / 2 + timeout;
  // Every PING and PONG carries every PFAIL node (clusterSendPing, pfail_wanted) and every peer is
  // pinged at least every timeout/2: each master's report reaches the others within that; the
  // first master holding a majority's reports flags FAIL and broadcasts it (markNodeAsFailingIfNeeded).
  const reports = timeout / 2;
  // clusterHandleSlaveFailover: the election starts 500 ms + random(0-500) ms + rank × 1 s after the
  // replica learns of the FAIL; rank counts the shard's replicas with a more recent offset.
  const election = 1 + (cluster.replicasPerShard - 1);
  // The clusterCron ticks that may each add up to 100 ms: the PING, the PFAIL flag, the election start.
  const ticks = 0.3;
  const client = cluster.failover.clientRedirectSeconds;
  return { timeout, detect, reports, election, ticks, client, worst: detect + reports + election + ticks + client };
}

/**
 * Keeps a shard's pods on different nodes (required: two of a shard on one node is a master and
 * its replica lost together) and its pods over zones. The pods of all shards are kept on different
 * nodes too, required when the pool has a node for every pod: after failovers two masters of
 * different shards could otherwise sit on one node, and losing it would leave one master of three,
 * too few to elect any replica (a failover needs a majority of masters' votes). With fewer nodes it
 * is only preferred, and such a node loss waits for the node or an operator (docs/redis.md).
 */
function placement(env: Environment, k: number): { affinity: IAffinity; topologySpreadConstraints: ITopologySpreadConstraint[] } {
  const shard = { matchLabels: selectorLabels(shardRole(k)) };
  const everyNode = allNodes(env);
  const hostname = "kubernetes.io/hostname";
  const onePerNode = env.statefulNodes.hosts >= env.redis.masters * shardSize(env);
  return {
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: shard, topologyKey: hostname },
          ...(onePerNode ? [{ labelSelector: everyNode, topologyKey: hostname }] : []),
        ],
        ...(onePerNode
          ? {}
          : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: everyNode, topologyKey: hostname } }] }),
      },
    },
    // A cordoned node is not a place to spread to, so a drained pod is placed again at once.
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: hostname, whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: shard },
      { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor", labelSelector: shard },
      { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: everyNode },
    ],
  };
}

function shardStatefulSet(env: Environment, k: number) {
  return statefulSet(env, {
    name: names.shard(k),
    namespace: env.common.namespaces.broker,
    role: role(shardRole(k), names.shard(k), env.common.images.redis),
    serviceName: names.headless(k),
    replicas: shardSize(env),
    parallel: true,
    // requirepass and masterauth are read at start only (docs/redis.md, password rotation).
    followsSecretRotation: true,
    uid,
    storage: env.redis.storage,
    pod: {
      // Replicas stay with the master they were placed with (see the top of this file).
      containers: [nodeContainer(env, names.headless(k), ["--cluster-allow-replica-migration", "no"])],
      ...placement(env, k),
    },
  });
}

function shardService(env: Environment, k: number) {
  return service(env, {
    name: names.headless(k),
    namespace: env.common.namespaces.broker,
    role: role(shardRole(k), names.shard(k), env.common.images.redis),
    ports: servicePorts,
    headless: true,
    publishNotReadyAddresses: true,
  });
}

/**
 * One eviction at a time over all shards: after failovers any two pods may both be masters, and
 * two masters evicted together leave one of three, too few to elect a replica for either.
 */
function disruptionBudget(env: Environment) {
  return podDisruptionBudget(env, {
    name: names.budget,
    namespace: env.common.namespaces.broker,
    role: role({ app: "redis", component: "cluster" }, names.budget),
    pods: allNodes(env),
    maxUnavailable: 1,
  });
}

/**
 * Creates the cluster once every node answers, each shard one master and its replicas; idempotent
 * like the masters-only Job (masters.ts), whose two interrupted states it finishes the same way.
 * A create killed after the nodes met but before the replicas were attached, or a replica attached
 * elsewhere, is repaired shard by shard: the member that owns slots is the shard's master, and
 * every other member is made its replica (CLUSTER REPLICATE).
 */
export function shardsInitJob(env: Environment) {
  const port = ports.redis;
  const script = `set -eu
export REDISCLI_AUTH="$REDIS_PASSWORD"
nodes=$(set -- $REDIS_NODES; echo $#)
shards=$((nodes / REDIS_SHARD_SIZE))
${clusterInfoFunction}
${shardMembersFunction}
ip_of() { getent hosts "$1" | awk '{ print $1; exit }'; }
# The node's own line of CLUSTER NODES: id address flags master ping pong epoch link [slots...]
myself() { redis-cli -h "$1" -p ${port} cluster nodes | tr -d '\\r' | awk '$3 ~ /myself/'; }
${createOrComplete('$(ip_of "$host")', `  # REDIS_NODES is in the order that makes shard k ordinal 0 of its StatefulSet and its replicas.
  redis-cli --cluster create $addresses --cluster-replicas $((REDIS_SHARD_SIZE - 1)) --cluster-yes`)}
knows_all() {
  for ip in $ips; do [ "$(info "$ip" cluster_known_nodes)" -eq "$nodes" ] || return 1; done
}
${waitUntil("knows_all", { attempts: 120, seconds: 1, failure: '"not every node knows every other"' })}
k=0
while [ "$k" -lt "$shards" ]; do
  master=""
  for host in $(shard_members "$k"); do
    line=$(myself "$(ip_of "$host")")
    if [ "$(echo "$line" | awk '{ print NF }')" -gt 8 ]; then
      [ -z "$master" ] || { echo "shard $k: more than one member owns slots; resolve by hand (docs/redis.md)" >&2; exit 1; }
      master=$(echo "$line" | awk '{ print $1 }')
    fi
  done
  [ -n "$master" ] || { echo "shard $k: no member owns slots; resolve by hand (docs/redis.md)" >&2; exit 1; }
  for host in $(shard_members "$k"); do
    line=$(myself "$(ip_of "$host")")
    if [ "$(echo "$line" | awk '{ print $1 }')" != "$master" ] && [ "$(echo "$line" | awk '{ print $4 }')" != "$master" ]; then
      echo "$host: making it a replica of shard $k's master"
      [ "$(redis-cli -h "$(ip_of "$host")" -p ${port} cluster replicate "$master")" = "OK" ] || { echo "could not attach $host" >&2; exit 1; }
    fi
  done
  k=$((k + 1))
done
# Every node ok, knowing exactly the $nodes nodes, with one master a shard serving slots and every other node a replica.
formed_everywhere() {
  for ip in $ips; do
    [ "$(info "$ip" cluster_state)" = "ok" ] && [ "$(info "$ip" cluster_known_nodes)" -eq "$nodes" ] && [ "$(info "$ip" cluster_size)" -eq "$shards" ] || return 1
  done
  [ "$(redis-cli -h "$seed" -p ${port} cluster nodes | grep -c slave)" -eq $((nodes - shards)) ]
}
${waitUntil("formed_everywhere", { attempts: 120, seconds: 1, failure: '"cluster did not reach state ok on every node"' })}
echo "cluster state ok"
`;
  return initJob(env, {
    name: names.clusterInitJob,
    namespace: env.common.namespaces.broker,
    role: role(clusterInitRole, names.clusterInitJob, env.common.images.redis),
    uid,
    // Runs again after a rotation of the Redis Secret, proving every node accepts the new password.
    followsSecretRotation: true,
    container: {
      name: "cluster-init",
      image: env.common.images.redis,
      command: ["sh", "-c", script],
      env: [
        plainEnv("REDIS_NODES", createOrder(shardHosts(env)).join(" ")),
        plainEnv("REDIS_SHARDS", shardHosts(env).flat().join(" ")),
        plainEnv("REDIS_SHARD_SIZE", String(shardSize(env))),
        secretEnv("REDIS_PASSWORD", secret),
      ],
    },
  });
}

/** The shards, their disruption budget, the cluster-create Job and the nodes' policy (counts checked by config-checks.ts). */
export function replicatedShards(env: Environment): KubeObject[] {
  const shards = ordinals(env.redis.masters);
  return [
    ...shards.map((k) => shardService(env, k)),
    ...shards.map((k) => shardStatefulSet(env, k)),
    disruptionBudget(env),
    shardsInitJob(env),
    clusterPolicy(env, allNodes(env)),
  ];
}

export function replicatedShardsContract(env: Environment): RedisContract {
  return {
    namespace: env.common.namespaces.broker,
    // Cluster clients are given every node: any of them answers with the slot map.
    nodes: shardHosts(env).flat().map((host) => `${host}:${ports.redis}`),
    mode: "cluster",
    port: ports.redis,
    memberPorts: [ports.redisBus],
    password: secret,
    pods: allNodes(env),
    secrets: [secret],
  };
}
