import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { role } from "../lib/labels.ts";
import { dataVolume, initJob, type KubeObject, podDisruptionBudget, service, statefulSet } from "../lib/objects.ts";
import {
  container,
  execProbe,
  livenessTiming,
  plainEnv,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
} from "../lib/pod.ts";
import { waitUntil } from "../lib/shell.ts";
import { networkPolicy, podsOf } from "../lib/network.ts";
import { ordinals, podHost, type PodRole, serviceHost } from "../lib/topology.ts";
import type { RedisContract } from "./contracts.ts";

const uid = 999; // the redis user of the official image

const podRoles = {
  node: { app: "redis", component: "cluster" },
  clusterInit: { app: "redis", component: "cluster-init" },
} as const satisfies Record<string, PodRole>;

export const names = {
  statefulSet: "nx-redis",
  service: "nx-redis",
  headless: "nx-redis-headless",
  clusterInitJob: "nx-redis-cluster-init",
} as const;

const secret = { name: "nx-redis-secret", key: "REDIS_PASSWORD", holds: "password of every Redis node (requirepass and masterauth)" };

const ports = { redis: 6379, redisBus: 16379 } as const;

/** Pod DNS names of the cluster nodes, the addresses backend services are configured with. */
export function redisNodeHosts(env: Environment): string[] {
  const ns = env.common.namespaces.broker;
  return ordinals(env.redis.masters).map((i) =>
    podHost(names.statefulSet, i, names.headless, ns, env.common.clusterDomain),
  );
}

// Pod IPs change when pods restart, but nodes.conf keeps the peers' old IPs: after a full restart
// no node could reach another and the cluster would stay down. Each node announces its hostname,
// which nodes.conf stores after the address ("ip:port@bus,hostname"), so on start every entry's IP
// is re-resolved from that hostname (waiting briefly for peers that are starting too).
const refreshPeerAddresses = `set -eu
conf=/data/nodes.conf
if [ -f "$conf" ]; then
  awk '
    NF >= 2 && split($2, addr, ",") >= 2 && addr[2] != "" && index(addr[2], "=") == 0 {
      ip = ""
      for (try = 0; try < 15 && ip == ""; try++) {
        cmd = "getent hosts " addr[2]
        if ((cmd | getline answer) > 0) { split(answer, fields, " "); ip = fields[1] }
        close(cmd)
        if (ip == "") system("sleep 2")
      }
      if (ip != "") sub(/^[^:]*/, ip, $2)
    }
    { print }' "$conf" > "$conf.refreshed"
  mv "$conf.refreshed" "$conf"
fi
exec "$@"
`;

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
  const announceHost = `$(POD_NAME).${serviceHost(names.headless, ns, env.common.clusterDomain)}`;
  const ping = `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p ${ports.redis} ping | grep -q PONG`;
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
      containers: [
        container({
          name: "redis",
          image: env.common.images.redis,
          command: ["sh", "-c", refreshPeerAddresses, "redis-start"],
          args: [
            "redis-server",
            "--requirepass",
            "$(REDIS_PASSWORD)",
            "--masterauth",
            "$(REDIS_PASSWORD)",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "/data/nodes.conf",
            "--cluster-node-timeout",
            String(cfg.clusterNodeTimeoutMs),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory",
            cfg.maxmemory,
            "--maxmemory-policy",
            cfg.maxmemoryPolicy,
            "--cluster-announce-ip",
            "$(POD_IP)",
            "--cluster-announce-hostname",
            announceHost,
            "--cluster-preferred-endpoint-type",
            "hostname",
          ],
          ports: [
            { containerPort: ports.redis, name: "redis" },
            { containerPort: ports.redisBus, name: "cluster-bus" },
          ],
          env: [
            podFieldEnv("POD_NAME", "metadata.name"),
            podFieldEnv("POD_IP", "status.podIP"),
            secretEnv("REDIS_PASSWORD", secret),
          ],
          resources: resources(cfg.resources),
          // A plain PING: readiness must not wait for the cluster, which the init Job creates
          // only after every pod is ready.
          readinessProbe: execProbe(ping, readinessTiming),
          livenessProbe: execProbe(ping, livenessTiming),
          volumeMounts: [{ name: dataVolume, mountPath: "/data" }],
        }),
      ],
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
  const servicePorts = [
    { name: "redis", port: ports.redis, targetPort: "redis" },
    { name: "cluster-bus", port: ports.redisBus, targetPort: "cluster-bus" },
  ];
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
  const port = ports.redis;
  // The nodes come as an env var (REDIS_NODES): the script is the same for any number of masters.
  const script = `set -eu
export REDISCLI_AUTH="$REDIS_PASSWORD"
nodes=$(set -- $REDIS_NODES; echo $#)
info() { redis-cli -h "$1" -p ${port} cluster info | tr -d '\\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
ips=""
formed=0
for host in $REDIS_NODES; do
  ${waitUntil(`[ "$(redis-cli -h "$host" -p ${port} ping 2>/dev/null)" = "PONG" ]`, {
    attempts: 150,
    seconds: 2,
    failure: '"timed out waiting for $host"',
    indent: 2,
  })}
  # CLUSTER MEET takes IP addresses; the nodes announce their hostnames themselves.
  ip=$(getent hosts "$host" | awk '{ print $1; exit }')
  ips="$ips $ip"
  seed="\${seed:-$ip}"
  if [ "$(info "$ip" cluster_known_nodes)" -gt 1 ]; then formed=1; fi
done
if [ "$formed" = 1 ]; then
  echo "cluster already created; not creating it again"
  for ip in $ips; do
    if [ "$ip" != "$seed" ] && [ "$(info "$ip" cluster_known_nodes)" -lt "$nodes" ]; then
      redis-cli -h "$seed" -p ${port} cluster meet "$ip" ${port} > /dev/null
    fi
  done
else
  addresses=""
  for ip in $ips; do
    if [ "$(info "$ip" cluster_slots_assigned)" -gt 0 ]; then
      echo "$ip owns slots but knows no peer (an interrupted create): resetting it"
      [ "$(redis-cli -h "$ip" -p ${port} cluster reset hard)" = "OK" ] || { echo "could not reset $ip" >&2; exit 1; }
    fi
    addresses="$addresses $ip:${port}"
  done
  redis-cli --cluster create $addresses --cluster-replicas 0 --cluster-yes
fi
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

/**
 * Redis Cluster: 3 masters with AOF persistence, their Services, their disruption budget and the
 * cluster-create Job.
 */
export function redis(env: Environment): KubeObject[] {
  return [...redisServices(env), redisCluster(env), redisDisruptionBudget(env), redisClusterInitJob(env), redisClusterPolicy(env)];
}

/** Fix: the document's namespace-wide rule let any pod reach the cluster bus. */
function redisClusterPolicy(env: Environment) {
  const namespace = env.common.namespaces.broker;
  return networkPolicy(env, {
    name: "allow-redis-cluster",
    namespace,
    pods: podsOf(podRoles.node),
    ingress: [
      { peers: [{ namespace, pods: podsOf(podRoles.node) }], ports: [ports.redis, ports.redisBus] },
      { peers: [{ namespace, pods: podsOf(podRoles.clusterInit) }], ports: [ports.redis] },
    ],
  });
}

export function redisContract(env: Environment): RedisContract {
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
