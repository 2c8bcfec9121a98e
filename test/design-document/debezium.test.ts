// Design document, "Debezium › CDC Connector": the Kafka Connect Deployment and the Job that
// registers the PostgreSQL connector, checked on the rendered staging overlay. How the Job retries
// and updates is run in test/init-scripts.test.ts; its Service is in services.test.ts.
import type { IContainer } from "kubernetes-models/v1/Container";
import { describe, expect, it } from "vitest";
import { containerOf, plainEnv, podSpec, renderOverlay } from "../support/rendered.ts";
import { joinContinuations, shellScript } from "../support/text.ts";
import { debezium, environment, kafka } from "./facts.ts";

const overlay = renderOverlay(environment);

describe("Debezium › CDC Connector", () => {
  const c = () => containerOf(overlay.deployment(debezium.namespace, debezium.name), "debezium");

  it(`Deployment ${debezium.name} serves Kafka Connect on ${debezium.port}`, () => {
    expect((c().ports ?? []).map((p) => p.containerPort)).toEqual([debezium.port]);
  });

  it(`Job ${debezium.init} registers the PostgreSQL source connector with Kafka Connect at ${debezium.name}:${debezium.port}`, () => {
    const job = overlay.job(debezium.namespace, debezium.init);
    const container = podSpec(job).containers[0] as IContainer;
    const script = joinContinuations(shellScript(container));
    expect(script).toMatch(new RegExp(`curl\\b[^\\n]*-X\\s*(?:PUT|POST)\\b[^\\n]*http://${debezium.name}(?:\\.${debezium.namespace}(?:\\.svc(?:\\.cluster\\.local)?)?)?:${debezium.port}/connectors\\b`));
    // The configuration it sends: the JSON it assembles from the keys of the ConfigMap mounted there.
    expect(script).toMatch(/--data(?:-binary)? @"?\$body"?/);
    const folder = /for \w+ in (\S+)\/\*; do/.exec(script)?.[1] ?? "";
    const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === folder);
    const name = (podSpec(job).volumes ?? []).find((v) => v.name === mount?.name)?.configMap?.name;
    expect(name, `the folder ${folder} is a ConfigMap`).toBeDefined();
    expect(overlay.configMap(debezium.namespace, name as string).data).toMatchObject(debezium.connector);
  });

  it(`streams into Kafka on the CLIENT listener of every broker, as ${kafka.clientUser} with ${kafka.saslMechanism}`, () => {
    const client = kafka.listeners.find((l) => l.listener === "CLIENT");
    expect(plainEnv(c(), "BOOTSTRAP_SERVERS")?.split(",")).toEqual(kafka.brokerAddresses);
    expect(plainEnv(c(), "CONNECT_SECURITY_PROTOCOL")).toBe(client?.protocol);
    expect(plainEnv(c(), "CONNECT_SASL_MECHANISM")).toBe(kafka.saslMechanism);
    expect(plainEnv(c(), "CONNECT_SASL_JAAS_CONFIG")).toContain(`ScramLoginModule required username="${kafka.clientUser}"`);
  });
});
