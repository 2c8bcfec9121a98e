// Running the rendered containers' commands as local processes: their environment and `$(VAR)`
// expansion as the kubelet builds them, commands run to their end without blocking the event
// loop, polling, free addresses.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { findBinary, freePort, serverSuite } from "./servers.ts";

/** `$(VAR)` references expanded as the kubelet does: `$$` is a literal `$`, unknown names stay. */
export function kubeletExpand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) =>
    match === "$$" ? "$" : name !== undefined && name in env ? env[name]! : match,
  );
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), without blocking the event loop. */
export function run(argv: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A random /24 of 127/8 for one suite's pod addresses, clear of other suites running at the same time. */
export const loopbackSubnet = () => `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}`;

/** `argv` in a private mount namespace (`unshare`) whose /etc/hosts is `hostsFile`: the pods' DNS. */
export const withHostsFile = (unshare: string, hostsFile: string, argv: string[]) => [
  unshare, "--map-root-user", "--mount", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, ...argv,
];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it holds; after `attempts` fails with `what` and `details()`. */
export async function waitFor(what: string, check: () => Promise<boolean>, details: () => string, attempts = 100, everyMs = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}\n${details()}`);
}

/** The binaries a local Redis cluster runs on (Debian's redis-server; unshare for the pods' DNS). */
export const redisBinaries = {
  server: findBinary("/usr/bin/redis-server", "redis-server"),
  cli: findBinary("/usr/bin/redis-cli", "redis-cli"),
  unshare: findBinary("unshare"),
};

/** A suite of Redis pods as local processes, skipped, naming what to install, when a binary is missing. */
export function redisClusterSuite(title: string, body: () => void): void {
  serverSuite(title, { "redis-server": redisBinaries.server, "redis-cli": redisBinaries.cli, unshare: redisBinaries.unshare }, "apt-get install redis-server (unshare is in util-linux)", body);
}

/** redis-server's cluster bus listens on its port + 10000 (`cluster-port 0`). */
export const clusterBusOffset = 10_000;

/**
 * A port free, with its cluster bus port, on every one of `addresses`: `preferred` (the rendered
 * one) when it is, else a free one found by trying.
 */
export async function redisClusterPort(addresses: readonly string[], preferred: number): Promise<number> {
  const free = async (p: number) =>
    p + clusterBusOffset <= 65_535 && (await Promise.all(addresses.flatMap((a) => [canListen(a, p), canListen(a, p + clusterBusOffset)]))).every(Boolean);
  let port = preferred;
  for (let attempt = 0; !(await free(port)); attempt++) {
    if (attempt === 20) throw new Error(`no port with a free bus port on ${addresses[0]}`);
    port = await freePort(addresses[0]!);
  }
  return port;
}

export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}

/** A rendered container, as far as running it locally needs. */
export interface Container {
  command: string[];
  args?: string[];
  env: EnvVar[];
  readinessProbe: { exec: { command: string[] } };
  livenessProbe: { exec: { command: string[] } };
}

/**
 * The container's environment as the kubelet builds it: plain values, the pod's fields
 * (`metadata.name`, `status.podIP`) and Secret keys, by Secret name and key.
 */
export function containerEnv(
  c: Pick<Container, "env">,
  fields: Record<string, string>,
  secrets: Record<string, Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of c.env) {
    const from = v.valueFrom;
    const secret = from?.secretKeyRef;
    const value = v.value ?? (from?.fieldRef ? fields[from.fieldRef.fieldPath] : secret ? secrets[secret.name]?.[secret.key] : undefined);
    if (value === undefined) throw new Error(`the test cannot provide env ${v.name} of the container`);
    env[v.name] = value;
  }
  return env;
}
