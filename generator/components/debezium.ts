import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { contentHash } from "../lib/hash.ts";
import { role } from "../lib/labels.ts";
import { configMap, deployment, initJob, type KubeObject, podDisruptionBudget, service } from "../lib/objects.ts";
import { container, httpProbe, jvmHeapOptions, livenessTiming, plainEnv, readinessTiming, resources, secretEnv } from "../lib/pod.ts";
import { networkPolicy, podsOf } from "../lib/network.ts";
import { type PodRole, serviceHost } from "../lib/topology.ts";
import type { DebeziumContract } from "./contracts.ts";
import { kafkaContract } from "./kafka/index.ts";
import { postgresContract } from "./postgres/index.ts";

const podRoles = {
  connect: { app: "debezium", component: "connect" },
  connectorInit: { app: "debezium", component: "connector-init" },
} as const satisfies Record<string, PodRole>;

export const names = {
  deployment: "nx-debezium",
  service: "nx-debezium",
  connector: "nx-debezium-connector",
  initJob: "nx-debezium-init",
} as const;

/** Kafka Connect's REST API. */
const restPort = 8083;

const uid = 1001; // the kafka user of the debezium/connect image (quay.io, 3.6: unchanged)
const connectorDir = "/etc/debezium";
// Read by the worker through its env config provider: the password never enters the REST config.
const postgresPasswordEnv = "DEBEZIUM_POSTGRES_PASSWORD";
// The provider resolves `${env:NAME}` in any config sent to the REST API, and a validate call
// echoes the resolved values back: only the variable the connector needs may be resolved, never
// the worker's Kafka password. A Java regex matched against the whole name (EnvVarConfigProvider).
const providerAllowlist = postgresPasswordEnv;

const deploymentId = (env: Environment) => `Deployment ${env.common.namespaces.search}/${names.deployment}`;

/** Topics Connect and the connector create get the brokers' default replication. */
const topicReplication = (env: Environment) => kafkaContract(env).topicDefaults.replicationFactor;

/**
 * The PostgreSQL source connector. It reads the primary directly: logical replication cannot go
 * through PgBouncer's transaction pooling. The publication is made by the PostgreSQL setup (the
 * primary's first start and the setup Job).
 */
export function debeziumConnectorConfig(env: Environment): Record<string, string> {
  const pg = postgresContract(env);
  const cfg = env.debezium;
  return {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.dbname": pg.database,
    "database.hostname": pg.host,
    "database.password": `\${env:${postgresPasswordEnv}}`,
    "database.port": String(pg.port),
    "database.user": pg.debezium.user,
    "plugin.name": "pgoutput",
    "publication.autocreate.mode": "disabled",
    "publication.name": cfg.publicationName,
    "schema.include.list": cfg.schemas.join(","),
    "slot.name": cfg.slotName,
    // The slot is created as a failover slot where the standbys keep a copy of it (PostgreSQL 17,
    // Debezium >= 3.0.5): after a failover the connector goes on from the promoted standby.
    ...(pg.failoverSlots ? { "slot.failover": "true" } : {}),
    "tasks.max": "1",
    // Brokers do not auto-create topics: the connector creates its own.
    "topic.creation.default.partitions": kafkaContract(env).topicDefaults.partitions,
    "topic.creation.default.replication.factor": topicReplication(env),
    "topic.prefix": cfg.topicPrefix,
  };
}

// Kafka Connect reads CONNECT_* variables as worker properties; the worker, its producers and its
// consumers each authenticate with SCRAM on the CLIENT listener.
function saslEnv(env: Environment) {
  const kafka = kafkaContract(env);
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${kafka.debezium.user}" password="$(KAFKA_SASL_PASSWORD)";`;
  return ["", "PRODUCER_", "CONSUMER_"].flatMap((prefix) => [
    plainEnv(`CONNECT_${prefix}SECURITY_PROTOCOL`, "SASL_PLAINTEXT"),
    plainEnv(`CONNECT_${prefix}SASL_MECHANISM`, kafka.mechanism),
    plainEnv(`CONNECT_${prefix}SASL_JAAS_CONFIG`, jaas),
  ]);
}

function debeziumUrl(env: Environment): string {
  return `http://${serviceHost(names.service, env.common.namespaces.search, env.common.clusterDomain)}:${restPort}`;
}

/**
 * The worker's heap from its memory limit. Without KAFKA_HEAP_OPTS, connect-distributed.sh starts
 * the JVM with -Xmx2G whatever the limit: in a 2 GiB container, an OOM kill in a large snapshot.
 */
const connectHeapOptions = (env: Environment) =>
  jvmHeapOptions(deploymentId(env), ["debezium.heapFraction", env.debezium.heapFraction], ["debezium.resources.limits.memory", env.debezium.resources.limits.memory]);

export function debeziumConnect(env: Environment) {
  const cfg = env.debezium;
  const replication = topicReplication(env);
  const { connect } = kafkaContract(env);
  return deployment(env, {
    name: names.deployment,
    namespace: env.common.namespaces.search,
    role: role(podRoles.connect, names.deployment, env.common.images.debezium),
    replicas: cfg.replicas,
    // Workers take over each other's connector task: more than one, on different nodes and zones.
    spread: cfg.replicas > 1,
    uid,
    // The passwords are read from the environment at start: a rotation restarts the workers.
    followsSecretRotation: true,
    pod: {
      containers: [
        container({
          name: "debezium",
          image: env.common.images.debezium,
          ports: [{ containerPort: restPort, name: "http" }],
          env: [
            secretEnv("KAFKA_SASL_PASSWORD", kafkaContract(env).debezium.password),
            secretEnv(postgresPasswordEnv, postgresContract(env).debezium.password),
            plainEnv("BOOTSTRAP_SERVERS", kafkaContract(env).bootstrap.join(",")),
            plainEnv("GROUP_ID", connect.group),
            ...connect.topics.map((t) => plainEnv(`${t.storage.toUpperCase()}_STORAGE_TOPIC`, t.name)),
            plainEnv("CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR", replication),
            plainEnv("CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR", replication),
            plainEnv("CONNECT_STATUS_STORAGE_REPLICATION_FACTOR", replication),
            plainEnv("CONNECT_CONFIG_PROVIDERS", "env"),
            plainEnv("CONNECT_CONFIG_PROVIDERS_ENV_CLASS", "org.apache.kafka.common.config.provider.EnvVarConfigProvider"),
            plainEnv("CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN", providerAllowlist),
            plainEnv("KAFKA_HEAP_OPTS", connectHeapOptions(env)),
            ...saslEnv(env),
          ],
          resources: resources(cfg.resources),
          readinessProbe: httpProbe("/", "http", readinessTiming),
          livenessProbe: httpProbe("/", "http", livenessTiming),
        }),
      ],
    },
  });
}

function connectorJson(env: Environment): string {
  return `${JSON.stringify(debeziumConnectorConfig(env), null, 2)}\n`;
}

/**
 * The connector's config as the ConfigMap holds it: one key a property, so an environment's value
 * is the value of one key (never a rewritten JSON text); the registration Job assembles the JSON.
 * Each value must be one line of printable text, which the Job sends as a JSON string.
 */
function connectorProperties(env: Environment): Record<string, string> {
  const config = debeziumConnectorConfig(env);
  for (const [key, value] of Object.entries(config)) {
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      throw new InvalidConfig(`ConfigMap ${env.common.namespaces.search}/${names.connector}`, `data.${key}`, `${JSON.stringify(value)} holds a line break or another control character; a connector property is one line of text`);
    }
  }
  return config;
}

// One registration attempt may last as long as Connect's own REST timeout (90 s) while it validates
// the connector against PostgreSQL; curl waits a little longer so Connect's answer arrives.
const attemptSeconds = 100;
const pauseSeconds = 5;
// Time left after the last attempt, so the script prints Connect's last answer and fails on its own
// before the Job's deadline kills the pod.
const reserveSeconds = 60;

/**
 * The validation errors that mean PostgreSQL cannot be reached yet, which end on their own: Connect
 * answers 400 with Debezium's "Error while validating connector config: <the JDBC error>", or
 * "Connection validation timed out after <n> ms" when the connection attempt hangs
 * (PostgresConnector.validateConnection, 3.6.0.Final), and these are the JDBC errors (pgjdbc
 * 42.7.11, Debezium 3.6's driver) of a server that is down, unreachable or not accepting
 * connections yet. Every other validation error (a wrong password, a missing database, pg_hba) is
 * permanent.
 */
const unreachableDatabase: readonly string[] = [
  ...[
    // ConnectionFactoryImpl: the TCP connection was refused (server down, pod restarting).
    "Connection to [^ ]* refused",
    // ConnectionFactoryImpl: any other I/O error (connect timeout, no route, name not resolved).
    "The connection attempt failed",
    // SQLSTATE 57P03 (backend_startup.c): starting up, in recovery, not yet consistent, shutting down.
    "FATAL: the database system is ",
    // SQLSTATE 53300: every connection slot is taken.
    "FATAL: sorry, too many clients already",
    "FATAL: remaining connection slots are reserved",
  ].map((error) => `Error while validating connector config: ${error}`),
  "Connection validation timed out after ",
];

/**
 * Registers the connector. `PUT /connectors/<name>/config` creates or updates, so running it again
 * changes nothing. Retried until shortly before the Job's deadline: no answer, 409 (workers
 * rebalancing), 5xx (not ready) and the 400 Connect answers when the connector's validation cannot
 * reach PostgreSQL yet (unreachableDatabase). The Job cannot wait for PostgreSQL itself: only the
 * Connect workers may reach it. Any other answer fails at once, printing Connect's message.
 */
export function debeziumInitJob(env: Environment) {
  const url = `${debeziumUrl(env)}/connectors/${env.debezium.connectorName}/config`;
  const retrySeconds = env.common.jobs.activeDeadlineSeconds - attemptSeconds - reserveSeconds;
  if (retrySeconds <= 0) {
    throw new InvalidConfig(
      `Job ${env.common.namespaces.search}/${names.initJob}`,
      "common.jobs.activeDeadlineSeconds",
      `is ${env.common.jobs.activeDeadlineSeconds}; the connector registration needs more than ${attemptSeconds + reserveSeconds} s (one attempt of ${attemptSeconds} s and ${reserveSeconds} s to report)`,
    );
  }
  const script = `set -eu
# The connector's config as JSON, from the ConfigMap's keys (one a property, each value one line).
body=$(mktemp)
{
  printf '{'
  separator=""
  for property in ${connectorDir}/*; do
    value=$(sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g' "$property")
    printf '%s"%s":"%s"' "$separator" "\${property##*/}" "$value"
    separator=","
  done
  printf '}'
} > "$body"
response=$(mktemp)
refused() { cat "$response" >&2; echo "connector registration refused: HTTP $code" >&2; exit 1; }
give_up_at=$(( $(date +%s) + ${retrySeconds} ))
while :; do
  : > "$response"
  # curl prints 000 itself when it cannot connect or times out; its exit status must not end the script.
  code=$(curl -sS --max-time ${attemptSeconds} -o "$response" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \\
    --data @"$body" "${url}") || code=000
  case "$code" in
    200|201) break ;;
    000|409|5??) ;;
    400) grep -q ${unreachableDatabase.map((error) => `-e '${error}'`).join(" ")} "$response" || refused ;;
    *) refused ;;
  esac
  if [ $(( $(date +%s) + ${pauseSeconds} )) -ge "$give_up_at" ]; then
    cat "$response" >&2
    echo "connector not registered before the Job's deadline (last HTTP $code)" >&2
    exit 1
  fi
  sleep ${pauseSeconds}
done
cat "$response"
`;
  return initJob(env, {
    name: names.initJob,
    namespace: env.common.namespaces.search,
    role: role(podRoles.connectorInit, names.initJob, env.common.images.debezium),
    uid,
    container: {
      name: "register-connector",
      image: env.common.images.debezium,
      command: ["sh", "-c", script],
      volumeMounts: [{ name: "connector", mountPath: connectorDir, readOnly: true }],
    },
    volumes: [{ name: "connector", configMap: { name: names.connector } }],
    // A changed connector config makes a new Job (see initJob), which registers it again.
    podAnnotations: { "checksum/config": contentHash(connectorJson(env)) },
  });
}

/** Debezium on Kafka Connect: streams PostgreSQL changes into Kafka topics. */
export function debezium(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.search;
  const init = role(podRoles.connectorInit, names.initJob, env.common.images.debezium);
  const connect = role(podRoles.connect, names.deployment, env.common.images.debezium);
  return [
    configMap(env, {
      name: names.connector,
      namespace,
      role: init,
      data: connectorProperties(env),
    }),
    service(env, {
      name: names.service,
      namespace,
      role: connect,
      ports: [{ name: "http", port: restPort, targetPort: "http" }],
    }),
    debeziumConnect(env),
    // One worker at a time may be drained: the other runs the connector meanwhile.
    ...(env.debezium.replicas > 1 ? [podDisruptionBudget(env, { name: names.deployment, namespace, role: connect, maxUnavailable: 1 })] : []),
    debeziumInitJob(env),
    ...restPolicies(env),
  ];
}

function restPolicies(env: Environment) {
  const namespace = env.common.namespaces.search;
  const workers = { namespace, pods: podsOf(podRoles.connect) };
  return [
    networkPolicy(env, {
      // The REST API admits the registration Job, and the workers themselves: a worker forwards
      // a request it cannot serve to the group's leader.
      name: "allow-connect-rest",
      namespace,
      pods: workers.pods,
      ingress: [{ peers: [{ namespace, pods: podsOf(podRoles.connectorInit) }, workers], ports: [restPort] }],
      egress: [{ peers: [workers], ports: [restPort] }],
    }),
    networkPolicy(env, {
      name: "allow-connector-registration",
      namespace,
      pods: podsOf(podRoles.connectorInit),
      egress: [{ peers: [workers], ports: [restPort] }],
    }),
  ];
}

export function debeziumContract(env: Environment): DebeziumContract {
  return {
    namespace: env.common.namespaces.search,
    pods: podsOf(podRoles.connect),
    // Copies, in this namespace, of the Secrets of its PostgreSQL and Kafka users (one store key each).
    secrets: [postgresContract(env).debezium.password, kafkaContract(env).debezium.password],
  };
}
