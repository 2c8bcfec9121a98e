import { describe, expect, it } from "vitest";
import { debezium, debeziumConnect, debeziumConnectorConfig, debeziumInitJob } from "../generator/components/debezium.ts";
import { staging } from "../generator/config/staging.ts";
import { plain } from "./support/config.ts";

const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("Debezium (Kafka Connect)", () => {

  it("streams the primary (not PgBouncer) through pgoutput into the document's schemas", () => {
    const config = debeziumConnectorConfig(staging);
    expect(config).toMatchObject({
      "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
      "database.hostname": "nx-postgresql-primary.nx-persistent.svc.cluster.local",
      "database.port": "5432",
      "database.dbname": "nx_seller_core",
      "plugin.name": "pgoutput",
      "schema.include.list": "public,pricing,allocation,inventory,finance,payment,sale",
    });
  });

  it("keeps the PostgreSQL password out of the connector config", () => {
    const config = debeziumConnectorConfig(staging);
    expect(config["database.password"]).toBe("${env:DEBEZIUM_POSTGRES_PASSWORD}");
    const env = envOf(plain<any>(debeziumConnect(staging)).spec.template.spec.containers[0]);
    expect(env.DEBEZIUM_POSTGRES_PASSWORD).toEqual({ secretKeyRef: { name: "nx-postgresql-debezium-secret", key: "password" } });
    expect(env.CONNECT_CONFIG_PROVIDERS_ENV_CLASS).toBe("org.apache.kafka.common.config.provider.EnvVarConfigProvider");
  });

  it("authenticates to Kafka with SCRAM-SHA-512 on the CLIENT listener for the worker, producers and consumers", () => {
    const env = envOf(plain<any>(debeziumConnect(staging)).spec.template.spec.containers[0]);
    expect(env.BOOTSTRAP_SERVERS).toBe(
      [0, 1, 2].map((i) => `nx-kafka-${i}.nx-kafka-headless.nx-broker.svc.cluster.local:9092`).join(","),
    );
    for (const prefix of ["", "PRODUCER_", "CONSUMER_"]) {
      expect(env[`CONNECT_${prefix}SECURITY_PROTOCOL`]).toBe("SASL_PLAINTEXT");
      expect(env[`CONNECT_${prefix}SASL_MECHANISM`]).toBe("SCRAM-SHA-512");
      expect(env[`CONNECT_${prefix}SASL_JAAS_CONFIG`]).toContain('username="nx.staging" password="$(KAFKA_SASL_PASSWORD)"');
    }
  });

  it("registers the connector with an idempotent PUT and retries 409 and 5xx", () => {
    const script: string = plain<any>(debeziumInitJob(staging)).spec.template.spec.containers[0].command[2];
    expect(script).toContain("-X PUT");
    expect(script).toContain("http://nx-debezium.nx-search.svc.cluster.local:8083/connectors/nx-postgresql-source/config");
    expect(script).toContain("000|409|5??) ;;");
  });
});
