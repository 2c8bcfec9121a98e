// Every node a master (redis.cluster.kind "masters", staging): one StatefulSet, no replicas.
import type { Environment } from "../../config/types.ts";
import { InvalidConfig } from "../../lib/errors.ts";
import { role } from "../../lib/labels.ts";
import { initJob, type KubeObject, podDisruptionBudget, service, statefulSet } from "../../lib/objects.ts";
import { plainEnv, secretEnv } from "../../lib/pod.ts";
import { waitUntil } from "../../lib/shell.ts";
import { podsOf } from "../../lib/network.ts";
import { ordinals, podHost, type PodRole } from "../../lib/topology.ts";
import type { RedisContract } from "../contracts.ts";
import { clusterInfoFunction, clusterInitRole, clusterPolicy, createOrComplete, nodeContainer, ports, secret, servicePorts, uid } from "./nodes.ts";

const podRoles = {
  node: { app: "redis", component: "cluster" },
  clusterInit: clusterInitRole,
} as const satisfies Record<string, PodRole>;

export const names = {
  statefulSet: "nx-redis",
  service: "nx-redis",
  headless: "nx-redis-headless",
  clusterInitJob: "nx-redis-cluster-init",
} as const;

/** Pod DNS names of the cluster nodes, the addresses backend services are configured with. */
export function redisNodeHosts(env: Environment): string[] {
  const ns = env.common.namespaces.broker;
  return ordinals(env.redis.masters).map((i) =>
    podHost(names.statefulSet, i, names.headless, ns, env.common.clusterDomain),
  );
}

/** The role of the cluster's pods, which the Services and the disruption budget select. */
const nodeRole = (env: Environment) => role(podRoles.node, names.statefulSet, env.common.images.redis);

export function redisCluster(env: Environment) {
  const ns = env.common.namespaces.broker;
  const cfg = env.redis;
  if (!Number.isInteger(cfg.masters) || cfg.masters < 3) {
    throw new InvalidConfig(
      `StatefulSet ${ns}/${names.statefulSet}`,
      "spec.replicas",
      `redis.masters is ${cfg.masters}; a Redis Cluster needs at least 3 masters`,
    );
  }
  return statefulSet(env, {
    name: names.statefulSet,
    namespace: ns,
    role: nodeRole(env),
    serviceName: names.headless,
    replicas: cfg.masters,
    parallel: true,
    // Masters on different nodes (while the pool has as many): losing a node loses one master.
    spread: true,
    // requirepass and masterauth are read from the environment at start only: a raised revision
    // restarts the nodes one at a time with the rotated password (docs/redis.md).
    followsSecretRotation: true,
    uid,
    storage: cfg.storage,
    pod: {
      containers: [nodeContainer(env, names.headless)],
    },
  });
}

/**
 * A drain evicts one master at a time and waits until it answers again: with no replicas each
 * master alone holds its slots, so two at once would take two thirds of the keyspace down.
 */
function redisDisruptionBudget(env: Environment) {
  return podDisruptionBudget(env, {
    name: names.statefulSet,
    namespace: env.common.namespaces.broker,
    role: nodeRole(env),
    maxUnavailable: 1,
  });
}

function redisServices(env: Environment) {
  const ns = env.common.namespaces.broker;
  const clusterRole = nodeRole(env);
  return [
    service(env, {
      name: names.headless,
      namespace: ns,
      role: clusterRole,
      ports: servicePorts,
      headless: true,
      publishNotReadyAddresses: true,
    }),
    service(env, { name: names.service, namespace: ns, role: clusterRole, ports: servicePorts }),
  ];
}

/**
 * Creates the cluster once every node answers. Idempotent: when any node already knows a peer the
 * cluster exists and is only completed and verified, never created again.
 *
 * `redis-cli --cluster create` assigns each node its slots, then has every node meet the first. A
 * run killed half-way (an evicted pod, the deadline) leaves one of two states, which the next run
 * finishes: nodes that met nobody yet but own slots (reset, then created again: a lone node never
 * covers every slot, so it cannot have taken a write, and Redis refuses to reset one with keys),
 * or some nodes apart from the others (the first node meets each node that does not know all).
 * `redis-cli --cluster fix` cannot do this: it asks before covering slots even under
 * `--cluster-yes`, and only sees the nodes its seed knows.
 */
export function redisClusterInitJob(env: Environment) {
  // The nodes come as an env var (REDIS_NODES): the script is the same for any number of masters.
  const script = `set -eu
export REDISCLI_AUTH="$REDIS_PASSWORD"
nodes=$(set -- $REDIS_NODES; echo $#)
${clusterInfoFunction}
${createOrComplete(`$(getent hosts "$host" | awk '{ print $1; exit }')`, "  redis-cli --cluster create $addresses --cluster-replicas 0 --cluster-yes")}
# Every node ok and knowing exactly the $nodes masters: none left apart, no stale entry of a replaced node.
formed_everywhere() {
  for ip in $ips; do
    [ "$(info "$ip" cluster_state)" = "ok" ] && [ "$(info "$ip" cluster_known_nodes)" -eq "$nodes" ] || return 1
  done
}
${waitUntil("formed_everywhere", { attempts: 120, seconds: 1, failure: '"cluster did not reach state ok on every node"' })}
echo "cluster state ok"
`;
  return initJob(env, {
    name: names.clusterInitJob,
    namespace: env.common.namespaces.broker,
    role: role(podRoles.clusterInit, names.clusterInitJob, env.common.images.redis),
    uid,
    // Runs again after a rotation of the Redis Secret (once the nodes have restarted), proving that every node
    // accepts the new password and the cluster is still ok.
    followsSecretRotation: true,
    container: {
      name: "cluster-init",
      image: env.common.images.redis,
      command: ["sh", "-c", script],
      env: [plainEnv("REDIS_NODES", redisNodeHosts(env).join(" ")), secretEnv("REDIS_PASSWORD", secret)],
    },
  });
}

/** Redis Cluster of masters alone: AOF persistence, their Services, their disruption budget and the cluster-create Job. */
export function mastersCluster(env: Environment): KubeObject[] {
  return [
    ...redisServices(env),
    redisCluster(env),
    redisDisruptionBudget(env),
    redisClusterInitJob(env),
    clusterPolicy(env, podsOf(podRoles.node)),
  ];
}

/** Each master is a shard of its own (what a backup snapshots). */
export function mastersShards(env: Environment): string[][] {
  return redisNodeHosts(env).map((host) => [host]);
}

export function mastersContract(env: Environment): RedisContract {
  return {
    namespace: env.common.namespaces.broker,
    nodes: redisNodeHosts(env).map((host) => `${host}:${ports.redis}`),
    // Cluster-aware clients, no SELECT of a database.
    mode: "cluster",
    port: ports.redis,
    memberPorts: [ports.redisBus],
    password: secret,
    pods: podsOf(podRoles.node),
    secrets: [secret],
  };
}
