// The primary's rendered staging scripts on a real PostgreSQL 17 (the image's major version):
// init-primary on an empty volume, again on a clean restart and after a crash; the setup Job
// against the running server; what the publication does to the application's writes; the
// Debezium user's logical slot. Servers listen on 127.0.0.1 at free ports.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { statefulSetsOf } from "../generator/components/postgres/statefulsets.ts";
import { deploymentOf } from "../generator/components/pgbouncer/deployment.ts";
import { staging } from "../generator/config/staging.ts";
import {
  configMapFiles,
  containerEnv,
  debianBin,
  type Login,
  mountedLocally,
  pg17Bin,
  pgIsReady,
  podEnv,
  postgresInstall,
  postgresRequirements,
  postgresSecrets,
  psql,
  psqlTry,
  removeWorkdir,
  renderedPostgres,
  type RunningServer,
  runScript,
  startPostgres,
  stopAll,
  subdir,
  waitFor,
  workdir,
} from "./support/postgres.ts";
import { freePort, serverSuite } from "./support/servers.ts";

const { users, database } = staging.postgres;
const secrets = postgresSecrets;

const rendered = renderedPostgres(staging);
const initPrimary = rendered.primary.initContainers[0];
const serverArgs: string[] = rendered.primary.containers[0].args;
const setup = rendered.setupJob;

serverSuite("PostgreSQL 17 primary: the rendered init container, setup Job and publication", postgresRequirements, postgresInstall, () => {
  let dir: string;
  let setupDir: string;
  let pgdata: string;
  let port: number;
  let server: RunningServer | undefined;
  let starts = 0;
  const as = (user: string, password: string, db = database): Login => ({ port, user, password, database: db });
  const superuser = (db = database) => as(statefulSetsOf(staging).superuser, secrets["nx-postgresql-superuser-secret"], db);
  const app = () => as(users.app, secrets["nx-postgresql-app-secret"]);

  const initEnv = (path: readonly string[] = [pg17Bin]) =>
    podEnv([...path, debianBin!], dir, containerEnv(initPrimary, secrets, { PGDATA: pgdata }));
  const runInit = (env = initEnv()) => runScript(mountedLocally(initPrimary.command[2], initPrimary, "setup", setupDir), env);
  const runSetupJob = () =>
    runScript(
      mountedLocally(setup.command[2], setup, "setup", setupDir),
      podEnv([debianBin!], dir, containerEnv(setup, secrets, { PGHOST: "127.0.0.1", PGPORT: String(port) })),
    );
  const start = async () => {
    starts += 1;
    server = await startPostgres("postgres 17", {
      bin: pg17Bin,
      pgdata,
      args: serverArgs,
      port,
      socketDir: subdir(dir, "socket"),
      log: join(dir, `server-${starts}.log`),
      env: podEnv([pg17Bin], dir, { PGDATA: pgdata }),
    });
  };
  /** Stand-ins that log each call, then run the real binary: to see what the init container starts. */
  const spies = () => {
    const spyDir = subdir(dir, "spies");
    for (const tool of ["initdb", "pg_ctl", "postgres"]) {
      writeFileSync(join(spyDir, tool), `#!/bin/sh\necho "${tool} $*" >> "${dir}/calls"\nexec "${join(pg17Bin, tool)}" "$@"\n`);
      chmodSync(join(spyDir, tool), 0o755);
    }
    writeFileSync(join(dir, "calls"), "");
    chmodSync(join(dir, "calls"), 0o666);
    return spyDir;
  };
  const calls = () => readFileSync(join(dir, "calls"), "utf8").trim();
  const catalog = () =>
    psql(superuser(), `
      SELECT string_agg(rolname || ':' || rolcanlogin::text || rolreplication::text || rolsuper::text, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_'
      UNION ALL SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
      UNION ALL SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension
      UNION ALL SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots
      UNION ALL SELECT string_agg(pubname || ':' || puballtables::text, ',') FROM pg_publication
      UNION ALL SELECT string_agg(n.nspname, ',' ORDER BY n.nspname) FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid
      UNION ALL SELECT string_agg(evtname || ':' || evtenabled::text, ',') FROM pg_event_trigger`);

  beforeAll(async () => {
    dir = workdir("nx-pg17-");
    setupDir = configMapFiles(dir, rendered.setupConfig);
    pgdata = join(subdir(dir, "volume"), "pgdata");
    port = await freePort();
  });

  afterAll(async () => {
    await stopAll();
    removeWorkdir(dir);
  });

  it("first start: a setup that fails leaves no cluster behind; the next start creates it whole", async () => {
    const broken = initEnv();
    delete broken.DEBEZIUM_PASSWORD; // the setup's psql stops at the first error
    const failed = runInit(broken);
    expect(failed.status, failed.stderr).not.toBe(0);
    expect(failed.stderr).toContain("PASSWORD :'debezium");
    expect(existsSync(join(pgdata, "PG_VERSION"))).toBe(false);
    expect(existsSync(join(`${pgdata}.partial`, "PG_VERSION"))).toBe(true);

    const result = runInit();
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(pgdata, "PG_VERSION"), "utf8").trim()).toBe("17");
    expect(existsSync(`${pgdata}.partial`)).toBe(false);
    await start();

    expect(psql(app(), "SELECT current_user || ' ' || current_database()")).toBe(`${users.app} ${database}`);
    expect(psql(superuser(), "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")).toBe(users.app);
    expect(psql(superuser(), "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname = ANY('{pricing,allocation,inventory,finance,payment,sale}')"))
      .toBe("allocation,finance,inventory,payment,pricing,sale");
    expect(psql(superuser(), "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'")).toBe("pg_stat_statements,pgcrypto");
    expect(psql(superuser(), "SELECT count(*) FROM pg_stat_statements")).toMatch(/^\d+$/);
    // Each replica makes its own slot when it clones (postgres-replica-real.test.ts).
    expect(psql(superuser(), "SELECT count(*) FROM pg_replication_slots")).toBe("0");
    expect(psql(as(users.debezium, secrets["nx-postgresql-debezium-secret"]), "SELECT rolreplication FROM pg_roles WHERE rolname = current_user")).toBe("t");
  });

  it("pg_hba.conf refuses PgBouncer's admin console user as a database login, even when a role of that name exists", () => {
    const admin = deploymentOf(staging).adminUser;
    psql(superuser(), `CREATE ROLE ${admin} LOGIN PASSWORD 'console pw'`);
    try {
      const login = psqlTry(as(admin, "console pw"), "SELECT 1");
      expect(login.status).not.toBe(0);
      expect(login.stderr).toContain(`pg_hba.conf rejects connection for host "127.0.0.1", user "${admin}"`);
    } finally {
      psql(superuser(), `DROP ROLE ${admin}`);
    }
  });

  it("the setup Job (rendered) runs against the running server, and a second run changes nothing", () => {
    const before = catalog();
    for (const run of [1, 2]) {
      const result = runSetupJob();
      expect(result.status, `run ${run}: ${result.stderr}`).toBe(0);
      expect(catalog()).toBe(before);
    }
    expect(before).toContain(`nx_debezium:false`);
    expect(before).toContain("nx_cdc_replica_identity:O");
  });

  it("no password the setup sets reaches the server log or pg_stat_statements, even with the superuser's statements logged in full", () => {
    const passwords = [secrets["nx-postgresql-app-secret"], secrets["nx-postgresql-replication-secret"], secrets["nx-postgresql-debezium-secret"]];
    // Per-role settings outrank the server's command line: every way a statement's text can be
    // recorded, on for the superuser's sessions, the setup Job's included.
    const chatty = {
      log_statement: "all",
      log_min_duration_statement: "0",
      log_min_duration_sample: "0",
      log_statement_sample_rate: "1",
      log_transaction_sample_rate: "1",
      log_min_error_statement: "debug5",
      debug_print_parse: "on",
      "pg_stat_statements.track": "all",
    };
    for (const [name, value] of Object.entries(chatty)) psql(superuser("postgres"), `ALTER ROLE ${statefulSetsOf(staging).superuser} SET ${name} = '${value}'`);
    try {
      const result = runSetupJob();
      expect(result.status, result.stderr).toBe(0);
    } finally {
      psql(superuser("postgres"), `ALTER ROLE ${statefulSetsOf(staging).superuser} RESET ALL`);
    }
    // By now the rendered server (log_statement=ddl, pg_stat_statements) has also run the Job twice.
    const log = readFileSync(server!.log, "utf8");
    const tracked = psql(superuser(), "SELECT string_agg(query, E'\\n') FROM pg_stat_statements");
    for (const password of passwords) {
      expect(log).not.toContain(password);
      expect(tracked).not.toContain(password);
    }
    // The Job's session did begin with everything on: its first statement is in the log.
    expect(log).toContain("SET log_statement = 'none'");
    expect(tracked).toContain("ALTER ROLE");
  });

  it("a server still recovering passes the startup and liveness probes and fails readiness; a stopped one fails all three", async () => {
    // A standby cloned from a backup whose end it never receives stays in recovery, not yet
    // consistent, as a long crash recovery does: it answers, rejecting connections (57P03).
    const copy = join(subdir(dir, "recovering-volume"), "pgdata");
    const backup = runScript(`psql -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p ${port} -U ${statefulSetsOf(staging).superuser} -d postgres <<'SQL'
SELECT pg_backup_start('probes', true) \\g /dev/null
\\! cp -a "${pgdata}" "${copy}" 2>/dev/null; rm -f "${copy}/postmaster.pid"
SELECT labelfile FROM pg_backup_stop(false) \\g ${copy}/backup_label
SQL
touch "${copy}/standby.signal"`, podEnv([debianBin!], dir, { PGPASSWORD: secrets["nx-postgresql-superuser-secret"] }));
    expect(backup.status, backup.stderr).toBe(0);
    const recoveringPort = await freePort();
    const recovering = await startPostgres("recovering postgres 17", {
      bin: pg17Bin,
      pgdata: copy,
      args: serverArgs,
      port: recoveringPort,
      socketDir: subdir(dir, "recovering-socket"),
      log: join(dir, "recovering.log"),
      env: podEnv([pg17Bin], dir, { PGDATA: copy }),
      isReady: () => pgIsReady(recoveringPort) === 1,
    });
    const server17 = rendered.primary.containers[0];
    const probe = (name: "startupProbe" | "livenessProbe" | "readinessProbe") => {
      const [shell, flag, script] = server17[name].exec.command;
      return spawnSync(shell, [flag, script.replace(" -p 5432 ", ` -p ${recoveringPort} `)], { env: { PATH: `${debianBin}:/usr/bin:/bin` } }).status;
    };
    try {
      await waitFor("the copy to enter recovery", () => readFileSync(recovering.log, "utf8").includes("entering standby mode"));
      expect(probe("readinessProbe")).not.toBe(0);
      expect(probe("startupProbe")).toBe(0);
      expect(probe("livenessProbe")).toBe(0);
      expect(readFileSync(recovering.log, "utf8")).toContain("the database system is not yet accepting connections");
    } finally {
      await recovering.stop();
    }
    expect([probe("readinessProbe"), probe("startupProbe"), probe("livenessProbe")]).toEqual([2, 1, 1]);
  });

  it("reproduces the failure the publication caused: FOR ALL TABLES makes UPDATE and DELETE on a table without a primary key fail", () => {
    psql(superuser("postgres"), "CREATE DATABASE repro");
    const repro = superuser("repro");
    psql(repro, "CREATE TABLE keyless (id int, note text); INSERT INTO keyless VALUES (1, 'a'); CREATE PUBLICATION everything FOR ALL TABLES");
    const update = psqlTry(repro, "UPDATE keyless SET note = 'b'");
    expect(update.status).not.toBe(0);
    expect(update.stderr).toContain('cannot update table "keyless" because it does not have a replica identity and publishes updates');
    expect(psqlTry(repro, "DELETE FROM keyless").stderr).toContain("publishes deletes");
  });

  it("publishes only the configured schemas, and the application's writes to tables without a primary key succeed", () => {
    const published = psql(superuser(), `SELECT string_agg(n.nspname, ',' ORDER BY n.nspname) FROM pg_publication_namespace pn
      JOIN pg_namespace n ON n.oid = pn.pnnspid JOIN pg_publication p ON p.oid = pn.pnpubid WHERE p.pubname = '${staging.debezium.publicationName}'`);
    expect(published).toBe([...staging.debezium.schemas].sort().join(","));

    // What a service's migration does, as the application user, in a published schema.
    psql(app(), "CREATE TABLE sale.events (id int, note text); INSERT INTO sale.events VALUES (1, 'new'), (2, 'new')");
    expect(psql(app(), "UPDATE sale.events SET note = 'seen' WHERE id = 1")).toBe("UPDATE 1");
    expect(psql(app(), "DELETE FROM sale.events WHERE id = 2")).toBe("DELETE 1");
    // A primary key dropped later, and a table that keeps its key.
    psql(app(), "CREATE TABLE pricing.prices (id int PRIMARY KEY, amount int); INSERT INTO pricing.prices VALUES (1, 10)");
    psql(app(), "CREATE TABLE pricing.rules (id int PRIMARY KEY); ALTER TABLE pricing.prices DROP CONSTRAINT prices_pkey");
    expect(psql(app(), "UPDATE pricing.prices SET amount = 11")).toBe("UPDATE 1");
    // A schema the publication does not cover is left as it is.
    psql(app(), "CREATE SCHEMA scratch; CREATE TABLE scratch.notes (body text)");

    const identity = psql(superuser(), `SELECT string_agg(c.oid::regclass::text || '=' || c.relreplident::text, ',' ORDER BY c.oid::regclass::text)
      FROM pg_class c WHERE c.oid IN ('sale.events'::regclass, 'pricing.prices'::regclass, 'pricing.rules'::regclass, 'scratch.notes'::regclass)`);
    expect(identity).toBe("pricing.prices=f,pricing.rules=d,sale.events=f,scratch.notes=d");
  });

  it("the setup Job repairs a cluster the old layer left: a FOR ALL TABLES publication and a key-less table whose updates fail", () => {
    psql(superuser(), `ALTER EVENT TRIGGER nx_cdc_replica_identity DISABLE;
      DROP PUBLICATION ${staging.debezium.publicationName}; CREATE PUBLICATION ${staging.debezium.publicationName} FOR ALL TABLES`);
    psql(app(), "CREATE TABLE public.legacy (id int); INSERT INTO public.legacy VALUES (1)");
    expect(psqlTry(app(), "UPDATE public.legacy SET id = 2").stderr).toContain("does not have a replica identity");

    const result = runSetupJob();
    expect(result.status, result.stderr).toBe(0);
    expect(psql(app(), "UPDATE public.legacy SET id = 2")).toBe("UPDATE 1");
    expect(psql(superuser(), `SELECT puballtables FROM pg_publication WHERE pubname = '${staging.debezium.publicationName}'`)).toBe("f");
    expect(psql(superuser(), "SELECT evtenabled FROM pg_event_trigger WHERE evtname = 'nx_cdc_replica_identity'")).toBe("O");
    expect(psql(app(), "UPDATE scratch.notes SET body = 'x'")).toBe("UPDATE 0");
  });

  it("the Debezium user's logical slot (pgoutput) streams changes of a published schema, not of others", () => {
    const debezium = as(users.debezium, secrets["nx-postgresql-debezium-secret"]);
    const slot = staging.debezium.slotName;
    psql(debezium, `SELECT 1 FROM pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
    try {
      psql(app(), "INSERT INTO sale.events VALUES (3, 'streamed'); INSERT INTO scratch.notes VALUES ('private')");
      const changes = psql(debezium, `SELECT string_agg(encode(data, 'escape'), ' | ') FROM pg_logical_slot_peek_binary_changes('${slot}', NULL, NULL,
        'proto_version', '1', 'publication_names', '${staging.debezium.publicationName}')`);
      expect(changes).toContain("events");
      expect(changes).toContain("streamed");
      expect(changes).not.toContain("notes");
      // The initial snapshot reads tables through pg_read_all_data.
      expect(psql(debezium, "SELECT count(*) FROM sale.events")).toBe("2");
    } finally {
      psql(superuser(), `SELECT pg_drop_replication_slot('${slot}')`);
    }
  });

  it("a clean restart: the init container starts no server and runs no initdb; it rewrites pg_hba.conf", async () => {
    await server!.stop();
    writeFileSync(join(pgdata, "pg_hba.conf"), "host all all all trust\n");
    const result = runInit(initEnv([spies(), pg17Bin]));
    expect(result.status, result.stderr).toBe(0);
    expect(calls()).toBe("");
    expect(readFileSync(join(pgdata, "pg_hba.conf"), "utf8")).not.toContain("trust");
    await start();
    expect(psql(app(), "SELECT string_agg(note, ',' ORDER BY id) FROM sale.events")).toBe("seen,streamed");
  });

  it("after a crash (kill -9 of every server process) the init container starts no server: recovery runs once, in the real server", async () => {
    psql(app(), "INSERT INTO sale.events VALUES (4, 'before the crash')");
    await server!.crash();
    expect(existsSync(join(pgdata, "postmaster.pid"))).toBe(true);

    const result = runInit(initEnv([spies(), pg17Bin]));
    expect(result.status, result.stderr).toBe(0);
    expect(calls()).toBe("");
    // Untouched: the old init's temporary server would have recovered and shut the cluster down here.
    expect(existsSync(join(pgdata, "postmaster.pid"))).toBe(true);

    await start();
    expect(readFileSync(server!.log, "utf8")).toContain("database system was not properly shut down; automatic recovery in progress");
    expect(psql(app(), "SELECT note FROM sale.events WHERE id = 4")).toBe("before the crash");
  });
});
