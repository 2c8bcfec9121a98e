// The replica's rendered staging scripts on real servers: the first clone (base backup through the
// slot the replica makes itself), streaming, a restart, a rotated replication password, a second
// replica added later, a standby whose slot the primary invalidated, and a promotion that survives
// the next restart.
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
import { primaryHost, statefulSetsOf } from "../generator/components/postgres/statefulsets.ts";
import { staging } from "../generator/config/staging.ts";
import { stagingWith } from "./support/config.ts";
import {
  configMapFiles,
  containerEnv,
  debianBin,
  type Login,
  mountedLocally,
  podEnv,
  postgresInstall,
  postgresSecrets,
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
const secrets = postgresSecrets;
const rotated = { ...secrets, "nx-postgresql-replication-secret": "rotated:pw\\2" };

const rendered = renderedPostgres(staging);
const primarySpec = rendered.primary;
const replicaSpec = rendered.replica;
const setup = rendered.setupJob;
const initReplica = replicaSpec.initContainers[0];
const renderedPassfile = containerEnv(initReplica, secrets, { POD_NAME: "-" }).PGPASSFILE!;
// The StatefulSet once postgres.cluster.replica.replicas is raised to 2: its pods run the same spec.
const scaledReplicaSpec = renderedPostgres(stagingWith({ postgres: { cluster: { replica: { replicas: 2 } } } })).replica;

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

serverSuite("PostgreSQL replica: the rendered init container, streaming, rotation, a second replica, a lost slot and a durable promotion", replicaRequirements, postgresInstall, () => {
  /** One replica pod: its volume, its password file, its port, and the server while it runs. */
  interface ReplicaPod {
    readonly name: string;
    readonly data: string;
    readonly passfile: string;
    readonly port: number;
    readonly spec: typeof replicaSpec;
    server?: RunningServer;
  }
  let dir: string;
  let setupDir: string;
  let primaryData: string;
  let primaryPort: number;
  let primary: RunningServer | undefined;
  let replica0: ReplicaPod;
  let replica1: ReplicaPod;
  let starts = 0;
  const login = (port: number, user: string, password: string): Login => ({ port, user, password, database });
  const superuser = (port: number) => login(port, statefulSetsOf(staging).superuser, secrets["nx-postgresql-superuser-secret"]);
  const app = (port: number) => login(port, users.app, secrets["nx-postgresql-app-secret"]);
  const inRecovery = (pod: ReplicaPod) => psql(superuser(pod.port), "SELECT pg_is_in_recovery()");
  const slotOf = (pod: ReplicaPod) => `nx_postgresql_replica_${pod.name.split("-").at(-1)}`;
  /** The slot's wal_status on the primary, or "" when it has none. */
  const slotState = (pod: ReplicaPod) =>
    psql(superuser(primaryPort), `SELECT coalesce(wal_status, 'none') FROM pg_replication_slots WHERE slot_name = '${slotOf(pod)}'`);

  const newReplica = async (name: string, spec: typeof replicaSpec): Promise<ReplicaPod> => ({
    name,
    spec,
    data: join(subdir(dir, `${name}-volume`), "pgdata"),
    passfile: join(subdir(dir, `${name}-auth`), "replication.pgpass"),
    port: await freePort(),
  });
  const replicaArgs = (pod: ReplicaPod): string[] =>
    pod.spec.containers[0].args.map((arg: string) =>
      arg.startsWith("primary_conninfo=")
        ? arg.replace(`host=${primaryHost(staging)} `, "host=127.0.0.1 ").replace("port=5432 ", `port=${primaryPort} `).replace(renderedPassfile, pod.passfile)
        : arg,
    );
  const runReplicaInit = (pod: ReplicaPod, secretValues: Record<string, string> = secrets, path: readonly string[] = [debianBin!]) => {
    const init = pod.spec.initContainers[0];
    return runScript(init.command[2], podEnv(path, dir, containerEnv(init, secretValues, {
      PGDATA: pod.data,
      PRIMARY_HOST: "127.0.0.1",
      PRIMARY_PORT: String(primaryPort),
      PGPASSFILE: pod.passfile,
      POD_NAME: pod.name,
    })));
  };
  const startReplica = async (pod: ReplicaPod) => {
    starts += 1;
    pod.server = await startPostgres(pod.name, {
      bin: debianBin!,
      pgdata: pod.data,
      // After the primary's restart the standby connects again at once, not 5 s later (the
      // default); whether it keeps up is what the tests look at, not when it retries.
      args: [...replicaArgs(pod), "-c", "wal_retrieve_retry_interval=100ms"],
      port: pod.port,
      socketDir: subdir(dir, `${pod.name}-socket`),
      log: join(dir, `${pod.name}-${starts}.log`),
      env: podEnv([debianBin!], dir, { PGDATA: pod.data }),
    });
  };
  const startPrimary = async (extraArgs: readonly string[] = []) => {
    starts += 1;
    primary = await startPostgres("primary", {
      bin: debianBin!,
      pgdata: primaryData,
      args: [...primarySpec.containers[0].args, ...extraArgs],
      port: primaryPort,
      socketDir: subdir(dir, "primary-socket"),
      log: join(dir, `primary-${starts}.log`),
      env: podEnv([debianBin!], dir, { PGDATA: primaryData }),
    });
  };
  /** A row written on the primary shows up on the replica. */
  const streams = async (marker: string, pod: ReplicaPod = replica0) => {
    psql(app(primaryPort), `INSERT INTO public.marks VALUES ('${marker}')`);
    await waitFor(`${marker} to reach ${pod.name}`, () => psql(app(pod.port), `SELECT count(*) FROM public.marks WHERE mark = '${marker}'`) === "1");
  };
  /** A pg_basebackup that fails loudly if the init container calls it. */
  const noClone = () => {
    const spies = subdir(dir, "spies");
    writeFileSync(join(spies, "pg_basebackup"), `#!/bin/sh\necho "pg_basebackup $*" >&2\nexit 1\n`);
    chmodSync(join(spies, "pg_basebackup"), 0o755);
    return [spies, debianBin!];
  };

  beforeAll(async () => {
    dir = workdir("nx-pg-replica-");
    setupDir = configMapFiles(dir, rendered.setupConfig);
    primaryData = join(subdir(dir, "primary-volume"), "pgdata");
    primaryPort = await freePort();
    replica0 = await newReplica("nx-postgresql-replica-0", replicaSpec);
    replica1 = await newReplica("nx-postgresql-replica-1", scaledReplicaSpec);

    const shims = subdir(dir, "shims");
    writeFileSync(join(shims, "initdb"), initdbShim);
    chmodSync(join(shims, "initdb"), 0o755);
    const initPrimary = primarySpec.initContainers[0];
    const init = runScript(mountedLocally(initPrimary.command[2], initPrimary, "setup", setupDir), podEnv(needsShim ? [shims, debianBin!] : [debianBin!], dir, containerEnv(initPrimary, secrets, { PGDATA: primaryData })));
    expect(init.status, init.stderr).toBe(0);
    await startPrimary();
    psql(app(primaryPort), "CREATE TABLE public.marks (mark text PRIMARY KEY)");
  });

  afterAll(async () => {
    await stopAll();
    removeWorkdir(dir);
  });

  it("first start: the init container makes the replica's slot, clones the primary through it, and the replica streams", async () => {
    expect(slotState(replica0)).toBe("");
    const result = runReplicaInit(replica0);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(replica0.data, "standby.signal"))).toBe(true);
    expect(existsSync(`${replica0.data}.partial`)).toBe(false);
    const autoConf = readFileSync(join(replica0.data, "postgresql.auto.conf"), "utf8");
    expect(autoConf).toContain("primary_slot_name = 'nx_postgresql_replica_0'");
    expect(autoConf).not.toContain("password=");

    await startReplica(replica0);
    expect(inRecovery(replica0)).toBe("t");
    await streams("first");
    expect(psql(superuser(primaryPort), "SELECT active FROM pg_replication_slots WHERE slot_name = 'nx_postgresql_replica_0'")).toBe("t");
  });

  it("a restart: no second clone, and the replica comes back as a standby that streams", async () => {
    await replica0.server!.stop();
    const result = runReplicaInit(replica0, secrets, noClone());
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("pg_basebackup");

    await startReplica(replica0);
    expect(inRecovery(replica0)).toBe("t");
    await streams("after restart");
  });

  it("a rotated replication password: the setup Job applies it, and the replica's restart streams with it", async () => {
    const job = runScript(mountedLocally(setup.command[2], setup, "setup", setupDir), podEnv([debianBin!], dir, containerEnv(setup, rotated, { PGHOST: "127.0.0.1", PGPORT: String(primaryPort) })));
    expect(job.status, job.stderr).toBe(0);

    await replica0.server!.stop();
    const result = runReplicaInit(replica0, rotated);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(replica0.passfile, "utf8")).toBe("*:*:*:repl_user:rotated\\:pw\\\\2\n");
    await startReplica(replica0);
    await streams("after rotation");
    expect(psql(superuser(primaryPort), "SELECT usename || ' ' || state FROM pg_stat_replication")).toBe(`${statefulSetsOf(staging).replicationUser} streaming`);
  });

  it("replicas raised to 2: the new pod clones with no slot made for it (the setup Job has not run), streams, and its init run again changes nothing", async () => {
    expect(slotState(replica1)).toBe("");
    const result = runReplicaInit(replica1, rotated);
    expect(result.status, result.stderr).toBe(0);
    expect(slotState(replica1)).toBe("reserved");
    await startReplica(replica1);
    expect(inRecovery(replica1)).toBe("t");
    await streams("to the second replica", replica1);

    await replica1.server!.stop();
    const again = runReplicaInit(replica1, rotated, noClone());
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe("");
    expect(psql(superuser(primaryPort), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'nx_postgresql_replica_1'")).toBe("1");
  });

  it("a standby down longer than max_slot_wal_keep_size allows: its slot is lost, and its init container clones it again", async () => {
    // The primary caps the WAL a slot keeps at 32 MB (the rendered 4GB is too much to write here).
    await primary!.stop();
    await startPrimary(["-c", "max_slot_wal_keep_size=32MB"]);
    try {
      for (const n of [1, 2, 3, 4, 5]) psql(superuser(primaryPort), `INSERT INTO public.marks VALUES ('while replica 1 is down ${n}'); SELECT pg_switch_wal()`);
      await streams("replica 0 keeps up");
      psql(superuser(primaryPort), "CHECKPOINT");
      expect(slotState(replica1)).toBe("lost");
      expect(slotState(replica0)).not.toBe("lost");

      const result = runReplicaInit(replica1, rotated);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toContain("the primary invalidated replication slot nx_postgresql_replica_1");
      expect(slotState(replica1)).toBe("reserved");
      await startReplica(replica1);
      expect(inRecovery(replica1)).toBe("t");
      await streams("after the new clone", replica1);
      expect(psql(app(replica1.port), "SELECT count(*) FROM public.marks WHERE mark LIKE 'while replica 1 is down%'")).toBe("5");
    } finally {
      await replica1.server?.stop();
      await primary!.stop();
      await startPrimary();
    }
  });

  it("a promoted replica stays a primary across its next restart (the init container never writes standby.signal again)", async () => {
    runAsPostgres(join(debianBin!, "pg_ctl"), ["-D", replica0.data, "-w", "promote"], podEnv([debianBin!], dir, {}));
    await waitFor("the promotion", () => inRecovery(replica0) === "f");
    psql(app(replica0.port), "INSERT INTO public.marks VALUES ('written on the promoted replica')");

    await replica0.server!.stop();
    const result = runReplicaInit(replica0, rotated);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(replica0.data, "standby.signal"))).toBe(false);
    await startReplica(replica0);
    expect(inRecovery(replica0)).toBe("f");
    expect(psql(app(replica0.port), "SELECT count(*) FROM public.marks WHERE mark = 'written on the promoted replica'")).toBe("1");
    await primary!.stop();
  });
});
