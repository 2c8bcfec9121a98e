// Production's publication on a real PostgreSQL 17 (the image's major version), run as
// CloudNativePG runs it: the Cluster's postInitApplicationSQL statements one by one as the
// superuser in the application database (pkg/management/postgres/initdb.go executeQueries), the
// Database's schemas, then the Publication's CREATE and ALTER in the form CloudNativePG's
// instance manager writes them (internal/management/controller/publication_controller_sql.go,
// v1.30.0). What it proves: publishing tables without a primary key never makes the
// application's UPDATE or DELETE fail, for tables made before the publication and after it.
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { postgres } from "../generator/components/postgres/index.ts";
import { production } from "../generator/config/production.ts";
import {
  type Login,
  pg17Bin,
  podEnv,
  postgresInstall,
  postgresRequirements,
  psql,
  psqlTry,
  removeWorkdir,
  type RunningServer,
  runAsPostgres,
  startPostgres,
  stopAll,
  subdir,
  workdir,
} from "./support/postgres.ts";
import { freePort, serverSuite } from "./support/servers.ts";

const objects = postgres(production).map((o) => JSON.parse(JSON.stringify(o)));
const cluster = objects.find((o) => o.kind === "Cluster");
const database = objects.find((o) => o.kind === "Database");
const publication = objects.find((o) => o.kind === "Publication");
const { app } = production.postgres.users;

// CloudNativePG quotes every identifier with pgx.Identifier.Sanitize: "name".
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const publicationTarget = () => publication.spec.target.objects.map((o: { tablesInSchema: string }) => `TABLES IN SCHEMA ${ident(o.tablesInSchema)}`).join(", ");

serverSuite("PostgreSQL 17: production's replica identity trigger and the CloudNativePG publication", postgresRequirements, postgresInstall, () => {
  let dir: string;
  let server: RunningServer;
  let port: number;
  const as = (user: string, db = database.spec.name): Login => ({ port, user, password: "unused (trust)", database: db });
  const superuser = (db?: string) => as("postgres", db);
  const asApp = () => as(app);

  beforeAll(async () => {
    dir = workdir("nx-cnpg-real-");
    port = await freePort();
    const pgdata = join(dir, "pgdata");
    const env = podEnv([pg17Bin], dir, {});
    runAsPostgres(join(pg17Bin, "initdb"), ["-D", pgdata, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"], env);
    server = await startPostgres("postgres 17 (cnpg)", {
      bin: pg17Bin,
      pgdata,
      args: ["-c", "wal_level=logical"],
      port,
      socketDir: subdir(dir, "socket"),
      log: join(dir, "server.log"),
      env,
    });
    // What initdb with database and owner leaves (the role comes from the managed roles).
    psql(superuser("postgres"), `CREATE ROLE ${app} LOGIN`);
    psql(superuser("postgres"), `CREATE DATABASE ${database.spec.name} OWNER ${app}`);
    for (const statement of cluster.spec.bootstrap.initdb.postInitApplicationSQL as string[]) psql(superuser(), statement);
    // The Database's schemas, owned by the application user.
    for (const schema of database.spec.schemas as { name: string; owner: string }[]) {
      psql(superuser(), `CREATE SCHEMA IF NOT EXISTS ${ident(schema.name)} AUTHORIZATION ${ident(schema.owner)}`);
    }
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    removeWorkdir(dir);
  });

  it("lets the application update and delete rows of a table without a key made before the publication", () => {
    psql(asApp(), "CREATE TABLE pricing.before_pub (note text); INSERT INTO pricing.before_pub VALUES ('a'), ('b')");
    psql(superuser(), `CREATE PUBLICATION ${ident(publication.spec.name)} FOR ${publicationTarget()}`);
    expect(psql(superuser(), "SELECT relreplident FROM pg_class WHERE oid = 'pricing.before_pub'::regclass")).toBe("f");
    expect(psqlTry(asApp(), "UPDATE pricing.before_pub SET note = 'c' WHERE note = 'a'").status).toBe(0);
    expect(psqlTry(asApp(), "DELETE FROM pricing.before_pub WHERE note = 'b'").status).toBe(0);
  });

  it("and of one made after it, while a table with a primary key keeps its default identity", () => {
    psql(asApp(), "CREATE TABLE sale.after_pub (note text); INSERT INTO sale.after_pub VALUES ('a')");
    psql(asApp(), "CREATE TABLE sale.keyed (id int PRIMARY KEY, note text); INSERT INTO sale.keyed VALUES (1, 'a')");
    expect(psqlTry(asApp(), "UPDATE sale.after_pub SET note = 'b'").status).toBe(0);
    expect(psql(superuser(), "SELECT relreplident FROM pg_class WHERE oid = 'sale.keyed'::regclass")).toBe("d");
  });

  it("survives the ALTER the operator runs at every reconciliation, and a primary key dropped later", () => {
    psql(superuser(), `ALTER PUBLICATION ${ident(publication.spec.name)} SET ${publicationTarget()}`);
    psql(asApp(), "ALTER TABLE sale.keyed DROP CONSTRAINT keyed_pkey");
    expect(psqlTry(asApp(), "UPDATE sale.keyed SET note = 'b' WHERE id = 1").status).toBe(0);
  });

  it("would fail the application's writes without the trigger (the check is real)", () => {
    psql(superuser(), "ALTER EVENT TRIGGER nx_cdc_replica_identity DISABLE");
    try {
      psql(asApp(), "CREATE TABLE sale.unprotected (note text); INSERT INTO sale.unprotected VALUES ('a')");
      const update = psqlTry(asApp(), "UPDATE sale.unprotected SET note = 'b'");
      expect(update.status).not.toBe(0);
      expect(update.stderr).toContain("does not have a replica identity and publishes updates");
    } finally {
      psql(superuser(), "ALTER EVENT TRIGGER nx_cdc_replica_identity ENABLE");
    }
  });
});
