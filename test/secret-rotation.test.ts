// Rotating a credential: raising one Secret's revision in `secretRevisions` restarts exactly the
// pods that read it at start and runs again exactly the Jobs that apply it, and nothing else.
import { describe, expect, it } from "vitest";
import { renderEnvironment } from "../generator/components/render.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { plain } from "./support/config.ts";

/** `Kind namespace/name` of every pod-owning object, a Job without its content hash. */
function podTemplates(env: Environment): Map<string, unknown> {
  const templates = new Map<string, unknown>();
  for (const { object } of renderEnvironment(env).objects) {
    const o = plain<any>(object);
    if (!o.spec?.template) continue;
    const name = o.kind === "Job" ? o.metadata.name.replace(/-[0-9a-f]{8}$/, "") : o.metadata.name;
    templates.set(`${o.kind} ${o.metadata.namespace}/${name}`, o.spec.template);
  }
  return templates;
}

const before = podTemplates(staging);

function changedBy(secret: string): string[] {
  const after = podTemplates({ ...staging, secretRevisions: { [secret]: 1 } });
  return [...after].filter(([id, template]) => JSON.stringify(template) !== JSON.stringify(before.get(id))).map(([id]) => id).sort();
}

describe("Raising one Secret's revision", () => {
  it.each([
    ["nx-postgresql-superuser-secret", ["Job nx-persistent/nx-postgresql-setup"]],
    ["nx-postgresql-app-secret", ["Deployment nx-persistent/nx-pgbouncer", "Job nx-persistent/nx-postgresql-setup"]],
    ["nx-postgresql-replication-secret", ["Job nx-persistent/nx-postgresql-setup", "StatefulSet nx-persistent/nx-postgresql-replica"]],
    ["nx-postgresql-debezium-secret", ["Deployment nx-search/nx-debezium", "Job nx-persistent/nx-postgresql-setup"]],
    ["nx-pgbouncer-admin-secret", ["Deployment nx-persistent/nx-pgbouncer"]],
    ["nx-redis-secret", ["Job nx-broker/nx-redis-cluster-init", "StatefulSet nx-broker/nx-redis"]],
    ["nx-kafka-client-secret", ["Deployment nx-search/nx-debezium", "Job nx-broker/nx-kafka-scram-init"]],
    ["nx-typesense-secret", ["StatefulSet nx-search/nx-typesense"]],
  ])("%s restarts or re-runs only what reads it", (secret, expected) => {
    expect(changedBy(secret)).toEqual(expected);
  });

  it("never restarts the PostgreSQL primary or the Kafka brokers", () => {
    const rotatedEverything = podTemplates({
      ...staging,
      secretRevisions: Object.fromEntries(
        ["superuser", "app", "replication", "debezium"].map((user) => [`nx-postgresql-${user}-secret`, 3]),
      ),
    });
    for (const id of ["StatefulSet nx-persistent/nx-postgresql-primary", "StatefulSet nx-broker/nx-kafka"]) {
      expect(rotatedEverything.get(id)).toEqual(before.get(id));
    }
  });

  it("gives a Job a new name, so Argo CD runs it again", () => {
    const jobName = (env: Environment) =>
      renderEnvironment(env)
        .objects.map(({ object }) => object.metadata?.name ?? "")
        .find((name) => name.startsWith("nx-kafka-scram-init-"));
    expect(jobName({ ...staging, secretRevisions: { "nx-kafka-client-secret": 1 } })).not.toBe(jobName(staging));
  });
});

describe("Bad revisions are refused, naming the field", () => {
  it("a Secret that no pod restarts for (the Kafka JAAS file holds no password)", () => {
    expect(() => renderEnvironment({ ...staging, secretRevisions: { "nx-kafka-jaas": 1 } })).toThrowError(
      /staging \/ \(config\) \/ \(config\) \/ secretRevisions\.nx-kafka-jaas: no pod restarts on a rotation of Secret nx-kafka-jaas/,
    );
  });

  it("a revision that is not a whole number of 0 or more", () => {
    expect(() => renderEnvironment({ ...staging, secretRevisions: { "nx-redis-secret": -1 } })).toThrowError(
      /secretRevisions\.nx-redis-secret: revision -1 is not a whole number of 0 or more/,
    );
  });
});
