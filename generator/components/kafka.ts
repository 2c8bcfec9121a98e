import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { contentHash } from "../lib/hash.ts";
import { role } from "../lib/labels.ts";
import { configMap, dataVolume, initJob, type KubeObject, service, statefulSet } from "../lib/objects.ts";
import {
  container,
  livenessTiming,
  plainEnv,
  podFieldEnv,
  readinessTiming,
  resources,
  secretEnv,
  tcpProbe,
} from "../lib/pod.ts";
import { waitUntil } from "../lib/shell.ts";
import { kafkaNames, ordinals, podHost, podRoles, ports, serviceHost } from "../lib/topology.ts";

const uid = 1000; // appuser of the apache/kafka image
const kafkaBin = "/opt/kafka/bin";
const dataDir = "/var/lib/kafka/data";
const jaasDir = "/etc/kafka-jaas";
const templateDir = "/etc/kafka-template";

/** Broker addresses on one listener port, e.g. the CLIENT bootstrap list the backend uses. */
export function kafkaBrokerAddresses(env: Environment, port: number): string[] {
  const ns = env.common.namespaces.broker;
  return ordinals(env.kafka.brokers).map(
    (i) => `${podHost(kafkaNames.statefulSet, i, kafkaNames.headless, ns, env.common.clusterDomain)}:${port}`,
  );
}

/** A broker setting from the environment's server.properties, e.g. `default.replication.factor`. */
export function kafkaSetting(env: Environment, key: string): string | undefined {
  return env.kafka.serverProperties.find(([k]) => k === key)?.[1];
}

const statefulSetId = (env: Environment) => `StatefulSet ${env.common.namespaces.broker}/${kafkaNames.statefulSet}`;

/** The brokers must be able to hold every replica the settings ask for. */
function checkBrokerCount(env: Environment): void {
  const { brokers } = env.kafka;
  for (const key of ["default.replication.factor", "offsets.topic.replication.factor", "transaction.state.log.replication.factor"]) {
    const needed = Number(kafkaSetting(env, key) ?? 1);
    if (!Number.isInteger(brokers) || brokers < Math.max(1, needed)) {
      throw new InvalidConfig(
        statefulSetId(env),
        "spec.replicas",
        `kafka.brokers is ${brokers}, but ${key}=${needed} needs at least ${Math.max(1, needed)} brokers`,
      );
    }
  }
  if (!/^[A-Za-z0-9_-]{22}$/.test(env.kafka.clusterId)) {
    throw new InvalidConfig(statefulSetId(env), "kafka.clusterId", "must be a 22-character base64url UUID (kafka-storage.sh random-uuid)");
  }
}

/**
 * The part of server.properties every broker shares. Each broker is a KRaft controller too; the
 * voters are static, so every node formats into the same quorum without exchanging directory ids.
 * INTERNAL (inter-broker) and CONTROLLER are PLAINTEXT and closed to clients by NetworkPolicy;
 * clients authenticate with SCRAM-SHA-512 on CLIENT.
 */
export function kafkaServerProperties(env: Environment): string {
  const voters = ordinals(env.kafka.brokers)
    .map((i) => {
      const host = podHost(kafkaNames.statefulSet, i, kafkaNames.headless, env.common.namespaces.broker, env.common.clusterDomain);
      return `${i}@${host}:${ports.kafkaController}`;
    })
    .join(",");
  const lines = [
    "process.roles=broker,controller",
    `controller.quorum.voters=${voters}`,
    "controller.listener.names=CONTROLLER",
    `listeners=INTERNAL://:${ports.kafkaInternal},CLIENT://:${ports.kafkaClient},CONTROLLER://:${ports.kafkaController}`,
    "listener.security.protocol.map=INTERNAL:PLAINTEXT,CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=INTERNAL",
    "sasl.enabled.mechanisms=SCRAM-SHA-512",
    "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
    // The listener's login module, here rather than only in the mounted JAAS file: a JAAS Secret
    // without a KafkaServer section would otherwise keep every broker from starting.
    "listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
    `log.dirs=${dataDir}`,
    ...env.kafka.serverProperties.map(([k, v]) => `${k}=${v}`),
  ];
  return `${lines.join("\n")}\n`;
}

// node.id and advertised.listeners are the pod's own: derived from its name at start.
function initConfigScript(env: Environment): string {
  const headless = serviceHost(kafkaNames.headless, env.common.namespaces.broker, env.common.clusterDomain);
  return `set -eu
host="$POD_NAME.${headless}"
{
  cat ${templateDir}/server.properties
  echo "node.id=\${POD_NAME##*-}"
  echo "advertised.listeners=INTERNAL://$host:${ports.kafkaInternal},CLIENT://$host:${ports.kafkaClient}"
} > /config/server.properties
# Kafka refuses a log directory holding anything but its own data; new ext4 volumes hold lost+found.
if [ -d ${dataDir}/lost+found ]; then rmdir ${dataDir}/lost+found; fi
# KRaft storage is formatted once; meta.properties records that it was.
if [ ! -f ${dataDir}/meta.properties ]; then
  ${kafkaBin}/kafka-storage.sh format --cluster-id "$CLUSTER_ID" --config /config/server.properties --ignore-formatted
fi
`;
}

export function kafkaBrokers(env: Environment) {
  checkBrokerCount(env);
  const cfg = env.kafka;
  const image = env.common.images.kafka;
  const properties = kafkaServerProperties(env);
  // The controller port opens as soon as the process runs, before the quorum has formed: a probe
  // on it keeps readiness independent of the other brokers (they start in parallel).
  const controllerPort = "controller";
  return statefulSet(env, {
    name: kafkaNames.statefulSet,
    namespace: env.common.namespaces.broker,
    role: role(podRoles.kafka, kafkaNames.statefulSet, image),
    serviceName: kafkaNames.headless,
    replicas: cfg.brokers,
    parallel: true,
    uid,
    storage: cfg.storage,
    podAnnotations: { "checksum/config": contentHash(properties) },
    pod: {
      initContainers: [
        container({
          name: "kafka-init-config",
          image,
          command: ["sh", "-c", initConfigScript(env)],
          env: [podFieldEnv("POD_NAME", "metadata.name"), plainEnv("CLUSTER_ID", cfg.clusterId)],
          resources: resources(cfg.resources),
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
          env: [plainEnv("KAFKA_OPTS", `-Djava.security.auth.login.config=${jaasDir}/${kafkaNames.jaasSecret.key}`)],
          ports: [
            { containerPort: ports.kafkaInternal, name: "internal" },
            { containerPort: ports.kafkaClient, name: "client" },
            { containerPort: ports.kafkaController, name: controllerPort },
          ],
          resources: resources(cfg.resources),
          startupProbe: tcpProbe(controllerPort, { initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 }),
          readinessProbe: tcpProbe(controllerPort, readinessTiming),
          livenessProbe: tcpProbe(controllerPort, livenessTiming),
          volumeMounts: [
            { name: dataVolume, mountPath: dataDir },
            { name: "config", mountPath: "/config" },
            { name: "jaas", mountPath: jaasDir, readOnly: true },
            { name: "logs", mountPath: "/opt/kafka/logs" },
          ],
        }),
      ],
      volumes: [
        { name: "config", emptyDir: { sizeLimit: "8Mi" } },
        { name: "template", configMap: { name: kafkaNames.config } },
        {
          name: "jaas",
          secret: {
            secretName: kafkaNames.jaasSecret.name,
            items: [{ key: kafkaNames.jaasSecret.key, path: kafkaNames.jaasSecret.key }],
          },
        },
        { name: "logs", emptyDir: { sizeLimit: "1Gi" } },
      ],
    },
  });
}

function kafkaServices(env: Environment) {
  const namespace = env.common.namespaces.broker;
  const brokers = role(podRoles.kafka, kafkaNames.statefulSet, env.common.images.kafka);
  const internal = { name: "internal", port: ports.kafkaInternal, targetPort: "internal" };
  const client = { name: "client", port: ports.kafkaClient, targetPort: "client" };
  const controller = { name: "controller", port: ports.kafkaController, targetPort: "controller" };
  return [
    // Without publishNotReadyAddresses the brokers could not resolve each other before they are
    // ready, and they only become useful once they have.
    service(env, {
      name: kafkaNames.headless,
      namespace,
      role: brokers,
      ports: [internal, client, controller],
      headless: true,
      publishNotReadyAddresses: true,
    }),
    service(env, { name: kafkaNames.service, namespace, role: brokers, ports: [internal, client] }),
  ];
}

/**
 * Creates (or updates: `--add-config` is an upsert) the SCRAM user of the backend services, over
 * the INTERNAL listener, which needs no SASL itself.
 */
export function kafkaScramInitJob(env: Environment) {
  const bootstrap = kafkaBrokerAddresses(env, ports.kafkaInternal).join(",");
  const user = env.kafka.clientUser;
  const script = `set -eu
bootstrap="${bootstrap}"
${waitUntil(`${kafkaBin}/kafka-broker-api-versions.sh --bootstrap-server "$bootstrap" > /dev/null 2>&1`, {
  // Each try starts a JVM (a few seconds): 80 tries stay inside the Job's activeDeadlineSeconds.
  attempts: 80,
  seconds: 5,
  failure: '"brokers not reachable at $bootstrap"',
})}
${kafkaBin}/kafka-configs.sh --bootstrap-server "$bootstrap" --alter \\
  --add-config "SCRAM-SHA-512=[iterations=${env.kafka.scramIterations},password=$KAFKA_SASL_PASSWORD]" \\
  --entity-type users --entity-name ${user}
${kafkaBin}/kafka-configs.sh --bootstrap-server "$bootstrap" --describe --entity-type users --entity-name ${user}
`;
  return initJob(env, {
    name: kafkaNames.scramInitJob,
    namespace: env.common.namespaces.broker,
    role: role(podRoles.kafkaScramInit, kafkaNames.scramInitJob, env.common.images.kafka),
    uid,
    container: {
      name: "scram-init",
      image: env.common.images.kafka,
      command: ["sh", "-c", script],
      env: [secretEnv("KAFKA_SASL_PASSWORD", kafkaNames.clientSecret)],
    },
  });
}

/** Kafka in KRaft mode: combined broker+controller nodes, their Services and the SCRAM user Job. */
export function kafka(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.broker;
  const brokers = role(podRoles.kafka, kafkaNames.statefulSet, env.common.images.kafka);
  return [
    configMap(env, { name: kafkaNames.config, namespace, role: brokers, data: { "server.properties": kafkaServerProperties(env) } }),
    ...kafkaServices(env),
    kafkaBrokers(env),
    kafkaScramInitJob(env),
  ];
}
