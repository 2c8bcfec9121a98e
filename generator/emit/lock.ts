// One `generate` at a time per tree: a second run while one is writing would trip over its
// staged files. The lock is a file created exclusively in the tree's root, naming its holder; one
// left by a run that died (its process no longer exists on this host) is taken over.
import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const lockFileName = ".nx-generate.lock";

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly started: string;
}

/** Another run holds the lock; the message names it and what to do. */
export class LockHeld extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM"; // exists, owned by someone else
  }
}

/** The holder recorded in the lock file; null when it cannot be read; undefined if it is gone. */
function readHolder(path: string): Holder | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as Holder;
  } catch {
    return null;
  }
}

/**
 * Takes the lock of `root` for `command` and returns the function that releases it; throws
 * LockHeld when another live run holds it. `onStale` hears of a dead run's lock taken over.
 */
export function acquireLock(root: string, command: string, onStale: (message: string) => void): () => void {
  const path = join(root, lockFileName);
  const mine: Holder = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  // The lock appears with its content at once: written aside, then hard-linked into place, which
  // fails when the lock exists. A reader never sees a lock without its holder.
  const aside = `${path}.${process.pid}`;
  writeFileSync(aside, `${JSON.stringify(mine)}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(aside, path);
        return () => rmSync(path, { force: true });
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
      }
      const holder = readHolder(path);
      if (holder === undefined) continue; // released in the meantime
      if (holder && holder.host === mine.host && !alive(holder.pid)) {
        rmSync(path, { force: true });
        onStale(`took over the lock ${path} left by pid ${holder.pid} (${holder.command}, started ${holder.started}), which is no longer running`);
        continue;
      }
      const who = holder ? `pid ${holder.pid} on ${holder.host} (${holder.command}, started ${holder.started})` : "a run whose lock file cannot be read";
      throw new LockHeld(`another run is writing this tree: ${who} holds ${path}. Wait for it to finish and run again; if that process is gone, delete the file.`);
    }
  } finally {
    rmSync(aside, { force: true });
  }
  throw new LockHeld(`could not take the lock ${path}: other runs keep taking it; run again when they are done`);
}
