import type { Environment, KafkaStatefulSets } from "../../config/types.ts";
import { InvalidConfig } from "../../lib/errors.ts";
import { contentHash } from "../../lib/hash.ts";
import { role } from "../../lib/labels.ts";
import { configMap, dataVolume, initJob, type KubeObject, podDisruptionBudget, service, statefulSet } from "../../lib/objects.ts";
import {
  container,
  jvmHeapOptions,
  livenessTiming,
  plainEnv,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
  tcpProbe,
} from "../../lib/pod.ts";
import { waitUntil } from "../../lib/shell.ts";
import { createHash } from "node:crypto";
import { networkPolicy, podsOf } from "../../lib/network.ts";
import { ordinals, podHost, type PodRole, serviceHost } from "../../lib/topology.ts";
import type { KafkaContract } from "../contracts.ts";
import { checkBrokers, clientSecret, connectStorage, kafkaClientMechanism, kafkaClientPort, kafkaSetting } from "./model.ts";

const podRoles = {
  broker: { app: "kafka", component: "broker" },
  scramInit: { app: "kafka", component: "scram-init" },
} as const satisfies Record<string, PodRole>;

export const names = {
  statefulSet: "nx-kafka",
  service: "nx-kafka",
  headless: "nx-kafka-headless",
  config: "nx-kafka-config",
  scramInitJob: "nx-kafka-scram-init",
} as const;

const secrets = {
  jaas: {
    name: "nx-kafka-jaas",
    key: "kafka_server_jaas.conf",
    holds:
      "the brokers' JAAS file: `KafkaServer { org.apache.kafka.common.security.scram.ScramLoginModule required; };` (no credentials; users live in the KRaft metadata)",
  },
  /** Password of the SCRAM client user; Debezium reads a copy in its own namespace. */
  client: clientSecret,
} as const;

const ports = { kafkaInternal: 29092, kafkaClient: kafkaClientPort, kafkaController: 9093 } as const;

const uid = 1000; // appuser of the apache/kafka image
const kafkaBin = "/opt/kafka/bin";
const dataDir = "/var/lib/kafka/data";
const jaasDir = "/etc/kafka-jaas";
const templateDir = "/etc/kafka-template";
/** Written by an operator (runbook in docs/kafka.md) to let the init container format an empty disk. */
export const kafkaFormatApproval = "/config/format-approved";
/** How long an empty node waits for the quorum (or an operator) before the init container restarts. */
const quorumWait = { attempts: 60, seconds: 60 };

/** Broker addresses on one listener port, e.g. the CLIENT bootstrap list the backend uses. */
export function kafkaBrokerAddresses(env: Environment, port: number): string[] {
  const ns = env.common.namespaces.broker;
  return ordinals(statefulSetsOf(env).brokers).map(
    (i) => `${podHost(names.statefulSet, i, names.headless, ns, env.common.clusterDomain)}:${port}`,
  );
}

/** The configured cluster id, or one derived from the environment's name (16 bytes, base64url). */
export function kafkaClusterId(env: Environment): string {
  return statefulSetsOf(env).clusterId ?? createHash("sha256").update(`nx-data-layer/${env.name}/kafka`).digest("base64url").slice(0, 22);
}

/** The environment's StatefulSets kind (callers have chosen this implementation by it). */
export function statefulSetsOf(env: Environment): KafkaStatefulSets {
  const cluster = env.kafka.cluster;
  if (cluster.kind !== "statefulsets") throw new Error(`kafka.cluster is ${cluster.kind}, not statefulsets`);
  return cluster;
}

const statefulSetId = (env: Environment) => `StatefulSet ${env.common.namespaces.broker}/${names.statefulSet}`;

/** The brokers must hold every replica the settings ask for, and every JVM must fit its limit. */
function checkKafkaConfig(env: Environment): void {
  checkBrokers(env, statefulSetsOf(env).brokers, statefulSetId(env), "kafka.cluster.brokers");
  if (!/^[A-Za-z0-9_-]{22}$/.test(kafkaClusterId(env))) {
    throw new InvalidConfig(statefulSetId(env), "kafka.cluster.clusterId", "must be a 22-character base64url UUID (kafka-storage.sh random-uuid)");
  }
  brokerHeap(env);
  toolsHeap(env);
}

/** The broker's heap, a share of its container's memory limit (kafka-server-start.sh's own default is a fixed 1 GiB). */
const brokerHeap = (env: Environment) =>
  jvmHeapOptions(statefulSetId(env), ["kafka.cluster.heapFraction", statefulSetsOf(env).heapFraction], ["kafka.cluster.resources.limits.memory", statefulSetsOf(env).resources.limits.memory]);

/**
 * The CLI tools' heap inside the Job limits they run with (kafka-run-class.sh otherwise gives
 * every tool a fixed -Xmx256M, whatever the limit).
 */
const toolsHeap = (env: Environment) =>
  jvmHeapOptions(
    statefulSetId(env),
    ["kafka.cluster.toolsHeapFraction", statefulSetsOf(env).toolsHeapFraction],
    ["common.jobs.resources.limits.memory", env.common.jobs.resources.limits.memory],
  );

/**
 * The static quorum (`controller.quorum.voters`, docs/kafka.md says why not a dynamic one): every
 * broker is a KRaft controller. The init container writes it into each node's server.properties
 * from an env var, so another broker count changes one value, not the script or the file.
 */
const controllerQuorumVoters = (env: Environment) =>
  kafkaBrokerAddresses(env, ports.kafkaController).map((address, i) => `${i}@${address}`).join(",");

/** What the init container adds to the shared server.properties for its own node. */
const nodeProperties = ["controller.quorum.voters", "node.id", "advertised.listeners"] as const;

/** The lines of server.properties the generator writes for every broker, before the settings. */
const generatedProperties = [
  "process.roles=broker,controller",
  "controller.listener.names=CONTROLLER",
  `listeners=INTERNAL://:${ports.kafkaInternal},CLIENT://:${ports.kafkaClient},CONTROLLER://:${ports.kafkaController}`,
  "listener.security.protocol.map=INTERNAL:PLAINTEXT,CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
  "inter.broker.listener.name=INTERNAL",
  `sasl.enabled.mechanisms=${kafkaClientMechanism}`,
  `listener.name.client.sasl.enabled.mechanisms=${kafkaClientMechanism}`,
  // The listener's login module, here rather than only in the mounted JAAS file: a JAAS Secret
  // without a KafkaServer section would otherwise keep every broker from starting.
  "listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
  `log.dirs=${dataDir}`,
];

/**
 * The part of server.properties every broker shares (the init container adds `nodeProperties`).
 * INTERNAL (inter-broker) and CONTROLLER are PLAINTEXT and closed to clients by NetworkPolicy;
 * clients authenticate with SCRAM-SHA-512 on CLIENT.
 */
export function kafkaServerProperties(env: Environment): string {
  return `${[...generatedProperties, ...env.kafka.serverProperties.map(([k, v]) => `${k}=${v}`)].join("\n")}\n`;
}

/** Every key the generator writes into a node's server.properties itself: a setting may not repeat one. */
export const kafkaGeneratedKeys: readonly string[] = [...generatedProperties.map((line) => line.slice(0, line.indexOf("="))), ...nodeProperties];

/**
 * Log4j 2 configuration of the brokers: everything to stdout, nothing to files. The image's
 * config/log4j2.yaml rolls six files every hour and never deletes one; stdout is rotated by the
 * kubelet instead.
 */
const kafkaLog4j2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      target: SYSTEM_OUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: kafka.network.RequestChannel$
        level: WARN
`;

/**
 * Writes the pod's own server.properties (the quorum from CONTROLLER_QUORUM_VOTERS, node.id and
 * advertised.listeners from its name), then decides about an empty disk. Formatting makes the node a voter under its id with an empty log,
 * so it happens only when that cannot cost a committed metadata record (the KIP-856 hazard):
 * at the declared first bootstrap, or once the quorum's leader shows that every other voter holds
 * every committed record, and in an existing cluster only after an operator approved it. Every
 * other case waits and says why; docs/kafka.md has the reasoning and the runbooks.
 */
function initConfigScript(env: Environment): string {
  const namespace = env.common.namespaces.broker;
  const headless = serviceHost(names.headless, namespace, env.common.clusterDomain);
  const runbook = "docs/kafka.md, 'A node lost its disk'";
  const approve = `kubectl -n ${namespace} exec $POD_NAME -c kafka-init-config -- touch ${kafkaFormatApproval}`;
  return `set -eu
host="$POD_NAME.${headless}"
{
  cat ${templateDir}/server.properties
  echo "controller.quorum.voters=$CONTROLLER_QUORUM_VOTERS"
  echo "node.id=\${POD_NAME##*-}"
  echo "advertised.listeners=INTERNAL://$host:${ports.kafkaInternal},CLIENT://$host:${ports.kafkaClient}"
} > /config/server.properties
# Kafka refuses a log directory holding anything but its own data; new ext4 volumes hold lost+found.
if [ -d ${dataDir}/lost+found ]; then rmdir ${dataDir}/lost+found; fi
# A formatted disk (any restart) is used as it is.
if [ -f ${dataDir}/meta.properties ]; then exit 0; fi
if [ -n "$(ls -A ${dataDir})" ]; then
  echo "${dataDir} holds files but no meta.properties; not formatting over them (${runbook})" >&2
  exit 1
fi
id="\${POD_NAME##*-}"
peers=""
for voter in $(printf '%s' "$CONTROLLER_QUORUM_VOTERS" | tr ',' ' '); do
  controller="\${voter#*@}"
  case "$controller" in "$host":*) ;; *) peers="$peers\${peers:+,}$controller" ;; esac
done
printf '%s\\n' request.timeout.ms=5000 default.api.timeout.ms=15000 > /config/quorum-client.properties
# INITIAL_CLUSTER_STATE (kafka.initialClusterState): "new" only for the first start of a new cluster; "existing" needs an operator.
may_format() { [ "$INITIAL_CLUSTER_STATE" = new ] || [ -f ${kafkaFormatApproval} ]; }
quorum() {
  ${kafkaBin}/kafka-metadata-quorum.sh --bootstrap-controller "$peers" --command-config /config/quorum-client.properties describe "$1" 2>/dev/null
}
tries=0
while :; do
  status="" replication=""
  if status=$(quorum --status) && replication=$(quorum --replication); then
    # Voters other than this node whose log ends before the high watermark (all of them while the
    # leader does not know it yet): they may lack a committed record this node's old disk held.
    hw=$(printf '%s\\n' "$status" | awk '$1 == "HighWatermark:" { print $2 }')
    behind=$(printf '%s\\n' "$replication" | awk -v me="$id" -v hw="$hw" '($7 == "Leader" || $7 == "Follower") && $1 != me && (hw !~ /^[0-9]+$/ || $3 < hw) { printf " %s", $1 }')
    if [ -n "$behind" ]; then
      reason="empty disk; the quorum has a leader, but voters$behind may not hold every committed record yet"
    elif may_format; then
      break
    else
      reason="empty disk in an existing cluster; the other voters hold every committed record, so node $id may rejoin: check (${runbook}), then approve: ${approve}"
    fi
  elif [ -n "$status" ]; then
    reason="empty disk; the quorum leader answered once, then not again"
  elif may_format; then
    break
  else
    reason="empty disk and no quorum leader answers at $peers; if this is the first start of a new cluster, set kafka.initialClusterState to new (${runbook})"
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge ${quorumWait.attempts} ]; then echo "$reason" >&2; exit 1; fi
  echo "$reason"
  sleep ${quorumWait.seconds}
done
${kafkaBin}/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config /config/server.properties
rm -f ${kafkaFormatApproval}
`;
}

// Startup allows a long log recovery or a wait for the quorum after an outage (30 minutes): a
// restart would only begin both again.
const brokerStartup = { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 180 };

export function kafkaBrokers(env: Environment) {
  checkKafkaConfig(env);
  const cfg = statefulSetsOf(env);
  const image = env.common.images.kafka;
  const brokers = role(podRoles.broker, names.statefulSet, image);
  // The broker listeners open only once the broker has caught up with the metadata and been
  // unfenced (BrokerServer starts their acceptors last): readiness and startup watch CLIENT, so a
  // rolling update waits for a broker that serves. Liveness watches CONTROLLER, which the process
  // holds from start to exit: a fenced or catching-up broker is not restarted, which would only
  // begin its catch-up again. Parallel pod management and the headless Service's not-ready
  // addresses let every node start and find its peers before any is ready.
  return statefulSet(env, {
    name: names.statefulSet,
    namespace: env.common.namespaces.broker,
    role: brokers,
    serviceName: names.headless,
    replicas: cfg.brokers,
    parallel: true,
    spread: true,
    uid,
    storage: cfg.storage,
    podAnnotations: { "checksum/config": contentHash(kafkaServerProperties(env) + kafkaLog4j2) },
    pod: {
      initContainers: [
        container({
          name: "kafka-init-config",
          image,
          command: ["sh", "-c", initConfigScript(env)],
          env: [
            podFieldEnv("POD_NAME", "metadata.name"),
            plainEnv("CLUSTER_ID", kafkaClusterId(env)),
            plainEnv("CONTROLLER_QUORUM_VOTERS", controllerQuorumVoters(env)),
            plainEnv("INITIAL_CLUSTER_STATE", statefulSetsOf(env).initialClusterState),
            plainEnv("KAFKA_HEAP_OPTS", toolsHeap(env)),
          ],
          // It runs only shell and Kafka's CLI tools: the Job limits, which the tools' heap fits.
          resources: resources(env.common.jobs.resources),
          volumeMounts: [
            { name: dataVolume, mountPath: dataDir },
            { name: "config", mountPath: "/config" },
            { name: "template", mountPath: templateDir, readOnly: true },
          ],
        }),
      ],
      containers: [
        container({
          name: "kafka",
          image,
          command: [`${kafkaBin}/kafka-server-start.sh`, "/config/server.properties"],
          env: [
            plainEnv("KAFKA_OPTS", `-Djava.security.auth.login.config=${jaasDir}/${secrets.jaas.key}`),
            plainEnv("KAFKA_HEAP_OPTS", brokerHeap(env)),
            plainEnv("KAFKA_LOG4J_OPTS", `-Dlog4j2.configurationFile=${templateDir}/log4j2.yaml`),
            // Set, so kafka-server-start.sh's -loggc does not turn on its ten 100 MB files in logs/.
            plainEnv("KAFKA_GC_LOG_OPTS", "-Xlog:gc:stdout:time,level,tags"),
          ],
          ports: [
            { containerPort: ports.kafkaInternal, name: "internal" },
            { containerPort: ports.kafkaClient, name: "client" },
            { containerPort: ports.kafkaController, name: "controller" },
          ],
          resources: resources(cfg.resources),
          startupProbe: tcpProbe("client", brokerStartup),
          readinessProbe: tcpProbe("client", readinessTiming),
          livenessProbe: tcpProbe("controller", livenessTiming),
          volumeMounts: [
            { name: dataVolume, mountPath: dataDir },
            { name: "config", mountPath: "/config" },
            { name: "template", mountPath: templateDir, readOnly: true },
            { name: "jaas", mountPath: jaasDir, readOnly: true },
            { name: "logs", mountPath: "/opt/kafka/logs" },
          ],
        }),
      ],
      volumes: [
        { name: "config", emptyDir: { sizeLimit: "8Mi" } },
        { name: "template", configMap: { name: names.config } },
        {
          name: "jaas",
          secret: {
            secretName: secrets.jaas.name,
            items: [{ key: secrets.jaas.key, path: secrets.jaas.key }],
          },
        },
        // kafka-run-class.sh creates the logs folder; with the settings above nothing is written to it.
        { name: "logs", emptyDir: { sizeLimit: "1Gi" } },
      ],
    },
  });
}

function kafkaServices(env: Environment) {
  const namespace = env.common.namespaces.broker;
  const brokers = role(podRoles.broker, names.statefulSet, env.common.images.kafka);
  const internal = { name: "internal", port: ports.kafkaInternal, targetPort: "internal" };
  const client = { name: "client", port: ports.kafkaClient, targetPort: "client" };
  const controller = { name: "controller", port: ports.kafkaController, targetPort: "controller" };
  return [
    // Without publishNotReadyAddresses the nodes could not resolve each other before they are
    // ready, and they only become ready once a quorum of them has elected a leader.
    service(env, {
      name: names.headless,
      namespace,
      role: brokers,
      ports: [internal, client, controller],
      headless: true,
      publishNotReadyAddresses: true,
    }),
    service(env, { name: names.service, namespace, role: brokers, ports: [internal, client] }),
  ];
}

/**
 * Creates (or updates: `--add-config` is an upsert) the SCRAM user of the backend services, over
 * the INTERNAL listener, which needs no SASL itself. It follows the client Secret's revision: a
 * raised one gives the Job a new name, so a rotated password is applied (docs/kafka.md).
 */
export function kafkaScramInitJob(env: Environment) {
  // The environment's values come as env vars: the script is the same in every environment.
  const script = `set -eu
${waitUntil(`${kafkaBin}/kafka-broker-api-versions.sh --bootstrap-server "$BOOTSTRAP_SERVERS" > /dev/null 2>&1`, {
  // Each try starts a JVM (a few seconds): 80 tries stay inside the Job's activeDeadlineSeconds.
  attempts: 80,
  seconds: 5,
  failure: '"brokers not reachable at $BOOTSTRAP_SERVERS"',
})}
${kafkaBin}/kafka-configs.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --alter \\
  --add-config "SCRAM-SHA-512=[iterations=$SCRAM_ITERATIONS,password=$KAFKA_SASL_PASSWORD]" \\
  --entity-type users --entity-name "$KAFKA_CLIENT_USER"
${kafkaBin}/kafka-configs.sh --bootstrap-server "$BOOTSTRAP_SERVERS" --describe --entity-type users --entity-name "$KAFKA_CLIENT_USER"
`;
  return initJob(env, {
    name: names.scramInitJob,
    namespace: env.common.namespaces.broker,
    role: role(podRoles.scramInit, names.scramInitJob, env.common.images.kafka),
    uid,
    container: {
      name: "scram-init",
      image: env.common.images.kafka,
      command: ["sh", "-c", script],
      env: [
        plainEnv("BOOTSTRAP_SERVERS", kafkaBrokerAddresses(env, ports.kafkaInternal).join(",")),
        plainEnv("KAFKA_CLIENT_USER", env.kafka.clientUser),
        plainEnv("SCRAM_ITERATIONS", String(statefulSetsOf(env).scramIterations)),
        secretEnv("KAFKA_SASL_PASSWORD", secrets.client),
        plainEnv("KAFKA_HEAP_OPTS", toolsHeap(env)),
      ],
    },
    followsSecretRotation: true,
  });
}

/**
 * Kafka in KRaft mode: combined broker+controller nodes, their configuration, Services, the budget
 * that lets a drain take one broker at a time, and the SCRAM user Job.
 */
export function statefulSetsKafka(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.broker;
  const brokers = role(podRoles.broker, names.statefulSet, env.common.images.kafka);
  return [
    configMap(env, {
      name: names.config,
      namespace,
      role: brokers,
      data: { "server.properties": kafkaServerProperties(env), "log4j2.yaml": kafkaLog4j2 },
    }),
    ...kafkaServices(env),
    kafkaBrokers(env),
    // With min.insync.replicas=2 of 3 replicas, two brokers down stop every producer that waits for all.
    podDisruptionBudget(env, { name: names.statefulSet, namespace, role: brokers, maxUnavailable: 1 }),
    kafkaScramInitJob(env),
    // Fix: INTERNAL and CONTROLLER are PLAINTEXT: only the brokers and the SCRAM init Job reach them.
    networkPolicy(env, {
      name: "allow-kafka-cluster",
      namespace,
      pods: podsOf(podRoles.broker),
      ingress: [
        { peers: [{ namespace, pods: podsOf(podRoles.broker) }], ports: [ports.kafkaInternal, ports.kafkaController] },
        { peers: [{ namespace, pods: podsOf(podRoles.scramInit) }], ports: [ports.kafkaInternal] },
      ],
    }),
  ];
}

export function statefulSetsContract(env: Environment): KafkaContract {
  return {
    namespace: env.common.namespaces.broker,
    bootstrap: kafkaBrokerAddresses(env, ports.kafkaClient),
    port: ports.kafkaClient,
    memberPorts: [ports.kafkaInternal, ports.kafkaController],
    mechanism: kafkaClientMechanism,
    connect: connectStorage,
    topicDefaults: {
      partitions: kafkaSetting(env, "num.partitions") ?? "1",
      replicationFactor: kafkaSetting(env, "default.replication.factor") ?? "1",
    },
    client: { user: env.kafka.clientUser, password: secrets.client },
    // Debezium logs in as the backend's user: the layer's Job makes one SCRAM user only.
    debezium: { user: env.kafka.clientUser, password: secrets.client },
    pods: podsOf(podRoles.broker),
    secrets: Object.values(secrets),
  };
}
