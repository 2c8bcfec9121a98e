import { describe, expect, it } from "vitest";
import { postgres, postgresPrimary, postgresReplica, replicaSlot } from "../generator/components/postgres.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, stagingWith } from "./support/config.ts";

const initScript = (sts: any, name: string) => sts.spec.template.spec.initContainers.find((c: any) => c.name === name).command[2];

describe("PostgreSQL primary and replica", () => {
  it("renders the staging defaults", () => {
    expect(postgres(staging).map((o) => plain(o))).toMatchSnapshot();
  });

  it("passes every configured setting to the server as -c name=value, in order", () => {
    const args = plain<any>(postgresPrimary(staging)).spec.template.spec.containers[0].args;
    const pairs = staging.postgres.primary.settings.flatMap(([k, v]) => ["-c", `${k}=${v}`]);
    expect(args).toEqual(pairs);
  });

  it("keeps PGDATA in a subdirectory of the volume, which holds lost+found", () => {
    const pod = plain<any>(postgresPrimary(staging)).spec.template.spec;
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "data", mountPath: "/var/lib/postgresql/data" });
    expect(pod.containers[0].env).toContainEqual({ name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" });
  });

  it("creates one replication slot per replica pod on the primary, and each replica streams from its own", () => {
    const env = stagingWith({ postgres: { replica: { replicas: 2 } } });
    const primary = initScript(plain(postgresPrimary(env)), "init-primary");
    expect(primary).toContain(`'${replicaSlot(0)} ${replicaSlot(1)}'`);
    const replica = initScript(plain(postgresReplica(env)), "init-replica");
    expect(replica).toContain('-S "$slot"');
    expect(replica).toContain('slot="nx_postgresql_replica_${POD_NAME##*-}"');
    expect(plain<any>(postgresReplica(env)).spec.replicas).toBe(2);
  });

  it("initializes the cluster only once and ensures users, database and extensions on every start", () => {
    const script = initScript(plain(postgresPrimary(staging)), "init-primary");
    expect(script).toMatch(/if \[ ! -s "\$PGDATA\/PG_VERSION" \]; then\n\s+pwfile/);
    for (const statement of [
      "CREATE ROLE nx_seller_operator' WHERE NOT EXISTS",
      "ALTER ROLE nx_seller_operator WITH LOGIN CREATEDB PASSWORD :'app_password'",
      "ALTER ROLE repl_user WITH LOGIN REPLICATION",
      "CREATE DATABASE nx_seller_core OWNER nx_seller_operator' WHERE NOT EXISTS",
      "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
      "CREATE EXTENSION IF NOT EXISTS pgcrypto",
      "CREATE SCHEMA IF NOT EXISTS pricing AUTHORIZATION nx_seller_operator",
      "CREATE PUBLICATION nx_debezium FOR ALL TABLES'",
    ]) {
      expect(script).toContain(statement);
    }
    // Passwords come from the environment inside psql, never from a command line.
    expect(script).toContain("\\getenv app_password APP_PASSWORD");
    expect(script).not.toMatch(/-v \w+_password=/);
  });

  it("allows replication and SCRAM logins in pg_hba.conf", () => {
    const script = initScript(plain(postgresPrimary(staging)), "init-primary");
    expect(script).toMatch(/host\s+replication\s+repl_user\s+all\s+scram-sha-256/);
    expect(script).toMatch(/host\s+all\s+all\s+all\s+scram-sha-256/);
  });

  it("clones the primary into a side directory and always restarts as a standby", () => {
    const script = initScript(plain(postgresReplica(staging)), "init-replica");
    expect(script).toContain('pg_basebackup -h "$PRIMARY_HOST"');
    expect(script).toContain('-D "$PGDATA.partial" -X stream -R');
    expect(script).toContain('mv "$PGDATA.partial" "$PGDATA"');
    expect(script.trimEnd().endsWith('touch "$PGDATA/standby.signal"')).toBe(true);
    const env = plain<any>(postgresReplica(staging)).spec.template.spec.initContainers[0].env;
    expect(env).toContainEqual({ name: "PRIMARY_HOST", value: "nx-postgresql-primary.nx-persistent.svc.cluster.local" });
  });

  it("sizes each volume from config", () => {
    const env = stagingWith({ postgres: { primary: { storage: "50Gi" }, replica: { storage: "30Gi" } } });
    const size = (o: any) => o.spec.volumeClaimTemplates[0].spec.resources.requests.storage;
    expect(size(plain(postgresPrimary(env)))).toBe("50Gi");
    expect(size(plain(postgresReplica(env)))).toBe("30Gi");
  });

  it("rejects a database name that is not a plain SQL identifier", () => {
    expect(() => postgresPrimary(stagingWith({ postgres: { database: "nx-core; DROP" } }))).toThrow(
      expect.objectContaining({
        object: "StatefulSet nx-persistent/nx-postgresql-primary",
        field: "postgres.database",
        message: '"nx-core; DROP" is not a plain SQL identifier (^[a-z_][a-z0-9_]*$)',
      }),
    );
  });
});
