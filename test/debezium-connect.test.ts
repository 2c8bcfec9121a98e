// The Kafka Connect worker as it runs: its heap inside its memory limit, its REST API reachable by
// the registration Job alone, its env config provider resolving only the connector's password, and
// a restart when a password it read at start is rotated.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { debeziumConnect, debeziumConnectorConfig } from "../generator/components/debezium.ts";
import { renderEnvironment } from "../generator/components/render.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { memoryMiB } from "../generator/lib/pod.ts";
import { decide, type Endpoint, type NetworkPolicyLike } from "../generator/lib/reachability.ts";
import { plain, problems, stagingWith } from "./support/config.ts";
import { copyGeneratedTree, removeTempDirs, runCli } from "./support/repo.ts";

afterAll(removeTempDirs);

const connect = (env: Environment = staging) => plain<any>(debeziumConnect(env)).spec.template;
const container = (env?: Environment) => connect(env).spec.containers[0];
const envValues = (env?: Environment): Record<string, string | undefined> =>
  Object.fromEntries(container(env).env.map((e: any) => [e.name, e.value]));

/**
 * The worker properties the debezium/connect image writes from CONNECT_* variables
 * (connect-base/3.0/docker-entrypoint.sh: the name without CONNECT_, lower-cased, `_` -> `.`).
 */
const workerProperties = (env?: Environment): Record<string, string | undefined> =>
  Object.fromEntries(
    Object.entries(envValues(env))
      .filter(([name]) => name.startsWith("CONNECT_"))
      .map(([name, value]) => [name.slice("CONNECT_".length).toLowerCase().replaceAll("_", "."), value]),
  );

describe("Kafka Connect's heap", () => {
  const heapMiB = (options: string) => Number(/-Xmx(\d+)m/.exec(options)?.[1]);

  it("is set below the memory limit (connect-distributed.sh would start with -Xmx2G in a 2 GiB container)", () => {
    const options = envValues().KAFKA_HEAP_OPTS;
    expect(options).toBe("-Xms1024m -Xmx1024m");
    expect(heapMiB(options!)).toBeLessThan(memoryMiB(staging.debezium.resources.limits.memory)!);
  });

  it("follows the memory limit and the fraction in config", () => {
    const env = stagingWith({ debezium: { resources: { limits: { memory: "3Gi" } }, heapFraction: 0.6 } });
    expect(envValues(env).KAFKA_HEAP_OPTS).toBe("-Xms1843m -Xmx1843m");
  });

  it.each([
    [1, "is 1"],
    [0, "is 0"],
    [Number.NaN, "is NaN"],
  ])("refuses a heap fraction of %s, naming the field", (heapFraction, message) => {
    expect(problems(stagingWith({ debezium: { heapFraction } }))).toEqual([
      `staging / debezium / Deployment nx-search/nx-debezium / debezium.heapFraction: ${message}; the heap must be more than 0 and at most 0.75 of the 2Gi memory limit, leaving the rest to the JVM itself and the page cache`,
    ]);
  });

  it("refuses a memory limit it cannot size a heap from", () => {
    expect(problems(stagingWith({ debezium: { resources: { limits: { memory: "2GB" } } } }))).toEqual([
      'staging / debezium / Deployment nx-search/nx-debezium / debezium.resources.limits.memory: cannot size a JVM heap from 2GB (use Ki, Mi, Gi, Ti, k, M or G)',
    ]);
  });
});

describe("Kafka Connect's env config provider", () => {
  it("resolves exactly the variables the connector config refers to, and no other variable of the worker", () => {
    const properties = workerProperties();
    expect(properties["config.providers"]).toBe("env");
    expect(properties["config.providers.env.class"]).toBe("org.apache.kafka.common.config.provider.EnvVarConfigProvider");
    const pattern = properties["config.providers.env.param.allowlist.pattern"];
    expect(pattern).toBeDefined();
    // EnvVarConfigProvider keeps a variable when Pattern.matcher(name).matches(): the whole name.
    const allowed = new RegExp(`^(?:${pattern})$`);

    const referenced = [...JSON.stringify(debeziumConnectorConfig(staging)).matchAll(/\$\{env:([^}]+)\}/g)].map((m) => m[1]!);
    expect(referenced).toEqual(["DEBEZIUM_POSTGRES_PASSWORD"]);
    // Every variable of the container: the pod's own, the ones the image and its entrypoint set,
    // and the Service variables Kubernetes adds.
    const variables = [
      ...Object.keys(envValues()),
      "KAFKA_HOME", "KAFKA_CONNECT_PLUGINS_DIR", "KAFKA_OPTS", "CONNECT_REST_ADVERTISED_HOST_NAME", "CONNECT_BOOTSTRAP_SERVERS",
      "NX_DEBEZIUM_SERVICE_HOST", "HOSTNAME", "PATH", "HOME",
    ];
    expect(variables.filter((name) => allowed.test(name))).toEqual(referenced);
    for (const secret of ["KAFKA_SASL_PASSWORD", "CONNECT_SASL_JAAS_CONFIG", "CONNECT_PRODUCER_SASL_JAAS_CONFIG", "CONNECT_CONSUMER_SASL_JAAS_CONFIG"]) {
      expect(allowed.test(secret), secret).toBe(false);
    }
  });

  it("survives the entrypoint's rewriting of connect-distributed.properties (no '@', no properties escapes)", () => {
    expect(workerProperties()["config.providers.env.param.allowlist.pattern"]).toMatch(/^[A-Za-z0-9_|]+$/);
  });
});

describe("Kafka Connect's REST API (8083)", () => {
  const policies = renderEnvironment(staging).objects.filter(({ object }) => object.kind === "NetworkPolicy").map(({ object }) => plain<NetworkPolicyLike>(object));
  const pod = (labels: Record<string, string>, what: string): Endpoint => ({
    namespace: "nx-search",
    labels,
    what,
    ports: [{ name: "http", containerPort: 8083 }],
  });
  const worker = pod({ "app.kubernetes.io/name": "debezium", "app.kubernetes.io/component": "connect" }, "Connect worker");
  const allowed = (from: Endpoint) => decide(policies, [], from, worker, 8083).allowed;

  it("admits the registration Job and the other workers (forwarding to the leader)", () => {
    expect(allowed(pod({ "app.kubernetes.io/name": "debezium", "app.kubernetes.io/component": "connector-init" }, "registration Job"))).toBe(true);
    expect(allowed(worker)).toBe(true);
  });

  it("refuses Typesense, any other pod of nx-search, and the backend", () => {
    expect(allowed(pod({ "app.kubernetes.io/name": "typesense", "app.kubernetes.io/component": "search" }, "Typesense"))).toBe(false);
    expect(allowed(pod({}, "a debug pod"))).toBe(false);
    expect(allowed(pod({ "app.kubernetes.io/name": "debezium", "app.kubernetes.io/component": "something-else" }, "another debezium pod"))).toBe(false);
    expect(allowed({ namespace: "nx-backend", labels: {}, what: "backend" })).toBe(false);
  });

  it("fails `npm run policy` when the namespace-wide rule opens it again, as it did", () => {
    const root = copyGeneratedTree();
    const file = join(root, "base/nx-search/network-policies/allow-search-internal-networkpolicy.yaml");
    const port = "    - port: 8108\n      protocol: TCP\n";
    const text = readFileSync(file, "utf8");
    expect(text.split(port)).toHaveLength(3); // egress and ingress
    writeFileSync(file, text.replaceAll(port, `    - port: 8083\n      protocol: TCP\n${port}`));
    const run = runCli(["policy", "--root", root, "--only", "network"], { entry: "policies/cli.ts" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("network/closed-flow");
    for (const from of ["StatefulSet nx-search/nx-typesense", "any other pod in nx-search"]) {
      expect(run.stderr).toContain(`${from} -> Deployment nx-search/nx-debezium:8083/TCP is open`);
    }
    expect(run.stderr).toContain("allowed by nx-search/allow-search-internal");
  });
});
