import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { kafkaBrokers, kafkaScramInitJob, kafkaServerProperties, statefulSetsKafka as kafka, statefulSetsOf } from "../generator/components/kafka/statefulsets.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { plain, problems, stagingWith } from "./support/config.ts";

const properties = (env = staging) => kafkaServerProperties(env).trimEnd().split("\n");
const initContainer = (env: Environment) => plain<any>(kafkaBrokers(env)).spec.template.spec.initContainers[0];
const initEnv = (env: Environment, name: string) => initContainer(env).env.find((e: { name: string }) => e.name === name)?.value;

describe("Kafka (KRaft, SASL/SCRAM)", () => {

  it("runs every node as broker and controller of one static quorum, which the init container writes from an env var", () => {
    expect(properties()).toContain("process.roles=broker,controller");
    expect(initEnv(staging, "CONTROLLER_QUORUM_VOTERS")).toBe(
      "0@nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:9093," +
        "1@nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:9093," +
        "2@nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9093",
    );
    expect(initContainer(staging).command[2]).toContain('echo "controller.quorum.voters=$CONTROLLER_QUORUM_VOTERS"');
  });

  it("has the three listeners, SCRAM-SHA-512 only on CLIENT", () => {
    expect(properties()).toContain("listeners=INTERNAL://:29092,CLIENT://:9092,CONTROLLER://:9093");
    expect(properties()).toContain("listener.security.protocol.map=INTERNAL:PLAINTEXT,CLIENT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
    expect(properties()).toContain("inter.broker.listener.name=INTERNAL");
    expect(properties()).toContain("listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512");
  });

  it("writes every configured broker setting into server.properties", () => {
    for (const [key, value] of staging.kafka.serverProperties) expect(properties()).toContain(`${key}=${value}`);
  });

  it("hands the declared initial cluster state to the init container's format decision, the script the same", () => {
    const fresh = stagingWith({ kafka: { cluster: { initialClusterState: "new" } } });
    expect(initEnv(staging, "INITIAL_CLUSTER_STATE")).toBe("existing");
    expect(initEnv(fresh, "INITIAL_CLUSTER_STATE")).toBe("new");
    expect(initContainer(fresh).command).toEqual(initContainer(staging).command);
    expect(initContainer(staging).command[2]).toContain('[ "$INITIAL_CLUSTER_STATE" = new ]');
    expect(initEnv(staging, "CLUSTER_ID")).toBe(statefulSetsOf(staging).clusterId);
  });

  it("is ready, and started, only once a broker listener serves; liveness watches the controller port", () => {
    const broker = plain<any>(kafkaBrokers(staging));
    const c = broker.spec.template.spec.containers[0];
    // BrokerServer opens the broker listeners only after catch-up and unfencing.
    expect(c.readinessProbe.tcpSocket.port).toBe("client");
    expect(c.startupProbe.tcpSocket.port).toBe("client");
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(30 * 60);
    expect(c.livenessProbe.tcpSocket.port).toBe("controller");
    expect(c.ports.find((p: { name: string }) => p.name === "client").containerPort).toBe(9092);
    // Every node starts without waiting for the others to be ready, and finds them in DNS.
    expect(broker.spec.podManagementPolicy).toBe("Parallel");
    const headless = kafka(staging).map((o) => plain<any>(o)).find((o) => o.kind === "Service" && o.metadata.name === "nx-kafka-headless");
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
  });

  it("lets a drain take at most one broker, and spreads the brokers over nodes", () => {
    const objects = kafka(staging).map((o) => plain<any>(o));
    const broker = objects.find((o) => o.kind === "StatefulSet");
    const budget = objects.find((o) => o.kind === "PodDisruptionBudget");
    expect(budget.metadata).toMatchObject({ name: "nx-kafka", namespace: "nx-broker" });
    expect(budget.spec).toEqual({ maxUnavailable: 1, selector: broker.spec.selector });
    const spread = broker.spec.template.spec.topologySpreadConstraints;
    expect(spread).toContainEqual(expect.objectContaining({ topologyKey: "kubernetes.io/hostname", maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" }));
    for (const constraint of spread) expect(constraint.labelSelector).toEqual(broker.spec.selector);
  });

  it("writes its logs to stdout only: GC logging and log4j write no file into the logs folder", () => {
    const objects = kafka(staging).map((o) => plain<any>(o));
    const pod = objects.find((o) => o.kind === "StatefulSet").spec.template.spec;
    const c = pod.containers[0];
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    // kafka-run-class.sh turns -loggc (kafka-server-start.sh's default) into ten 100 MB files only
    // when KAFKA_GC_LOG_OPTS is empty.
    expect(env.KAFKA_GC_LOG_OPTS).toBe("-Xlog:gc:stdout:time,level,tags");
    expect(env.KAFKA_GC_LOG_OPTS).not.toContain("file=");
    // The log4j 2 configuration is the layer's own, mounted from the ConfigMap, with console appenders only.
    const [, path] = /^-Dlog4j2\.configurationFile=(\S+)$/.exec(env.KAFKA_LOG4J_OPTS) ?? [];
    const mount = c.volumeMounts.find((m: { mountPath: string }) => path?.startsWith(`${m.mountPath}/`));
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount?.name);
    const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === volume?.configMap?.name);
    const log4j = parse(configMap.data[path!.slice(mount.mountPath.length + 1)]).Configuration;
    expect(Object.keys(log4j.Appenders)).toEqual(["Console"]);
    expect(log4j.Appenders.Console).toMatchObject({ name: "STDOUT", target: "SYSTEM_OUT" });
    expect(log4j.Loggers.Root.AppenderRef).toEqual({ ref: "STDOUT" });
    for (const logger of log4j.Loggers.Logger) expect(logger.AppenderRef).toBeUndefined();
  });

  it("sizes every Kafka JVM's heap from its container's memory limit", () => {
    const heap = (env: Environment) => {
      const pod = plain<any>(kafkaBrokers(env)).spec.template.spec;
      const job = plain<any>(kafkaScramInitJob(env)).spec.template.spec;
      const of = (c: { env: { name: string; value?: string }[] }) => c.env.find((e) => e.name === "KAFKA_HEAP_OPTS")?.value;
      return { broker: of(pod.containers[0]), init: of(pod.initContainers[0]), job: of(job.containers[0]), initLimits: pod.initContainers[0].resources.limits };
    };
    expect(heap(staging)).toEqual({
      broker: "-Xms1024m -Xmx1024m",
      init: "-Xms256m -Xmx256m",
      job: "-Xms256m -Xmx256m",
      initLimits: staging.common.jobs.resources.limits,
    });
    const bigger = stagingWith({ kafka: { cluster: { resources: { limits: { memory: "3Gi" } } } }, common: { jobs: { resources: { limits: { memory: "384Mi" } } } } });
    expect(heap(bigger)).toMatchObject({ broker: "-Xms1536m -Xmx1536m", init: "-Xms192m -Xmx192m", job: "-Xms192m -Xmx192m" });
  });


  it("grows the quorum with the number of brokers, the script and the shared server.properties the same", () => {
    const env = stagingWith({ kafka: { cluster: { brokers: 5 } } });
    expect(plain<any>(kafkaBrokers(env)).spec.replicas).toBe(5);
    expect(initEnv(env, "CONTROLLER_QUORUM_VOTERS").split(",")).toHaveLength(5);
    expect(initContainer(env).command).toEqual(initContainer(staging).command);
    expect(kafkaServerProperties(env)).toBe(kafkaServerProperties(staging));
  });

  it("upserts the SCRAM user of the backend over the INTERNAL listener, the environment's values from env vars", () => {
    const container = (env: Environment) => plain<any>(kafkaScramInitJob(env)).spec.template.spec.containers[0];
    const env = (e: Environment) => Object.fromEntries(container(e).env.map((v: { name: string; value?: string }) => [v.name, v.value]));
    expect(env(staging)).toMatchObject({
      BOOTSTRAP_SERVERS:
        "nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:29092,nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:29092,nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:29092",
      KAFKA_CLIENT_USER: "nx.staging",
      SCRAM_ITERATIONS: "8192",
    });
    const script: string = container(staging).command[2];
    expect(script).toContain('--add-config "SCRAM-SHA-512=[iterations=$SCRAM_ITERATIONS,password=$KAFKA_SASL_PASSWORD]"');
    expect(script).toContain('--entity-type users --entity-name "$KAFKA_CLIENT_USER"');
    const other = stagingWith({ kafka: { clientUser: "nx.other", cluster: { brokers: 5, scramIterations: 10000 } } });
    expect(container(other).command).toEqual(container(staging).command);
  });

  it("rolls the brokers when server.properties changes", () => {
    const checksum = (env = staging) => plain<any>(kafkaBrokers(env)).spec.template.metadata.annotations["checksum/config"];
    const env = stagingWith({ kafka: { serverProperties: [...staging.kafka.serverProperties, ["num.network.threads", "5"]] } });
    expect(checksum(env)).not.toBe(checksum());
  });
});

describe("Bad Kafka config is rejected with its location", () => {

  it("a broker heap that leaves the JVM and the page cache no room", () => {
    expect(problems(stagingWith({ kafka: { cluster: { heapFraction: 0.9 } } }))).toEqual([
      "staging / kafka / StatefulSet nx-broker/nx-kafka / kafka.cluster.heapFraction: is 0.9; the heap must be more than 0 and at most 0.75 of the 2Gi memory limit, leaving the rest to the JVM itself and the page cache",
    ]);
  });

  it("a tools heap of nothing, or one the memory limit cannot size", () => {
    expect(problems(stagingWith({ kafka: { cluster: { toolsHeapFraction: 0 } } }))).toEqual([
      "staging / kafka / StatefulSet nx-broker/nx-kafka / kafka.cluster.toolsHeapFraction: is 0; the heap must be more than 0 and at most 0.75 of the 512Mi memory limit, leaving the rest to the JVM itself and the page cache",
    ]);
    const [problem] = problems(stagingWith({ kafka: { cluster: { resources: { limits: { memory: "2e9" } } } } }));
    expect(problem).toBe(
      "staging / kafka / StatefulSet nx-broker/nx-kafka / kafka.cluster.resources.limits.memory: cannot size a JVM heap from 2e9 (use Ki, Mi, Gi, Ti, k, M or G)",
    );
  });
});
