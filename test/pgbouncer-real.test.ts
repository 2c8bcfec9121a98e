// PgBouncer's rendered staging config on a real PgBouncer (Debian's 1.18; the image runs 1.24) in
// front of a real PostgreSQL 17 made by the primary's rendered init container: the ini loads, the
// generated userlist logs the application user in with SCRAM, the superuser is refused, the admin
// console has its own user, each schema's database lands clients in that schema, and the per-user
// cap holds across those databases. Everything listens on 127.0.0.1 at free ports.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pgbouncer } from "../generator/components/pgbouncer/index.ts";
import { deploymentOf, schemaDatabase } from "../generator/components/pgbouncer/deployment.ts";
import { primaryHost, statefulSetsOf } from "../generator/components/postgres/statefulsets.ts";
import type { Environment } from "../generator/config/types.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, stagingWith } from "./support/config.ts";
import {
  configMapFiles,
  containerEnv,
  debianBin,
  type Login,
  mountedLocally,
  pg17Bin,
  pgReady,
  podEnv,
  postgresInstall,
  postgresRequirements,
  psql,
  psqlTry,
  removeWorkdir,
  renderedPostgres,
  runScript,
  startPostgres,
  startProcess,
  stopAll,
  subdir,
  waitFor,
  workdir,
} from "./support/postgres.ts";
import { findBinary, freePort, serverSuite } from "./support/servers.ts";

const pgbouncerBinary = findBinary("pgbouncer", "/usr/sbin/pgbouncer");
const pgbouncerVersion = (pgbouncerBinary ? /PgBouncer (\d+)\.(\d+)/.exec(spawnSync(pgbouncerBinary, ["--version"], { encoding: "utf8" }).stdout) : null)
  ?.slice(1)
  .map(Number);
// track_extra_parameters exists from 1.20 on (pgbouncer NEWS.md, 1.20.0); older ones refuse to start with it.
const beforeTrackExtraParameters = pgbouncerVersion !== undefined && (pgbouncerVersion[0]! < 1 || (pgbouncerVersion[0] === 1 && pgbouncerVersion[1]! < 20));
const { users, database } = staging.postgres;
const admin = deploymentOf(staging).adminUser;
const secrets = {
  "nx-postgresql-superuser-secret": "super pw",
  "nx-postgresql-app-secret": 'app "quoted" pw',
  "nx-postgresql-replication-secret": "repl pw",
  "nx-postgresql-debezium-secret": "dbz pw",
  "nx-pgbouncer-admin-secret": "console pw",
};

function rendered(env: Environment) {
  const objects = pgbouncer(env).map((o) => plain<any>(o));
  const ini: string = objects.find((o) => o.kind === "ConfigMap").data["pgbouncer.ini"];
  const userlist = objects.find((o) => o.kind === "Deployment").spec.template.spec.initContainers[0];
  return { ini, userlist };
}

/** `text` with `from` replaced; a `from` that is not there fails (the test would prove nothing). */
function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`rendered text has no ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

/** Sends a bare StartupMessage and returns the server's first answer (no authentication needed to be refused). */
function startupAnswer(port: number, parameters: Record<string, string>): Promise<string> {
  const body = Buffer.concat([
    ...Object.entries(parameters).flatMap(([k, v]) => [Buffer.from(`${k}\0`), Buffer.from(`${v}\0`)]),
    Buffer.from("\0"),
  ]);
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + body.length, 0);
  header.writeInt32BE(196608, 4); // protocol 3.0
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(Buffer.concat([header, body])));
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer to the startup message")));
    socket.once("data", (data) => {
      socket.end();
      resolve(`${String.fromCharCode(data[0]!)} ${data.subarray(5).toString("utf8").replaceAll("\0", " ")}`);
    });
    socket.once("error", reject);
  });
}

serverSuite(
  "PgBouncer: the rendered pgbouncer.ini and userlist on a real PgBouncer before a real PostgreSQL 17",
  { ...postgresRequirements, pgbouncer: pgbouncerBinary },
  `${postgresInstall}; apt-get install pgbouncer`,
  () => {
    let dir: string;
    let setupDir: string;
    let pgPort: number;
    let poolerPort: number;
    let authDir: string;
    const viaPooler = (user: string, password: string, db = database, port = poolerPort): Login => ({ port, user, password, database: db });
    const app = (db = database, password = secrets["nx-postgresql-app-secret"]) => viaPooler(users.app, password, db);
    const direct = (): Login => ({ port: pgPort, user: statefulSetsOf(staging).superuser, password: secrets["nx-postgresql-superuser-secret"], database });

    const writeUserlist = (secretValues: Record<string, string>) => {
      const { userlist } = rendered(staging);
      const result = runScript(replaced(userlist.command[2], "/etc/pgbouncer/auth", authDir), podEnv([], dir, containerEnv(userlist, secretValues)));
      expect(result.status, result.stderr).toBe(0);
    };
    /** Starts PgBouncer on the rendered ini of `env`, pointed at the local server. */
    const startPooler = async (name: string, env: Environment, port: number, extra = "") => {
      let ini = replaced(rendered(env).ini, `host=${primaryHost(env)} port=5432 `, `host=127.0.0.1 port=${pgPort} `);
      ini = replaced(ini, "listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1");
      ini = replaced(ini, "listen_port = 6432", `listen_port = ${port}`);
      ini = replaced(ini, "/etc/pgbouncer/auth/userlist.txt", join(authDir, "userlist.txt"));
      // Local only: no Unix socket in the shared /tmp.
      const path = join(dir, `${name}.ini`);
      writeFileSync(path, `${ini}unix_socket_dir =\n${extra}`);
      return startProcess(name, pgbouncerBinary!, [path], {
        env: podEnv([], dir, {}),
        log: join(dir, `${name}.log`),
        port,
        isReady: () => pgReady(port),
      });
    };

    beforeAll(async () => {
      dir = workdir("nx-pgbouncer-");
      authDir = subdir(dir, "auth");
      [pgPort, poolerPort] = [await freePort(), await freePort()];
      const pgdata = join(subdir(dir, "volume"), "pgdata");
      const postgres = renderedPostgres(staging);
      setupDir = configMapFiles(dir, postgres.setupConfig);
      const init = postgres.primary.initContainers[0];
      const result = runScript(mountedLocally(init.command[2], init, "setup", setupDir), podEnv([pg17Bin, debianBin!], dir, containerEnv(init, secrets, { PGDATA: pgdata })));
      expect(result.status, result.stderr).toBe(0);
      await startPostgres("postgres 17", {
        bin: pg17Bin,
        pgdata,
        args: postgres.primary.containers[0].args,
        port: pgPort,
        socketDir: subdir(dir, "socket"),
        log: join(dir, "postgres.log"),
        env: podEnv([pg17Bin], dir, { PGDATA: pgdata }),
      });
      writeUserlist(secrets);
      await startPooler("pgbouncer", staging, poolerPort);
    });

    afterAll(async () => {
      await stopAll();
      removeWorkdir(dir);
    });

    it(`loads on this PgBouncer (${pgbouncerVersion?.join(".")}; the image runs 1.24), with no setting 1.18 lacks`, () => {
      expect(psql(app(), "SELECT 1")).toBe("1");
      expect(rendered(staging).ini).not.toContain("track_extra_parameters");
    });

    it.runIf(beforeTrackExtraParameters)("on PgBouncer before 1.20 the old track_extra_parameters line is fatal: the old ini could not load", async () => {
      const old = await startPooler("old", staging, await freePort(), "track_extra_parameters = IntervalStyle, search_path\n").then(
        () => "started",
        (err: Error) => err.message,
      );
      expect(old).toContain("unknown parameter: pgbouncer/track_extra_parameters");
    });

    it("logs the application user in with SCRAM from the generated userlist (a quote in the password included)", () => {
      expect(psql(app(), "SELECT current_user")).toBe(users.app);
      const wrong = psqlTry(app(database, "not the password"), "SELECT 1");
      expect(wrong.status).not.toBe(0);
      expect(wrong.stderr).toContain("SASL authentication failed");
    });

    it("refuses the superuser, with the very password that logs it in directly", () => {
      expect(psql(direct(), "SELECT current_user")).toBe(statefulSetsOf(staging).superuser);
      const pooled = psqlTry(viaPooler(statefulSetsOf(staging).superuser, secrets["nx-postgresql-superuser-secret"]), "SELECT 1");
      expect(pooled.status).not.toBe(0);
      // PgBouncer runs a fake SCRAM exchange for users it does not know: the same answer as a wrong password.
      expect(pooled.stderr).toContain("SASL authentication failed");
    });

    it("keeps the admin console for its own user, who is no database login", () => {
      expect(psql(viaPooler(admin, secrets["nx-pgbouncer-admin-secret"], "pgbouncer"), "SHOW DATABASES")).toContain(schemaDatabase(staging, "sale"));
      const asDatabaseLogin = psqlTry(viaPooler(admin, secrets["nx-pgbouncer-admin-secret"]), "SELECT 1");
      expect(asDatabaseLogin.status).not.toBe(0);
      expect(asDatabaseLogin.stderr).toMatch(/role "nx_pgbouncer_admin" does not exist|pg_hba\.conf rejects connection/);
    });

    it("lands each schema's database in its schema, through transaction pooling", () => {
      expect(psql(app(), "SHOW search_path")).toBe('"$user", public');
      for (const schema of ["pricing", "sale"]) {
        const db = schemaDatabase(staging, schema);
        expect(psql(app(db), "SHOW search_path")).toBe(`${schema}, public`);
        psql(app(db), `CREATE TABLE landed_${schema} (id int PRIMARY KEY); INSERT INTO landed_${schema} VALUES (1)`);
        // Another client, another transaction, on whichever server connection the pool gives it.
        expect(psql(app(db), `SELECT count(*) FROM landed_${schema}`)).toBe("1");
        expect(psql(direct(), `SELECT to_regclass('${schema}.landed_${schema}') IS NOT NULL`)).toBe("t");
      }
      expect(psql(direct(), "SELECT to_regclass('public.landed_pricing') IS NULL AND to_regclass('public.landed_sale') IS NULL")).toBe("t");
    });

    it("refuses a client's own search_path (startup parameter or options), instead of silently dropping it", async () => {
      expect(await startupAnswer(poolerPort, { user: users.app, database, search_path: "sale" })).toMatch(/^E .*unsupported startup parameter: search_path/);
      const viaOptions = psqlTry(app(), "SHOW search_path", { PGOPTIONS: "-c search_path=sale" });
      expect(viaOptions.status).not.toBe(0);
      expect(viaOptions.stderr).toContain("unsupported startup parameter");
    });

    it("caps the application user's server connections across all schema databases (max_user_connections)", async () => {
      const port = await freePort();
      await startPooler("capped", stagingWith({ pgbouncer: { maxUserConnections: 2 } }), port);
      const schemas = ["pricing", "allocation", "inventory", "sale"];
      const appBackends = () => Number(psql(direct(), `SELECT count(*) FROM pg_stat_activity WHERE usename = '${users.app}'`));
      // The other PgBouncer keeps its idle server connections from the tests before.
      const before = appBackends();
      let most = 0;
      let done = false;
      const clients = schemas.map(
        (schema) =>
          new Promise<number | null>((resolve) => {
            const login = viaPooler(users.app, secrets["nx-postgresql-app-secret"], schemaDatabase(staging, schema), port);
            const child = spawn(join(debianBin!, "psql"), ["-X", "-h", "127.0.0.1", "-p", String(port), "-U", login.user, "-d", login.database, "-c", "SELECT pg_sleep(0.5)"], {
              env: { PGPASSWORD: login.password, PATH: "/usr/bin:/bin" },
              stdio: "ignore",
            });
            child.once("exit", resolve);
          }),
      );
      const all = Promise.all(clients).finally(() => (done = true));
      await waitFor("the four clients", () => {
        most = Math.max(most, appBackends() - before);
        return done;
      });
      expect(await all).toEqual([0, 0, 0, 0]);
      expect(most).toBe(2);
    });

    it("a rotated application password: the setup Job applies it, and the userlist written again logs in with it", () => {
      const rotated = { ...secrets, "nx-postgresql-app-secret": "rotated pw" };
      const setup = renderedPostgres(staging).setupJob;
      const job = runScript(mountedLocally(setup.command[2], setup, "setup", setupDir), podEnv([debianBin!], dir, containerEnv(setup, rotated, { PGHOST: "127.0.0.1", PGPORT: String(pgPort) })));
      expect(job.status, job.stderr).toBe(0);
      writeUserlist(rotated);
      // What the pod's restart does (its template follows the app Secret's revision): read the userlist again.
      psql(viaPooler(admin, secrets["nx-pgbouncer-admin-secret"], "pgbouncer"), "RELOAD");
      expect(psql(app(schemaDatabase(staging, "pricing"), "rotated pw"), "SELECT current_user")).toBe(users.app);
      expect(psqlTry(app(database, secrets["nx-postgresql-app-secret"]), "SELECT 1").status).not.toBe(0);
    });
  },
);
