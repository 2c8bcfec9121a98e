// What other components see of PostgreSQL and PgBouncer (components/contracts.ts), checked for both
// implementations against what each environment renders: the host leads to a Service that exists
// (the layer's own, or the one CloudNativePG makes for the named Cluster or Pooler), the pod
// selectors select exactly the pods they name, and every Secret the objects read is declared, with
// the keys and type its reader requires.
import { describe, expect, it } from "vitest";
import type { PgBouncerContract, PostgresContract } from "../generator/components/contracts.ts";
import { pgbouncer, pgbouncerContract } from "../generator/components/pgbouncer/index.ts";
import { postgres, postgresContract } from "../generator/components/postgres/index.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { operatorPodsOf } from "../generator/lib/operator-pods.ts";
import { selectsPod } from "../generator/lib/reachability.ts";
import { serviceHost } from "../generator/lib/topology.ts";
import { plain } from "./support/config.ts";

interface Pod {
  readonly what: string;
  readonly labels: Record<string, string>;
  readonly ports: { containerPort: number }[];
}

function rendered(env: Environment) {
  const objects = [...postgres(env), ...pgbouncer(env)].map((o) => plain<any>(o));
  const pods: Pod[] = objects.flatMap((o): Pod[] => {
    if (o.spec?.template?.spec?.containers) {
      const ports = o.spec.template.spec.containers.flatMap((c: { ports?: unknown[] }) => c.ports ?? []);
      return [{ what: `${o.kind} ${o.metadata.name}`, labels: o.spec.template.metadata.labels, ports }];
    }
    return operatorPodsOf(o).map((p) => ({ what: `${o.kind} ${o.metadata.name} ${p.role}`, labels: { ...p.labels }, ports: [...p.ports] }));
  });
  return { objects, pods };
}

/** The Services whose host a contract may name: the rendered ones, and those CloudNativePG makes. */
function serviceHosts(env: Environment, objects: any[]): Map<string, Record<string, string>> {
  const host = (name: string) => serviceHost(name, env.common.namespaces.persistent, env.common.clusterDomain);
  const services = new Map<string, Record<string, string>>();
  for (const o of objects) {
    if (o.kind === "Service") services.set(host(o.metadata.name), o.spec.selector);
    // CloudNativePG: <cluster>-rw selects the primary (pkg/specs/services.go); a Pooler's Service is
    // named like it and selects its pods (pkg/specs/pgbouncer/services.go).
    if (o.kind === "Cluster") services.set(host(`${o.metadata.name}-rw`), { "cnpg.io/cluster": o.metadata.name, "cnpg.io/instanceRole": "primary" });
    if (o.kind === "Pooler") services.set(host(o.metadata.name), { "cnpg.io/poolerName": o.metadata.name });
  }
  return services;
}

/** Every Secret name and key an object reads: env and volumes of pod templates, and CloudNativePG's references. */
function secretKeysRead(objects: any[]): string[] {
  const keys: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== "object") return;
    const v = value as Record<string, any>;
    if (v.secretKeyRef) keys.push(`${v.secretKeyRef.name}/${v.secretKeyRef.key}`);
    // A Cluster's passwordSecret and initdb.secret: a basic-auth Secret, both keys read.
    if (v.passwordSecret) keys.push(`${v.passwordSecret.name}/username`, `${v.passwordSecret.name}/password`);
    if (v.initdb?.secret) keys.push(`${v.initdb.secret.name}/username`, `${v.initdb.secret.name}/password`);
    // An ObjectStore's S3 credentials.
    for (const ref of Object.values(v.s3Credentials ?? {}) as { name: string; key: string }[]) keys.push(`${ref.name}/${ref.key}`);
    Object.values(v).forEach(walk);
  };
  walk(objects);
  return [...new Set(keys)].sort();
}

describe.each([
  ["staging (StatefulSets, PgBouncer Deployment)", staging],
  ["production (CloudNativePG Cluster and Pooler)", production],
])("the PostgreSQL and PgBouncer contracts of %s", (_, env) => {
  const { objects, pods } = rendered(env);
  const pg: PostgresContract = postgresContract(env);
  const bouncer: PgBouncerContract = pgbouncerContract(env);
  const services = serviceHosts(env, objects);
  const selected = (selector: Parameters<typeof selectsPod>[0]) => pods.filter((p) => selectsPod(selector, p.labels)).map((p) => p.what);

  it("name a host whose Service leads to the primary, and to the pooler", () => {
    const primaries = selected(pg.pods.primary);
    expect(primaries).toHaveLength(1);
    expect(selected({ matchLabels: services.get(pg.host) ?? { none: "" } })).toEqual(primaries);
    expect(selected({ matchLabels: services.get(bouncer.host) ?? { none: "" } })).toEqual(selected(bouncer.pods));
    expect(bouncer.host).toBe(serviceHost("nx-pgbouncer", "nx-persistent", "cluster.local"));
  });

  it("select every PostgreSQL server with servers, and the pooler's pods with its selector, nothing else", () => {
    const servers = selected(pg.pods.servers);
    expect(servers.length).toBeGreaterThanOrEqual(2);
    expect(servers).toContain(selected(pg.pods.primary)[0]);
    expect(selected(bouncer.pods).length).toBeGreaterThan(0);
    expect(selected(bouncer.pods).some((p) => servers.includes(p))).toBe(false);
  });

  it("name ports the pods declare: 5432 on PostgreSQL, the pooler's own behind Service port 5432", () => {
    expect(pg.port).toBe(5432);
    expect(bouncer.port).toBe(5432);
    for (const pod of pods.filter((p) => selected(pg.pods.servers).includes(p.what))) expect(pod.ports.map((p) => p.containerPort)).toContain(pg.port);
    for (const pod of pods.filter((p) => selected(bouncer.pods).includes(p.what))) expect(pod.ports.map((p) => p.containerPort)).toContain(bouncer.podPort);
  });

  it("declare every Secret key their objects read, in their namespace", () => {
    const declared = [...pg.secrets, ...bouncer.secrets].map((s) => `${s.name}/${s.key}`);
    expect(secretKeysRead(objects).filter((k) => !declared.includes(k))).toEqual([]);
    expect(pg.namespace).toBe(env.common.namespaces.persistent);
    expect(pg.secrets).toContainEqual(pg.app.password);
    expect(pg.secrets).toContainEqual(pg.debezium.password);
  });

  it("offer a database for every schema", () => {
    expect(Object.keys(bouncer.databases).sort()).toEqual([...env.postgres.schemas].sort());
  });
});

describe("what differs between the two", () => {
  it("CloudNativePG's logins are basic-auth Secrets of username and password, reloaded at once", () => {
    const logins = postgresContract(production).secrets.filter((s) => s.name === "nx-postgresql-app" || s.name === "nx-postgresql-debezium");
    expect(logins.map((s) => `${s.name}/${s.key}`).sort()).toEqual([
      "nx-postgresql-app/password", "nx-postgresql-app/username", "nx-postgresql-debezium/password", "nx-postgresql-debezium/username",
    ]);
    expect(logins.every((s) => s.type === "kubernetes.io/basic-auth" && s.labels?.["cnpg.io/reload"] === "true")).toBe(true);
  });

  it("the Pooler offers one database for every schema; the Deployment one per schema", () => {
    expect(new Set(Object.values(pgbouncerContract(production).databases))).toEqual(new Set(["nx_seller_core"]));
    expect(pgbouncerContract(staging).databases.pricing).toBe("nx_seller_core_pricing");
  });

  it("the CloudNativePG contract names its Cluster (what a Pooler attaches to); the StatefulSets' names none", () => {
    expect(postgresContract(production).cluster).toBe("nx-postgresql");
    expect(postgresContract(staging).cluster).toBeUndefined();
  });
});
