import { describe, expect, it } from "vitest";
import { kafka, kafkaBrokers, kafkaScramInitJob, kafkaServerProperties } from "../generator/components/kafka.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, stagingWith } from "./support/config.ts";

const properties = (env = staging) => kafkaServerProperties(env).trimEnd().split("\n");

describe("Kafka (KRaft, SASL/SCRAM)", () => {
  it("renders the staging defaults", () => {
    expect(kafka(staging).map((o) => plain(o))).toMatchSnapshot();
  });

  it("runs every node as broker and controller of one static quorum", () => {
    expect(properties()).toContain("process.roles=broker,controller");
    expect(properties()).toContain(
      "controller.quorum.voters=0@nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:9093," +
        "1@nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:9093," +
        "2@nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9093",
    );
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

  it("derives node.id and advertised listeners from the pod, formats storage only once", () => {
    const init = plain<any>(kafkaBrokers(staging)).spec.template.spec.initContainers[0];
    const script: string = init.command[2];
    expect(script).toContain('echo "node.id=${POD_NAME##*-}"');
    expect(script).toContain('advertised.listeners=INTERNAL://$host:29092,CLIENT://$host:9092');
    expect(script).toContain("rmdir /var/lib/kafka/data/lost+found");
    expect(script).toMatch(/if \[ ! -f \/var\/lib\/kafka\/data\/meta.properties \]; then\n\s+\/opt\/kafka\/bin\/kafka-storage.sh format --cluster-id "\$CLUSTER_ID"/);
    expect(init.env).toContainEqual({ name: "CLUSTER_ID", value: staging.kafka.clusterId });
  });

  it("is ready once its controller port listens, before the quorum forms", () => {
    const broker = plain<any>(kafkaBrokers(staging));
    expect(broker.spec.podManagementPolicy).toBe("Parallel");
    expect(broker.spec.template.spec.containers[0].readinessProbe.tcpSocket.port).toBe("controller");
  });

  it("grows the quorum with the number of brokers", () => {
    const env = stagingWith({ kafka: { brokers: 5 } });
    expect(plain<any>(kafkaBrokers(env)).spec.replicas).toBe(5);
    expect(properties(env).find((l) => l.startsWith("controller.quorum.voters="))?.split(",")).toHaveLength(5);
  });

  it("upserts the SCRAM user of the backend over the INTERNAL listener", () => {
    const script: string = plain<any>(kafkaScramInitJob(staging)).spec.template.spec.containers[0].command[2];
    expect(script).toContain(
      'bootstrap="nx-kafka-0.nx-kafka-headless.nx-broker.svc.cluster.local:29092,nx-kafka-1.nx-kafka-headless.nx-broker.svc.cluster.local:29092,nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:29092"',
    );
    expect(script).toContain('--add-config "SCRAM-SHA-512=[iterations=8192,password=$KAFKA_SASL_PASSWORD]"');
    expect(script).toContain("--entity-type users --entity-name nx.staging");
  });

  it("rolls the brokers when server.properties changes", () => {
    const checksum = (env = staging) => plain<any>(kafkaBrokers(env)).spec.template.metadata.annotations["checksum/config"];
    const env = stagingWith({ kafka: { serverProperties: [...staging.kafka.serverProperties, ["num.network.threads", "5"]] } });
    expect(checksum(env)).not.toBe(checksum());
  });
});
