import type { Environment } from "../config/types.ts";
import { role } from "../lib/labels.ts";
import { configMap, dataVolume, type KubeObject, podDisruptionBudget, service, statefulSet } from "../lib/objects.ts";
import {
  container,
  httpProbe,
  livenessTiming,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
  tcpProbe,
} from "../lib/pod.ts";
import { networkPolicy, podsOf } from "../lib/network.ts";
import { ordinals, podHost, type PodRole, serviceHost } from "../lib/topology.ts";
import type { TypesenseContract } from "./contracts.ts";

const uid = 1000;

const podRole: PodRole = { app: "typesense", component: "search" };

export const names = {
  statefulSet: "nx-typesense",
  service: "nx-typesense",
  headless: "nx-typesense-headless",
  nodes: "nx-typesense-nodes",
  peersPolicy: "allow-typesense-peers",
} as const;

const apiKey = { name: "nx-typesense-secret", key: "TYPESENSE_API_KEY", holds: "the Typesense admin API key" };

const ports = { api: 8108, peering: 8107 } as const;

const nodesDir = "/etc/typesense";
const nodesKey = "nodes";

// While a node loads its collections from disk after a restart, /health answers 503 {"ok":false}
// (the API serves before the data is loaded). Liveness starts only once it has answered 200, and
// the load gets up to 30 minutes.
const startupTiming = { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 180 };

/** More than one node is a Raft cluster (config-checks refuses an even size). */
const isRaftCluster = (env: Environment) => env.typesense.replicas > 1;

/**
 * The hosts of the nodes file: each pod's stable DNS name under the headless Service. Typesense
 * resolves them to IPs again every ~10 s (raft_server.cpp resolve_node_hosts, since v0.23), so a
 * restarted pod's new IP reaches its peers; it skips a host longer than 64 characters.
 */
export function typesenseNodeHosts(env: Environment): string[] {
  return ordinals(env.typesense.replicas).map((i) =>
    podHost(names.statefulSet, i, names.headless, env.common.namespaces.search, env.common.clusterDomain),
  );
}

/** The nodes file: `host:peering_port:api_port`, comma-separated, one per node. */
function nodesFile(env: Environment): string {
  return typesenseNodeHosts(env).map((host) => `${host}:${ports.peering}:${ports.api}`).join(",");
}

const searchRole = (env: Environment) => role(podRole, names.statefulSet, env.common.images.typesense);

/** Typesense search engine: one node, or a Raft cluster of an odd number of nodes. Its index can be rebuilt from PostgreSQL. */
export function typesense(env: Environment): KubeObject[] {
  return isRaftCluster(env) ? raftCluster(env) : singleNode(env);
}

const apiContainer = (env: Environment, args: readonly string[]) => ({
  name: "typesense",
  image: env.common.images.typesense,
  args: ["--data-dir=/data", `--api-port=${ports.api}`, "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors", ...args],
  resources: resources(env.typesense.resources),
  startupProbe: httpProbe("/health", "http", startupTiming),
  readinessProbe: httpProbe("/health", "http", readinessTiming),
});

const apiServicePort = { name: "http", port: ports.api, targetPort: "http" };

function singleNode(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.search;
  const search = searchRole(env);
  return [
    service(env, { name: names.service, namespace, role: search, ports: [apiServicePort] }),
    statefulSet(env, {
      name: names.statefulSet,
      namespace,
      role: search,
      serviceName: names.service,
      replicas: env.typesense.replicas,
      uid,
      storage: env.typesense.storage,
      // The API key is read at start: a rotation restarts the node.
      followsSecretRotation: true,
      pod: {
        containers: [
          container({
            ...apiContainer(env, []),
            ports: [{ containerPort: ports.api, name: "http" }],
            env: [secretEnv("TYPESENSE_API_KEY", apiKey)],
            livenessProbe: httpProbe("/health", "http", livenessTiming),
            volumeMounts: [{ name: dataVolume, mountPath: "/data" }],
          }),
        ],
      },
    }),
  ];
}

/**
 * A Raft cluster: every node is a peer on 8107 under its stable DNS name, writes go to the elected
 * leader (a follower forwards them to the leader's API port), and a node is Ready only while it has
 * a leader and is caught up with it.
 */
function raftCluster(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.search;
  const search = searchRole(env);
  const ownPods = podsOf(podRole);
  return [
    // Publishes the peers before they are ready: a node has no leader (and so is not ready) until
    // it reaches a majority of its peers by these names.
    service(env, {
      name: names.headless,
      namespace,
      role: search,
      headless: true,
      publishNotReadyAddresses: true,
      ports: [{ name: "peering", port: ports.peering, targetPort: "peering" }, apiServicePort],
    }),
    service(env, { name: names.service, namespace, role: search, ports: [apiServicePort] }),
    configMap(env, { name: names.nodes, namespace, role: search, data: { [nodesKey]: nodesFile(env) } }),
    statefulSet(env, {
      name: names.statefulSet,
      namespace,
      role: search,
      serviceName: names.headless,
      replicas: env.typesense.replicas,
      // All nodes at once: none elects a leader before a majority is up.
      parallel: true,
      uid,
      storage: env.typesense.storage,
      followsSecretRotation: true,
      pod: {
        containers: [
          container({
            ...apiContainer(env, [
              // An IP (Typesense parses it as one); the node's Raft identity is ip:8107:8108.
              "--peering-address=$(POD_IP)",
              `--peering-port=${ports.peering}`,
              `--nodes=${nodesDir}/${nodesKey}`,
              // After a full restart every pod has a new IP and no node has a leader; without this a
              // follower refuses to adopt the re-resolved peers and the cluster stays down
              // (docs/typesense.md: the index can be rebuilt from PostgreSQL).
              "--reset-peers-on-error",
            ]),
            ports: [
              { containerPort: ports.api, name: "http" },
              { containerPort: ports.peering, name: "peering" },
            ],
            env: [podFieldEnv("POD_IP", "status.podIP"), secretEnv("TYPESENSE_API_KEY", apiKey)],
            // Not /health: a node that lost its quorum answers 503 there, and restarting it cannot
            // bring the quorum back; only a dead process is restarted.
            livenessProbe: tcpProbe("http", livenessTiming),
            volumeMounts: [
              { name: dataVolume, mountPath: "/data" },
              // The folder, not a subPath: the kubelet updates it when the ConfigMap changes, and
              // Typesense re-reads the file every ~10 s.
              { name: "nodes", mountPath: nodesDir, readOnly: true },
            ],
          }),
        ],
        volumes: [{ name: "nodes", configMap: { name: names.nodes } }],
        // A majority survives the loss of any one host: never two nodes on one.
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: ownPods, topologyKey: "kubernetes.io/hostname" }],
          },
        },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            // Hard where the pool has zones (a zone lost must not take a majority), soft in a
            // one-zone pool, whose nodes may carry no zone label at all (a hard rule would then
            // place nothing). A cordoned node's zone does not count, so a drain can reschedule.
            whenUnsatisfiable: env.statefulNodes.zones > 1 ? "DoNotSchedule" : "ScheduleAnyway",
            nodeTaintsPolicy: "Honor",
            labelSelector: ownPods,
          },
        ],
      },
    }),
    // One node at a time: a drain never takes the majority.
    podDisruptionBudget(env, { name: names.statefulSet, namespace, role: search, maxUnavailable: 1 }),
    // Raft between the nodes only. 8108 too: a follower forwards writes to the leader's API and
    // reads its /status (raft_server.cpp), which must not depend on the namespace-wide rule.
    networkPolicy(env, {
      name: names.peersPolicy,
      namespace,
      pods: ownPods,
      ingress: [{ peers: [{ namespace, pods: ownPods }], ports: [ports.peering, ports.api] }],
      egress: [{ peers: [{ namespace, pods: ownPods }], ports: [ports.peering, ports.api] }],
    }),
  ];
}

export function typesenseContract(env: Environment): TypesenseContract {
  return {
    namespace: env.common.namespaces.search,
    host: serviceHost(names.service, env.common.namespaces.search, env.common.clusterDomain),
    port: ports.api,
    // Plain HTTP: the server is started without `--ssl-certificate`.
    protocol: "http",
    apiKey,
    pods: podsOf(podRole),
    secrets: [apiKey],
  };
}
