// The replica's rendered staging scripts on real servers: the first clone (base backup through the
// replica's slot), streaming, a restart, a rotated replication password, and a promotion that
// survives the next restart.
//
// The whole scenario runs on Debian's PostgreSQL (15 here), primary and replica alike: the client
// tools on this machine are Debian's, and pg_basebackup 15 refuses to clone a 17 server, while the
// npm package with PostgreSQL 17 carries no pg_basebackup. The primary is made by its own rendered
// init container through one shim (while Debian's is older than 17): 15's initdb lacks the builtin
// locale provider (new in 17), so the shim below swaps those two flags for the libc C.UTF-8 locale
// and passes everything else on. Everything else (the scripts, pg_hba.conf, the server arguments,
// the setup SQL) is as rendered.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { primaryHost } from "../generator/components/postgres.ts";
import { staging } from "../generator/config/staging.ts";
import {
  configMapFiles,
  containerEnv,
  debianBin,
  type Login,
  mountedLocally,
  podEnv,
  postgresInstall,
  psql,
  removeWorkdir,
  renderedPostgres,
  replicaRequirements,
  type RunningServer,
  runAsPostgres,
  runScript,
  startPostgres,
  stopAll,
  subdir,
  waitFor,
  workdir,
} from "./support/postgres.ts";
import { freePort, serverSuite } from "./support/servers.ts";

const { users, database } = staging.postgres;
const secrets = {
  "nx-postgresql-superuser-secret": "super pw",
  "nx-postgresql-app-secret": "app pw",
  "nx-postgresql-replication-secret": "repl:pw\\1",
  "nx-postgresql-debezium-secret": "dbz pw",
};
const rotated = { ...secrets, "nx-postgresql-replication-secret": "rotated:pw\\2" };

const rendered = renderedPostgres(staging);
const primarySpec = rendered.primary;
const replicaSpec = rendered.replica;
const setup = rendered.setupJob;
const initReplica = replicaSpec.initContainers[0];
const renderedPassfile = containerEnv(initReplica, secrets, { POD_NAME: "-" }).PGPASSFILE!;

// Debian's major version; from 17 on its initdb takes the image's flags as they are.
const needsShim = debianBin !== undefined && Number(basename(dirname(debianBin))) < 17;
const initdbShim = `#!/bin/sh
# PostgreSQL 15 stands in for 17 here; its initdb lacks --locale-provider=builtin and
# --builtin-locale (17). Those become --locale=<the same locale>; every other flag passes unchanged.
for arg; do
  shift
  case "$arg" in
    --locale-provider=builtin) ;;
    --builtin-locale=*) set -- "$@" "--locale=\${arg#--builtin-locale=}" ;;
    *) set -- "$@" "$arg" ;;
  esac
done
exec "${debianBin}/initdb" "$@"
`;

serverSuite("PostgreSQL replica: the rendered init container, streaming, rotation and a durable promotion", replicaRequirements, postgresInstall, () => {
  let dir: string;
  let setupDir: string;
  let primaryData: string;
  let replicaData: string;
  let passfile: string;
  let primaryPort: number;
  let replicaPort: number;
  let primary: RunningServer | undefined;
  let replica: RunningServer | undefined;
  let starts = 0;
  const login = (port: number, user: string, password: string): Login => ({ port, user, password, database });
  const superuser = (port: number) => login(port, users.superuser, secrets["nx-postgresql-superuser-secret"]);
  const app = (port: number) => login(port, users.app, secrets["nx-postgresql-app-secret"]);
  const inRecovery = () => psql(superuser(replicaPort), "SELECT pg_is_in_recovery()");

  const replicaArgs = (): string[] =>
    replicaSpec.containers[0].args.map((arg: string) =>
      arg.startsWith("primary_conninfo=")
        ? arg.replace(`host=${primaryHost(staging)} `, "host=127.0.0.1 ").replace("port=5432 ", `port=${primaryPort} `).replace(renderedPassfile, passfile)
        : arg,
    );
  const runReplicaInit = (secretValues: Record<string, string>, path: readonly string[] = [debianBin!]) =>
    runScript(initReplica.command[2], podEnv(path, dir, containerEnv(initReplica, secretValues, {
      PGDATA: replicaData,
      PRIMARY_HOST: "127.0.0.1",
      PRIMARY_PORT: String(primaryPort),
      PGPASSFILE: passfile,
      POD_NAME: "nx-postgresql-replica-0",
    })));
  const startReplica = async () => {
    starts += 1;
    replica = await startPostgres("replica", {
      bin: debianBin!,
      pgdata: replicaData,
      args: replicaArgs(),
      port: replicaPort,
      socketDir: subdir(dir, "replica-socket"),
      log: join(dir, `replica-${starts}.log`),
      env: podEnv([debianBin!], dir, { PGDATA: replicaData }),
    });
  };
  /** A row written on the primary shows up on the replica. */
  const streams = async (marker: string) => {
    psql(app(primaryPort), `INSERT INTO public.marks VALUES ('${marker}')`);
    await waitFor(`${marker} to reach the replica`, () => psql(app(replicaPort), `SELECT count(*) FROM public.marks WHERE mark = '${marker}'`) === "1");
  };

  beforeAll(async () => {
    dir = workdir("nx-pg-replica-");
    setupDir = configMapFiles(dir, rendered.setupConfig);
    primaryData = join(subdir(dir, "primary-volume"), "pgdata");
    replicaData = join(subdir(dir, "replica-volume"), "pgdata");
    passfile = join(subdir(dir, "replica-auth"), "replication.pgpass");
    [primaryPort, replicaPort] = [await freePort(), await freePort()];

    const shims = subdir(dir, "shims");
    writeFileSync(join(shims, "initdb"), initdbShim);
    chmodSync(join(shims, "initdb"), 0o755);
    const initPrimary = primarySpec.initContainers[0];
    const init = runScript(mountedLocally(initPrimary.command[2], initPrimary, "setup", setupDir), podEnv(needsShim ? [shims, debianBin!] : [debianBin!], dir, containerEnv(initPrimary, secrets, { PGDATA: primaryData })));
    expect(init.status, init.stderr).toBe(0);
    primary = await startPostgres("primary", {
      bin: debianBin!,
      pgdata: primaryData,
      args: primarySpec.containers[0].args,
      port: primaryPort,
      socketDir: subdir(dir, "primary-socket"),
      log: join(dir, "primary.log"),
      env: podEnv([debianBin!], dir, { PGDATA: primaryData }),
    });
    psql(app(primaryPort), "CREATE TABLE public.marks (mark text PRIMARY KEY)");
  });

  afterAll(async () => {
    await stopAll();
    removeWorkdir(dir);
  });

  it("first start: the init container clones the primary through the replica's slot, and the replica streams", async () => {
    const result = runReplicaInit(secrets);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(replicaData, "standby.signal"))).toBe(true);
    expect(existsSync(`${replicaData}.partial`)).toBe(false);
    const autoConf = readFileSync(join(replicaData, "postgresql.auto.conf"), "utf8");
    expect(autoConf).toContain("primary_slot_name = 'nx_postgresql_replica_0'");
    expect(autoConf).not.toContain("password=");

    await startReplica();
    expect(inRecovery()).toBe("t");
    await streams("first");
    expect(psql(superuser(primaryPort), "SELECT active FROM pg_replication_slots WHERE slot_name = 'nx_postgresql_replica_0'")).toBe("t");
  });

  it("a restart: no second clone, and the replica comes back as a standby that streams", async () => {
    await replica!.stop();
    const spies = subdir(dir, "spies");
    writeFileSync(join(spies, "pg_basebackup"), `#!/bin/sh\necho "pg_basebackup $*" >&2\nexit 1\n`);
    chmodSync(join(spies, "pg_basebackup"), 0o755);
    const result = runReplicaInit(secrets, [spies, debianBin!]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("pg_basebackup");

    await startReplica();
    expect(inRecovery()).toBe("t");
    await streams("after restart");
  });

  it("a rotated replication password: the setup Job applies it, and the replica's restart streams with it", async () => {
    const job = runScript(mountedLocally(setup.command[2], setup, "setup", setupDir), podEnv([debianBin!], dir, containerEnv(setup, rotated, { PGHOST: "127.0.0.1", PGPORT: String(primaryPort) })));
    expect(job.status, job.stderr).toBe(0);

    await replica!.stop();
    const result = runReplicaInit(rotated);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(passfile, "utf8")).toBe("*:*:*:repl_user:rotated\\:pw\\\\2\n");
    await startReplica();
    await streams("after rotation");
    expect(psql(superuser(primaryPort), "SELECT usename || ' ' || state FROM pg_stat_replication")).toBe(`${users.replication} streaming`);
  });

  it("a promoted replica stays a primary across its next restart (the init container never writes standby.signal again)", async () => {
    runAsPostgres(join(debianBin!, "pg_ctl"), ["-D", replicaData, "-w", "promote"], podEnv([debianBin!], dir, {}));
    await waitFor("the promotion", () => inRecovery() === "f");
    psql(app(replicaPort), "INSERT INTO public.marks VALUES ('written on the promoted replica')");

    await replica!.stop();
    const result = runReplicaInit(secrets);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(replicaData, "standby.signal"))).toBe(false);
    await startReplica();
    expect(inRecovery()).toBe("f");
    expect(psql(app(replicaPort), "SELECT count(*) FROM public.marks WHERE mark = 'written on the promoted replica'")).toBe("1");
    await primary!.stop();
  });
});
