// What every Redis node is, whichever way the cluster is laid out (redis.cluster.kind): the
// redis-server command line, the start step that heals a full restart, the probes, the password,
// and the shell steps the Jobs share. Each kind decides how many StatefulSets run these nodes.
import type { IContainer } from "kubernetes-models/v1/Container";
import type { Environment } from "../../config/types.ts";
import { networkPolicy, type Pods, podsOf } from "../../lib/network.ts";
import { dataVolume } from "../../lib/objects.ts";
import { container, execProbe, livenessTiming, podFieldEnv, readinessTiming, resources, secretEnv } from "../../lib/pod.ts";
import { waitUntil } from "../../lib/shell.ts";
import { type PodRole, serviceHost } from "../../lib/topology.ts";

export const uid = 999; // the redis user of the official image

export const ports = { redis: 6379, redisBus: 16379 } as const;

export const secret = { name: "nx-redis-secret", key: "REDIS_PASSWORD", holds: "password of every Redis node (requirepass and masterauth)" };

/** The cluster-create Job's pods, under either kind. */
export const clusterInitRole: PodRole = { app: "redis", component: "cluster-init" };

export const servicePorts = [
  { name: "redis", port: ports.redis, targetPort: "redis" },
  { name: "cluster-bus", port: ports.redisBus, targetPort: "cluster-bus" },
];

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

/**
 * The redis-server container of a node announcing itself as `<pod>.<headless>`; `settings` are
 * redis-server flags a kind adds after the shared ones.
 */
export function nodeContainer(env: Environment, headless: string, settings: readonly string[] = []): IContainer {
  const cfg = env.redis;
  const announceHost = `$(POD_NAME).${serviceHost(headless, env.common.namespaces.broker, env.common.clusterDomain)}`;
  const ping = `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p ${ports.redis} ping | grep -q PONG`;
  return container({
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
      ...settings,
    ],
    ports: [
      { containerPort: ports.redis, name: "redis" },
      { containerPort: ports.redisBus, name: "cluster-bus" },
    ],
    env: [podFieldEnv("POD_NAME", "metadata.name"), podFieldEnv("POD_IP", "status.podIP"), secretEnv("REDIS_PASSWORD", secret)],
    resources: resources(cfg.resources),
    // A plain PING: readiness must not wait for the cluster, which the init Job creates
    // only after every pod is ready.
    readinessProbe: execProbe(ping, readinessTiming),
    livenessProbe: execProbe(ping, livenessTiming),
    volumeMounts: [{ name: dataVolume, mountPath: "/data" }],
  });
}

/** `info <ip> <key>`: one field of a node's CLUSTER INFO (the Jobs' scripts define it first). */
export const clusterInfoFunction = `info() { redis-cli -h "$1" -p ${ports.redis} cluster info | tr -d '\\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }`;

/** Waits (5 minutes at most) until the node at `$host` answers PING. */
export const waitForPing = (indent: number) =>
  waitUntil(`[ "$(redis-cli -h "$host" -p ${ports.redis} ping 2>/dev/null)" = "PONG" ]`, {
    attempts: 150,
    seconds: 2,
    failure: '"timed out waiting for $host"',
    indent,
  });

/**
 * `shard_members <k>`: the hosts of shard k. REDIS_SHARDS lists every node shard by shard,
 * REDIS_SHARD_SIZE hosts each (a kind without replicas: one each).
 */
export const shardMembersFunction =
  'shard_members() { echo $REDIS_SHARDS | tr \' \' \'\\n\' | sed -n "$(($1 * REDIS_SHARD_SIZE + 1)),$((($1 + 1) * REDIS_SHARD_SIZE))p"; }';

/** Fix: the document's namespace-wide rule let any pod reach the cluster bus. */
export function clusterPolicy(env: Environment, nodes: Pods) {
  const namespace = env.common.namespaces.broker;
  return networkPolicy(env, {
    name: "allow-redis-cluster",
    namespace,
    pods: nodes,
    ingress: [
      { peers: [{ namespace, pods: nodes }], ports: [ports.redis, ports.redisBus] },
      { peers: [{ namespace, pods: podsOf(clusterInitRole) }], ports: [ports.redis] },
    ],
  });
}

/** Redis' memory units (redis src/util.c memtoull): bytes, k/m/g (powers of 1000), kb/mb/gb (of 1024), any case. */
export function redisBytes(size: string): number | undefined {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(size);
  if (!m) return undefined;
  const unit = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 }[(m[2] ?? "b").toLowerCase() as "b"];
  return Number(m[1]) * unit;
}

/**
 * The init scripts' shared step, for any layout of the nodes: wait until each node of
 * `$REDIS_NODES` answers and resolve it (`resolve`, a command substitution printing its IP), then
 * create the cluster (`create`, the redis-cli line(s)) when no node knows a peer, resetting a node
 * that an interrupted create left owning slots alone; when some node knows a peer the cluster
 * exists, and the first node only meets those left apart.
 */
export function createOrComplete(resolve: string, create: string): string {
  const port = ports.redis;
  return `ips=""
formed=0
for host in $REDIS_NODES; do
  ${waitForPing(2)}
  # CLUSTER MEET takes IP addresses; the nodes announce their hostnames themselves.
  ip=${resolve}
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
${create}
fi`;
}
