// Environments are deltas over the shared defaults, and a component's kind decides how it is built.
import { describe, expect, it } from "vitest";
import { defaults } from "../generator/config/defaults.ts";
import { withDelta } from "../generator/config/delta.ts";
import { defineEnvironment } from "../generator/config/environment.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";

describe("an environment is its delta over the shared defaults", () => {
  it("keeps every default it does not name, and takes the values it names", () => {
    const env = defineEnvironment({ name: "qa", redis: { storage: "9Gi" } });
    expect(env.name).toBe("qa");
    expect(env.redis).toEqual({ ...defaults.redis, storage: "9Gi" });
    expect(env.kafka).toBe(defaults.kafka);
  });

  it("replaces a list whole: a delta's list is the list", () => {
    const env = defineEnvironment({ name: "qa", debezium: { schemas: ["sale"] } });
    expect(env.debezium.schemas).toEqual(["sale"]);
  });

  it("replaces a section whole when the delta names its kind", () => {
    expect(production.postgres.cluster.kind).toBe("cloudnative-pg");
    expect(production.postgres.cluster).not.toHaveProperty("primary");
    // What is not kind-specific stays the shared default.
    expect(production.postgres.database).toBe(defaults.postgres.database);
    expect(production.postgres.schemas).toBe(defaults.postgres.schemas);
  });

  it("refuses a setting the default's kind does not have, naming the environment and the field", () => {
    const delta = { name: "qa", postgres: { cluster: { instances: 3 } } } as never;
    expect(() => defineEnvironment(delta)).toThrow(
      "environment qa: postgres.cluster.instances: kind statefulsets has no setting instances; give the whole section with its kind to change kind",
    );
  });

  it("leaves the defaults as they were", () => {
    const before = structuredClone(defaults);
    withDelta<Omit<Environment, "name">>(defaults, { redis: { storage: "1Gi" }, postgres: { cluster: { primary: { storage: "1Gi" } } } });
    expect(defaults).toEqual(before);
  });
});

describe("the environment files say only what differs", () => {
  // Each top-level section an environment file sets, read back from the merged environment.
  const changed = (env: Environment) =>
    Object.keys(env).filter((key) => key !== "name" && env[key as keyof Environment] !== defaults[key as keyof typeof defaults]);

  it("staging is the design document's staging: only its own Kafka cluster differs", () => {
    expect(changed(staging)).toEqual(["kafka"]);
    expect(staging.kafka).toEqual({
      ...defaults.kafka,
      clientUser: "nx.staging",
      cluster: { ...defaults.kafka.cluster, clusterId: "bngtc3RhZ2luZy1rYWZrYQ", initialClusterState: "existing" },
    });
  });

  it("production differs in how PostgreSQL, PgBouncer, Kafka and the Secrets are run, and syncs by hand", () => {
    expect(production.sync).toBe("manual");
    expect(production.secrets.kind).toBe("external-secrets");
    expect(production.pgbouncer.pooler.kind).toBe("cloudnative-pg");
    expect(production.kafka.cluster.kind).toBe("strimzi");
    expect(changed(production)).toEqual(expect.arrayContaining(["sync", "secrets", "postgres", "pgbouncer", "kafka"]));
  });
});

describe("a kind no implementation has", () => {
  it("is reported once, at the field, and nothing is built", async () => {
    const { problems } = await import("./support/config.ts");
    const env = { ...staging, postgres: { ...staging.postgres, cluster: { kind: "cnpg" } } } as unknown as Environment;
    expect(problems(env)).toEqual(['staging / postgres / (config) / postgres.cluster.kind: "cnpg" is not one of statefulsets, cloudnative-pg']);
  });
});
