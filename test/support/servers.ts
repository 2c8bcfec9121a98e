// Real servers for the tests that run the layer's scripts against them (PostgreSQL, PgBouncer,
// Redis), on loopback only. A server that is not installed is never a silent pass: under CI
// (`CI=true`, where .ci/run installs them) the suite fails; elsewhere it is skipped, and the
// skip names the missing binary and how to install it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { describe } from "vitest";
import { scratchRoot } from "./scratch.ts";

/** The first of `candidates` (absolute paths, or names looked up on the PATH) that exists. */
export function findBinary(...candidates: string[]): string | undefined {
  for (const candidate of candidates) {
    if (candidate.includes("/")) {
      if (existsSync(candidate)) return candidate;
      continue;
    }
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (dir && existsSync(join(dir, candidate))) return join(dir, candidate);
    }
  }
  return undefined;
}

/** A real-server suite: runs when every binary is found; otherwise fails under CI, else skips. */
export function serverSuite(
  title: string,
  binaries: Record<string, string | undefined>,
  install: string,
  body: () => void,
): void {
  const missing = Object.entries(binaries)
    .filter(([, path]) => path === undefined)
    .map(([name]) => name);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const reason = `${missing.join(", ")} not found (install: ${install})`;
  if (process.env.CI === "true") {
    describe(title, () => {
      throw new Error(`real-server suite cannot run: ${reason}`);
    });
    return;
  }
  describe.skip(`${title} [skipped: ${reason}]`, body);
}

/**
 * A scenario on servers of its own, run at the same time as its sibling scenarios: its tests run
 * in order, and most of their time is the servers' own timers and child processes.
 */
export function concurrentScenario(title: string, body: () => void): void {
  // A suite's tests inherit its concurrency: the inner, unnamed suite puts them back in order.
  describe(title, { concurrent: true }, () => {
    describe("", { concurrent: false }, body);
  });
}

/** A new folder for one suite's servers (see scratch.ts). */
export const scratchDir = (prefix: string): string => mkdtempSync(join(scratchRoot, prefix));

/** A TCP port nobody listens on right now, on `host` (loopback). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Runs a command to completion; throws with its output when it fails. */
export function mustRun(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", ...options, env: options.env ?? process.env });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}
