import { describe, expect, it } from "vitest";
import { debeziumConnectorConfig } from "../generator/components/debezium.ts";
import { postgres } from "../generator/components/postgres/index.ts";
import { postgresPrimary, postgresReplica, postgresSetupJob, setupSql, statefulSetsOf } from "../generator/components/postgres/statefulsets.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, problems, stagingWith } from "./support/config.ts";

const initScript = (sts: any, name: string) => sts.spec.template.spec.initContainers.find((c: any) => c.name === name).command[2];

describe("PostgreSQL primary and replica", () => {

  it("passes every configured setting to the server as -c name=value, in order", () => {
    const args = plain<any>(postgresPrimary(staging)).spec.template.spec.containers[0].args;
    const pairs = statefulSetsOf(staging).primary.settings.flatMap(([k, v]) => ["-c", `${k}=${v}`]);
    expect(args).toEqual(pairs);
  });

  it("keeps PGDATA in a subdirectory of the volume, which holds lost+found", () => {
    const pod = plain<any>(postgresPrimary(staging)).spec.template.spec;
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "data", mountPath: "/var/lib/postgresql/data" });
    expect(pod.containers[0].env).toContainEqual({ name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" });
  });

  it("each replica pod makes its own replication slot on the primary before it clones; the setup makes none", () => {
    const env = stagingWith({ postgres: { cluster: { replica: { replicas: 2 } } } });
    const replica = initScript(plain(postgresReplica(env)), "init-replica");
    expect(replica).toContain('slot="nx_postgresql_replica_${POD_NAME##*-}"');
    expect(replica).toContain("pg_create_physical_replication_slot('$slot', true)");
    expect(replica.indexOf("create_slot ;;", replica.indexOf("pg_isready"))).toBeLessThan(replica.indexOf("pg_basebackup"));
    expect(replica).toContain('-S "$slot"');
    expect(plain<any>(postgresReplica(env)).spec.replicas).toBe(2);
    // A replica more changes neither the setup nor its Job, which would wait for the new replica.
    expect(setupSql(env)).toBe(setupSql(staging));
    expect(setupSql(env)).not.toContain("replication_slot");
  });

  it("startup and liveness accept a server that is up or still starting; readiness wants one that accepts connections", () => {
    for (const sts of [postgresPrimary(staging), postgresReplica(staging)]) {
      const server = plain<any>(sts).spec.template.spec.containers[0];
      const command = (probe: string) => server[probe].exec.command;
      expect(command("readinessProbe")).toEqual(["sh", "-c", "pg_isready -h 127.0.0.1 -p 5432 -q"]);
      expect(command("startupProbe")).toEqual(["sh", "-c", "pg_isready -h 127.0.0.1 -p 5432 -q; [ $? -le 1 ]"]);
      expect(command("livenessProbe")).toEqual(command("startupProbe"));
    }
  });

  it("creates the cluster and runs the setup only on an empty volume; later starts start no server", () => {
    const script: string = initScript(plain(postgresPrimary(staging)), "init-primary");
    const [firstStart = "", everyStart = ""] = script.split(/\nfi\n/);
    expect(firstStart).toMatch(/^set -eu\nif \[ ! -s "\$PGDATA\/PG_VERSION" \]; then\n/);
    expect(firstStart).toContain('initdb -D "$PGDATA.partial"');
    expect(firstStart).toContain("psql -X -q -v ON_ERROR_STOP=1 -h \"$socket\" -U postgres -d postgres -f /etc/postgresql/setup/setup.sql || status=$?");
    expect(firstStart).toContain('mv "$PGDATA.partial" "$PGDATA"');
    // Crash recovery happens in the real server, under its startup probe, never in here: after
    // the first start, the script only writes pg_hba.conf.
    expect(everyStart).toMatch(/^cat > "\$PGDATA\/pg_hba\.conf" <<'HBA'\n[^]*\nHBA\n$/);
    expect(everyStart.split("\n").filter((l) => /^(?!#)\S/.test(l) && !/^(local|host)\s/.test(l))).toEqual([
      `cat > "$PGDATA/pg_hba.conf" <<'HBA'`,
      "HBA",
    ]);
  });

  it("ensures users, database, schemas, extensions and the publication with statements that do nothing when done", () => {
    const script = setupSql(staging);
    for (const statement of [
      "CREATE ROLE nx_seller_operator' WHERE NOT EXISTS",
      "ALTER ROLE nx_seller_operator WITH LOGIN CREATEDB PASSWORD :'app_password'",
      "ALTER ROLE repl_user WITH LOGIN REPLICATION",
      "CREATE DATABASE nx_seller_core OWNER nx_seller_operator' WHERE NOT EXISTS",
      "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
      "CREATE EXTENSION IF NOT EXISTS pgcrypto",
      "CREATE SCHEMA IF NOT EXISTS pricing AUTHORIZATION nx_seller_operator",
      "CREATE PUBLICATION nx_debezium FOR TABLES IN SCHEMA public, pricing, allocation, inventory, finance, payment, sale;",
    ]) {
      expect(script).toContain(statement);
    }
    expect(script).not.toContain("FOR ALL TABLES;");
    // Passwords come from the environment inside psql, never from a command line.
    expect(script).toContain("\\getenv app_password APP_PASSWORD");
    expect(script).not.toMatch(/-v \w+_password=/);
  });

  it("sets the passwords in a session that records none of its statements, and uses them in no other", () => {
    const script = setupSql(staging);
    const [session = "", afterConnect = ""] = script.split("\n\\connect ");
    const firstPassword = session.indexOf("PASSWORD :'");
    for (const setting of ["log_statement = 'none'", "log_min_error_statement = 'panic'", "pg_stat_statements.track = 'none'", "track_activities = off"]) {
      expect(session.indexOf(`SET ${setting};`)).toBeGreaterThanOrEqual(0);
      expect(session.indexOf(`SET ${setting};`)).toBeLessThan(firstPassword);
    }
    expect(afterConnect).not.toMatch(/password/i);
  });

  it("publishes the schemas Debezium streams, from config, and the connector includes exactly those", () => {
    const env = stagingWith({ debezium: { schemas: ["sale", "pricing"] } });
    expect(setupSql(env)).toContain("CREATE PUBLICATION nx_debezium FOR TABLES IN SCHEMA sale, pricing;");
    expect(setupSql(env)).toContain("ALTER PUBLICATION nx_debezium SET TABLES IN SCHEMA sale, pricing;");
    expect(debeziumConnectorConfig(env)["schema.include.list"]).toBe("sale,pricing");
  });

  it("gives every published table without a usable replica identity REPLICA IDENTITY FULL, now and after every DDL command", () => {
    const script = setupSql(staging);
    expect(script).toContain("PERFORM nx_cdc.ensure_replica_identity();");
    expect(script).toContain("CREATE EVENT TRIGGER nx_cdc_replica_identity ON ddl_command_end");
    expect(script).toContain("ALTER EVENT TRIGGER nx_cdc_replica_identity ENABLE;");
    expect(script).toMatch(/SECURITY DEFINER SET search_path = pg_catalog, pg_temp/);
  });

  it("keeps the setup SQL in one ConfigMap, which the first start and the setup Job both run", () => {
    const setup = postgres(staging).map((o) => plain<any>(o)).find((o) => o.kind === "ConfigMap");
    expect(setup.metadata.name).toBe("nx-postgresql-setup");
    expect(setup.data).toEqual({ "setup.sql": setupSql(staging) });
    for (const [pod, container] of [
      [plain<any>(postgresPrimary(staging)).spec.template.spec, plain<any>(postgresPrimary(staging)).spec.template.spec.initContainers[0]],
      [plain<any>(postgresSetupJob(staging)).spec.template.spec, plain<any>(postgresSetupJob(staging)).spec.template.spec.containers[0]],
    ]) {
      expect(pod.volumes).toContainEqual({ name: "setup", configMap: { name: "nx-postgresql-setup" } });
      expect(container.volumeMounts).toContainEqual({ name: "setup", mountPath: "/etc/postgresql/setup", readOnly: true });
      expect(container.command[2]).toContain("-f /etc/postgresql/setup/setup.sql");
    }
  });

  it("re-applies the setup from a Job after the workloads, with the superuser's password over TCP", () => {
    const job = plain<any>(postgresSetupJob(staging));
    const container = job.spec.template.spec.containers[0];
    expect(job.metadata.name).toMatch(/^nx-postgresql-setup-[0-9a-f]{8}$/);
    expect(job.metadata.labels).toMatchObject({ "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/component": "setup" });
    expect(container.env).toContainEqual({ name: "PGHOST", value: "nx-postgresql-primary.nx-persistent.svc.cluster.local" });
    expect(container.env).toContainEqual({ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "nx-postgresql-superuser-secret", key: "password" } } });
  });


  it("a changed setup (here the published schemas) makes a new setup Job and leaves the primary's pods alone", () => {
    const env = stagingWith({ debezium: { schemas: ["sale"] } });
    expect(plain<any>(postgresSetupJob(env)).metadata.name).not.toBe(plain<any>(postgresSetupJob(staging)).metadata.name);
    expect(plain<any>(postgresPrimary(env)).spec.template).toEqual(plain<any>(postgresPrimary(staging)).spec.template);
  });

  it("allows replication and SCRAM logins in pg_hba.conf, refuses the pooler's admin, and writes the same file on the replica", () => {
    const script = initScript(plain(postgresPrimary(staging)), "init-primary");
    expect(script).toMatch(/host\s+replication\s+repl_user\s+all\s+scram-sha-256/);
    expect(script).toMatch(/host\s+all\s+all\s+all\s+scram-sha-256/);
    expect(script).toMatch(/host\s+all\s+nx_pgbouncer_admin\s+all\s+reject/);
    const hba = (s: string) => s.slice(s.lastIndexOf("<<'HBA'"));
    expect(hba(initScript(plain(postgresReplica(staging)), "init-replica"))).toBe(hba(script));
  });

  it("clones the primary into a side directory once; standby.signal comes only from that clone, so a promotion lasts", () => {
    const script = initScript(plain(postgresReplica(staging)), "init-replica");
    expect(script).toContain('pg_basebackup -h "$PRIMARY_HOST"');
    expect(script).toContain('-D "$PGDATA.partial" -X stream -R');
    expect(script).toContain('mv "$PGDATA.partial" "$PGDATA"');
    // It reads standby.signal (a standby checks its slot), never writes it.
    expect(script).toContain('[ -f "$PGDATA/standby.signal" ]');
    expect(script).not.toMatch(/(touch|>)[^\n]*standby\.signal/);
    const env = plain<any>(postgresReplica(staging)).spec.template.spec.initContainers[0].env;
    expect(env).toContainEqual({ name: "PRIMARY_HOST", value: "nx-postgresql-primary.nx-persistent.svc.cluster.local" });
  });

  it("streams with a password file written from the Secret at every start, which the command line points to", () => {
    const pod = plain<any>(postgresReplica(staging)).spec.template.spec;
    expect(pod.initContainers[0].command[2]).toContain('> "$PGPASSFILE"');
    expect(pod.containers[0].args.at(-1)).toBe(
      "primary_conninfo=host=nx-postgresql-primary.nx-persistent.svc.cluster.local port=5432 user=repl_user passfile=/etc/postgresql/auth/replication.pgpass",
    );
    expect(pod.volumes).toContainEqual({ name: "auth", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } });
  });

  it("sizes each volume from config", () => {
    const env = stagingWith({ postgres: { cluster: { primary: { storage: "50Gi" }, replica: { storage: "30Gi" } } } });
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

describe("Bad PostgreSQL config is rejected with its location", () => {
  const at = "staging / postgres / StatefulSet nx-persistent/nx-postgresql-primary";

  it("a published schema that is not one of the database's schemas", () => {
    expect(problems(stagingWith({ debezium: { schemas: ["sale", "sales"] } }))).toEqual([
      `${at} / debezium.schemas[1]: "sales" is not one of postgres.schemas`,
    ]);
  });

  it("no published schema at all", () => {
    expect(problems(stagingWith({ debezium: { schemas: [] } }))).toEqual([`${at} / debezium.schemas: lists no schema: the publication would publish nothing`]);
  });

  it("a PgBouncer admin user that is a PostgreSQL role", () => {
    expect(problems(stagingWith({ pgbouncer: { pooler: { adminUser: "postgres" } } }))).toContain(
      `${at} / pgbouncer.pooler.adminUser: postgres is a PostgreSQL role; PgBouncer's admin must not be one`,
    );
  });
});
