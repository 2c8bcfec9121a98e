// Design document, "PostgreSQL": the primary and replica StatefulSets, PgBouncer, Users & Secrets
// and Database Schemas, checked on the rendered staging overlay. What the scripts do when run
// (first start, restarts, a promoted replica, pg_hba.conf refusing the admin console user,
// PgBouncer refusing the superuser) is proven on real servers by test/postgres-real.test.ts,
// test/postgres-replica-real.test.ts and test/pgbouncer-real.test.ts.
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IContainer } from "kubernetes-models/v1/Container";
import { describe, expect, it } from "vitest";
import { secretReferences } from "../../generator/lib/secret-references.ts";
import { containerOf, initContainerOf, podSpec, renderOverlay, secretEnv } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { expandShell, joinContinuations, parseIni, postgresSettings, shellScript } from "../support/text.ts";
import { environment, pgbouncer, postgres, runsAs, serviceDns } from "./facts.ts";

const overlay = renderOverlay(environment);
const { namespace, users, database } = postgres;
const settingsOf = (c: IContainer, documented: readonly (readonly [string, string])[]) => {
  const names = new Set(documented.map(([k]) => k));
  const all = postgresSettings(c);
  return { documented: all.filter(([k]) => names.has(k)), added: all.filter(([k]) => !names.has(k)) };
};

/** What init-primary runs: its script, then each SQL file it hands psql (`-f <path>`), read from its ConfigMap. */
function initPrimaryRuns(sts: IStatefulSet, init: IContainer): string {
  const script = shellScript(init);
  const files = [...script.matchAll(/\spsql\s[^\n]*-f\s+(\S+)/g)].map((m) => m[1] as string);
  return [script, ...files.map((path) => overlay.configMapFile(sts, init, path).text)].join("\n");
}

describe("PostgreSQL › Primary StatefulSet", () => {
  const primary = () => overlay.statefulSet(namespace, postgres.primary.name);
  const server = () => containerOf(primary(), "postgresql");
  const init = () => initContainerOf(primary(), postgres.primary.init);
  // The SQL of the first start lives in a ConfigMap (fix: a change to it re-runs the setup Job
  // instead of restarting the primary); init-primary runs it with psql -f.
  const runs = () => initPrimaryRuns(primary(), init());
  const inDatabase = (script: string) => script.search(new RegExp(`\\\\(?:connect|c) ${database}\\b`));

  it(`is governed by ${postgres.primary.serviceName}, runs as uid/gid/fsGroup ${runsAs.postgres}, serves ${postgres.port}`, () => {
    expect(primary().spec?.serviceName).toBe(postgres.primary.serviceName);
    expect(podSpec(primary()).securityContext).toMatchObject({ runAsUser: runsAs.postgres, runAsGroup: runsAs.postgres, fsGroup: runsAs.postgres });
    expect((server().ports ?? []).map((p) => p.containerPort)).toContain(postgres.port);
  });

  it("starts postgres with every -c setting of the document, in the document's order", () => {
    expect(settingsOf(server(), postgres.primarySettings).documented).toEqual(postgres.primarySettings.map(([k, v]) => [k, v]));
  });

  it("adds only shared_preload_libraries=pg_stat_statements and max_slot_wal_keep_size (fix: pg_stat_statements needs preloading; a down replica must not fill the primary's disk)", () => {
    const { added } = settingsOf(server(), postgres.primarySettings);
    expect(added.map(([k]) => k)).toEqual(postgres.addedPrimarySettings);
    expect(added.find(([k]) => k === "shared_preload_libraries")?.[1].split(",")).toContain("pg_stat_statements");
  });

  const creates: readonly { fact: string; pattern: RegExp }[] = [
    { fact: `the app user ${users.app.user} with CREATEDB`, pattern: new RegExp(`ROLE ${users.app.user}\\b[^;\\n]*\\bCREATEDB\\b`) },
    { fact: `the database ${database}`, pattern: new RegExp(`CREATE DATABASE ${database}\\b`) },
    { fact: `the replication user ${users.replication.user} with REPLICATION`, pattern: new RegExp(`ROLE ${users.replication.user}\\b[^;\\n]*\\bREPLICATION\\b`) },
  ];
  eachRow(creates, ({ fact }) => `init-primary creates ${fact}`, ({ pattern }) => {
    expect(runs()).toMatch(pattern);
  });

  eachRow(postgres.extensions, (e) => `init-primary enables the extension ${e} inside ${database}`, (extension) => {
    expect(runs().indexOf(`CREATE EXTENSION IF NOT EXISTS ${extension}`)).toBeGreaterThan(inDatabase(runs()));
    expect(inDatabase(runs())).toBeGreaterThanOrEqual(0);
  });

  eachRow(postgres.schemas.filter((s) => s !== "public"), (s) => `init-primary creates schema ${s} in ${database} (Database Schemas; public is built in)`, (schema) => {
    expect(runs().search(new RegExp(`CREATE SCHEMA (?:IF NOT EXISTS )?${schema}\\b`))).toBeGreaterThan(inDatabase(runs()));
  });

  it(`init-primary writes pg_hba.conf entries for replication (${users.replication.user}) and SCRAM auth`, () => {
    const script = shellScript(init());
    expect(script).toMatch(new RegExp(`^\\s*host\\s+replication\\s+(?:${users.replication.user}|all)\\s+\\S+\\s+scram-sha-256\\s*$`, "m"));
    expect(script).toMatch(/^\s*host\s+all\s+all\s+\S+\s+scram-sha-256\s*$/m);
  });

  it("init-primary takes the users' passwords from their Secrets", () => {
    const secrets = (init().env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name);
    expect(secrets).toEqual(expect.arrayContaining(Object.values(users).map((u) => u.secret)));
  });
});

describe("PostgreSQL › Replica StatefulSet", () => {
  const replica = () => overlay.statefulSet(namespace, postgres.replica.name);
  const init = () => initContainerOf(replica(), postgres.replica.init);

  it(`is governed by ${postgres.replica.serviceName}`, () => {
    expect(replica().spec?.serviceName).toBe(postgres.replica.serviceName);
  });

  it("starts postgres with the document's -c settings, in its order", () => {
    expect(settingsOf(containerOf(replica(), "postgresql"), postgres.replicaSettings).documented).toEqual(postgres.replicaSettings.map(([k, v]) => [k, v]));
  });

  it("adds only shared_preload_libraries, wal_level, max_slot_wal_keep_size and primary_conninfo (fix: ready to be promoted, rotated password)", () => {
    expect(settingsOf(containerOf(replica(), "postgresql"), postgres.replicaSettings).added.map(([k]) => k)).toEqual(postgres.addedReplicaSettings);
  });

  // Fix: the document's "standby.signal on restart" demoted a promoted replica at its next
  // restart; pg_basebackup -R writes it once, with the first clone (proven by the real replica test).
  it(`init-replica clones the primary with pg_basebackup -R as ${users.replication.user}`, () => {
    const c = init();
    const vars = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    const basebackup = expandShell(joinContinuations(shellScript(c)), vars).split("\n").find((l) => l.includes("pg_basebackup")) ?? "";
    const host = postgres.primary.name;
    expect(basebackup).toMatch(new RegExp(`-h\\s+"?${host}(?:\\.${namespace}(?:\\.svc\\.cluster\\.local)?)?"?(?:\\s|$)`));
    expect(basebackup).toMatch(new RegExp(`-U\\s+"?${users.replication.user}"?(?:\\s|$)`));
    expect(basebackup).toMatch(/\s-R(?:\s|$)/);
    expect(secretEnv(c, "REPLICATION_PASSWORD")?.name).toBe(users.replication.secret);
  });
});

describe("PostgreSQL › PgBouncer Connection Pooling", () => {
  const pool = () => overlay.deployment(namespace, pgbouncer.name);
  /** The pgbouncer.ini PgBouncer is started with, from the ConfigMap mounted where it points. */
  const ini = () => {
    const c = containerOf(pool(), pgbouncer.container);
    const path = [...(c.command ?? []), ...(c.args ?? [])].find((a) => a.endsWith(".ini"));
    if (!path) throw new Error("the pgbouncer container is not given an .ini file");
    return parseIni(overlay.configMapFile(pool(), c, path).text);
  };

  eachRow(pgbouncer.ini.databases, ([key, value]) => `[databases] ${key} = ${value} (in front of the primary)`, ([key, value]) => {
    expect(ini().get("databases")?.get(key)).toBe(value);
  });

  it("the [databases] host and port are the primary's Service, in front of the primary's pods", () => {
    const [, host, port] = /\bhost=(\S+) port=(\d+)/.exec(ini().get("databases")?.get(database) ?? "") ?? [];
    expect(host).toBe(serviceDns(postgres.primary.name, namespace));
    expect(overlay.targetPortOf(overlay.service(namespace, postgres.primary.name), Number(port))).toEqual([
      { workload: `StatefulSet ${namespace}/${postgres.primary.name}`, containerPort: postgres.port },
    ]);
  });

  eachRow(pgbouncer.ini.pgbouncer, ([key, value]) => `[pgbouncer] ${key} = ${value}`, ([key, value]) => {
    expect(ini().get("pgbouncer")?.get(key)).toBe(value);
  });

  // Fix: the document lists the superuser, which made the pooler a path to a superuser session.
  it("an init container writes the auth_file userlist.txt from the app user's Secret and the admin console user's, on a volume PgBouncer reads", () => {
    const authFile = ini().get("pgbouncer")?.get("auth_file") ?? "";
    expect(authFile).toMatch(/userlist\.txt$/);
    const writer = (podSpec(pool()).initContainers ?? []).find((c) => shellScript(c).includes(authFile));
    expect(writer, `an init container writing ${authFile}`).toBeDefined();
    expect((writer?.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name).sort()).toEqual([...pgbouncer.userlistSecrets].sort());
    const dir = authFile.slice(0, authFile.lastIndexOf("/"));
    const volume = (c: IContainer | undefined) => (c?.volumeMounts ?? []).find((m) => m.mountPath === dir)?.name;
    expect(volume(writer)).toBeDefined();
    expect(volume(containerOf(pool(), pgbouncer.container))).toBe(volume(writer));
  });
});

describe("PostgreSQL › Users & Secrets", () => {
  /** `Kind name` of every workload of nx-persistent reading `secret`. */
  const readers = (secret: string) =>
    overlay.workloads
      .filter((w) => w.metadata?.namespace === namespace && secretReferences(w).some((r) => r.name === secret))
      .map((w) => `${w.kind} ${w.metadata?.name}`);

  eachRow(Object.values(users), (u) => `${u.user} (${u.purpose}) uses Secret ${u.secret}, read in ${namespace}`, ({ secret }) => {
    expect(readers(secret)).not.toEqual([]);
  });

  it("PgBouncer reads the app user's Secret, never the superuser's (fix); the replica reads the replication Secret", () => {
    expect(readers(users.app.secret)).toContain(`Deployment ${pgbouncer.name}`);
    expect(readers(users.superuser.secret)).not.toContain(`Deployment ${pgbouncer.name}`);
    expect(readers(users.replication.secret)).toContain(`StatefulSet ${postgres.replica.name}`);
  });

  it("no Secret object is rendered: Git only references Secrets", () => {
    expect(overlay.ofKind("Secret")).toEqual([]);
  });
});
