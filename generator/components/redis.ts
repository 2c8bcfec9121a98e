import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { role } from "../lib/labels.ts";
import { dataVolume, initJob, type KubeObject, service, statefulSet } from "../lib/objects.ts";
import {
  container,
  execProbe,
  livenessTiming,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
} from "../lib/pod.ts";
import { waitUntil } from "../lib/shell.ts";
import { ordinals, podHost, podRoles, ports, redisNames, serviceHost } from "../lib/topology.ts";

const uid = 999; // the redis user of the official image

/** Pod DNS names of the cluster nodes, the addresses backend services are configured with. */
export function redisNodeHosts(env: Environment): string[] {
  const ns = env.common.namespaces.broker;
  return ordinals(env.redis.masters).map((i) =>
    podHost(redisNames.statefulSet, i, redisNames.headless, ns, env.common.clusterDomain),
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

export function redisCluster(env: Environment) {
  const ns = env.common.namespaces.broker;
  const cfg = env.redis;
  if (!Number.isInteger(cfg.masters) || cfg.masters < 3) {
    throw new InvalidConfig(
      `StatefulSet ${ns}/${redisNames.statefulSet}`,
      "spec.replicas",
      `redis.masters is ${cfg.masters}; a Redis Cluster needs at least 3 masters`,
    );
  }
  const announceHost = `$(POD_NAME).${serviceHost(redisNames.headless, ns, env.common.clusterDomain)}`;
  const ping = `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p ${ports.redis} ping | grep -q PONG`;
  return statefulSet(env, {
    name: redisNames.statefulSet,
    namespace: ns,
    role: role(podRoles.redis, redisNames.statefulSet, env.common.images.redis),
    serviceName: redisNames.headless,
    replicas: cfg.masters,
    parallel: true,
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
            secretEnv("REDIS_PASSWORD", redisNames.secret),
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

function redisServices(env: Environment) {
  const ns = env.common.namespaces.broker;
  const clusterRole = role(podRoles.redis, redisNames.statefulSet, env.common.images.redis);
  const servicePorts = [
    { name: "redis", port: ports.redis, targetPort: "redis" },
    { name: "cluster-bus", port: ports.redisBus, targetPort: "cluster-bus" },
  ];
  return [
    service(env, {
      name: redisNames.headless,
      namespace: ns,
      role: clusterRole,
      ports: servicePorts,
      headless: true,
      publishNotReadyAddresses: true,
    }),
    service(env, { name: redisNames.service, namespace: ns, role: clusterRole, ports: servicePorts }),
  ];
}

/**
 * Creates the cluster once every node answers. Idempotent: when any node already knows a peer or
 * owns a slot the cluster exists and is only verified, never created again.
 */
export function redisClusterInitJob(env: Environment) {
  const hosts = redisNodeHosts(env).join(" ");
  const script = `set -eu
export REDISCLI_AUTH="$REDIS_PASSWORD"
info() { redis-cli -h "$1" -p ${ports.redis} cluster info | tr -d '\\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
addresses=""
existing=0
for host in ${hosts}; do
  ${waitUntil(`[ "$(redis-cli -h "$host" -p ${ports.redis} ping 2>/dev/null)" = "PONG" ]`, {
    attempts: 150,
    seconds: 2,
    failure: '"timed out waiting for $host"',
    indent: 2,
  })}
  if [ "$(info "$host" cluster_known_nodes)" -gt 1 ] || [ "$(info "$host" cluster_slots_assigned)" -gt 0 ]; then
    existing=1
  fi
  # redis-cli --cluster create needs IP addresses; the nodes announce their hostnames themselves.
  ip=$(getent hosts "$host" | awk '{ print $1; exit }')
  addresses="$addresses $ip:${ports.redis}"
  seed="\${seed:-$ip}"
done
if [ "$existing" = 1 ]; then
  echo "cluster already created; not creating it again"
  # A create interrupted half-way leaves slots unassigned: let redis-cli finish the job.
  if [ "$(info "$seed" cluster_state)" != "ok" ]; then
    redis-cli --cluster fix "$seed:${ports.redis}" --cluster-yes || true
  fi
else
  redis-cli --cluster create $addresses --cluster-replicas 0 --cluster-yes
fi
${waitUntil('[ "$(info "$seed" cluster_state)" = "ok" ]', { attempts: 60, seconds: 2, failure: '"cluster did not reach state ok"' })}
echo "cluster state ok"
`;
  return initJob(env, {
    name: redisNames.clusterInitJob,
    namespace: env.common.namespaces.broker,
    role: role(podRoles.redisClusterInit, redisNames.clusterInitJob, env.common.images.redis),
    uid,
    container: {
      name: "cluster-init",
      image: env.common.images.redis,
      command: ["sh", "-c", script],
      env: [secretEnv("REDIS_PASSWORD", redisNames.secret)],
    },
  });
}

/** Redis Cluster: 3 masters with AOF persistence, their Services, and the cluster-create Job. */
export function redis(env: Environment): KubeObject[] {
  return [...redisServices(env), redisCluster(env), redisClusterInitJob(env)];
}
