// Stage 5: the files the generator owns, written and removed all at once or not at all, and
// compared against what is committed for the drift check.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { byCodePoint } from "../lib/order.ts";

export interface OutputFile {
  readonly path: string;
  readonly content: string;
}

/** Folders that belong to the generator as a whole, and its files elsewhere: anything else found there is stale. */
const ownedFolders = ["base", "overlays", "argocd", "backend"];
const ownedSingleFiles = ["docs/network.md", "docs/resources.md", "docs/secrets.md", "docs/topology.md", "docs/waves.md"];

/** The top-level entries the owned paths live in (`base`, `overlays`, `argocd`, `backend`, `docs`). */
export const ownedTopLevel = [...new Set([...ownedFolders, ...ownedSingleFiles.map((p) => p.split("/")[0]!)])];

/**
 * Every file of the owned folders (dot files too; anything that is not a folder counts) and the
 * owned single files that exist, relative to `root` with "/", in code-point order. A plain walk
 * with node:fs: a glob library would cost each run ~45 more modules to load.
 */
export function ownedFiles(root: string): string[] {
  const inFolders = ownedFolders.flatMap((folder) => {
    const top = join(root, folder);
    if (!existsSync(top) || !statSync(top).isDirectory()) return [];
    return readdirSync(top, { recursive: true, withFileTypes: true })
      .filter((entry) => !entry.isDirectory())
      .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"));
  });
  const single = ownedSingleFiles.filter((path) => existsSync(join(root, path)) && !statSync(join(root, path)).isDirectory());
  return [...inFolders, ...single].sort(byCodePoint);
}

export interface FileChanges {
  readonly written: string[];
  readonly unchanged: string[];
  readonly removed: string[];
}

export function diffTree(root: string, files: readonly OutputFile[]): FileChanges & { changed: OutputFile[] } {
  const planned = new Set(files.map((f) => f.path));
  const changed = files.filter((f) => {
    const target = join(root, f.path);
    return !existsSync(target) || readFileSync(target, "utf8") !== f.content;
  });
  const changedPaths = new Set(changed.map((f) => f.path));
  return {
    changed,
    written: changed.map((f) => f.path),
    unchanged: files.filter((f) => !changedPaths.has(f.path)).map((f) => f.path),
    removed: ownedFiles(root).filter((p) => !planned.has(p)),
  };
}

/** A write or removal failed and every step before it was undone: the tree is as it was. */
export class TreeUnchanged extends Error {
  /** The file the failed step was about, relative to the root. */
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, doing: string, cause: unknown) {
    const code = (cause as { code?: string }).code;
    const denied = code === "EACCES" || code === "EPERM" || code === "EROFS";
    super(`${denied ? "permission denied: " : ""}could not ${doing} ${path} (${code ?? (cause as Error).message}); nothing was changed`, { cause });
    this.path = path;
    this.code = code;
  }
}

// Suffixes of the files a run keeps beside their targets until it is done, unique to the run; a
// run that was killed leaves them in owned folders, so the next run removes them as stale.
const staging = `.generating-${process.pid}`;
const backup = `.replaced-${process.pid}`;

/**
 * Writes every changed file and removes stale ones, as one step: new content is first staged next
 * to its target; then every target that is replaced or removed is moved aside and the staged
 * files are renamed into place. If any step fails, the steps already done are undone in reverse
 * and TreeUnchanged is thrown; only once all succeeded are the moved-aside files deleted.
 */
export function writeTree(root: string, files: readonly OutputFile[]): FileChanges {
  const { changed, written, unchanged, removed } = diffTree(root, files);
  const undo: (() => void)[] = [];
  const step = (path: string, doing: string, run: () => void, revert: () => void) => {
    try {
      run();
    } catch (err) {
      const unrestored = undo.reverse().flatMap((revertStep) => {
        try {
          revertStep();
          return [];
        } catch (failed) {
          return [(failed as Error).message];
        }
      });
      if (unrestored.length > 0) {
        throw new Error(`could not ${doing} ${path} (${(err as Error).message}), and undoing the steps before it failed too: ${unrestored.join("; ")}`);
      }
      throw new TreeUnchanged(path, doing, err);
    }
    undo.push(revert);
  };
  const full = (path: string) => join(root, path);
  for (const f of changed) {
    let created: string | undefined;
    step(f.path, "create the folder of", () => (created = mkdirSync(dirname(full(f.path)), { recursive: true })), () => {
      if (created) rmSync(created, { recursive: true, force: true });
    });
    step(f.path, "write", () => writeFileSync(full(f.path) + staging, f.content), () => rmSync(full(f.path) + staging, { force: true }));
  }
  for (const f of changed) {
    if (existsSync(full(f.path))) {
      step(f.path, "replace", () => renameSync(full(f.path), full(f.path) + backup), () => renameSync(full(f.path) + backup, full(f.path)));
    }
    step(f.path, "write", () => renameSync(full(f.path) + staging, full(f.path)), () => renameSync(full(f.path), full(f.path) + staging));
  }
  for (const path of removed) {
    step(path, "remove", () => renameSync(full(path), full(path) + backup), () => renameSync(full(path) + backup, full(path)));
  }
  // Done: what was moved aside goes, and so does a folder the removals emptied.
  for (const path of [...written, ...removed]) rmSync(full(path) + backup, { force: true });
  for (const path of removed) removeEmptyParents(root, dirname(path));
  return { written, unchanged, removed };
}

/** A removed environment or namespace leaves no empty folder behind. */
function removeEmptyParents(root: string, dir: string): void {
  for (let d = dir; d !== "." && d !== ""; d = dirname(d)) {
    const full = join(root, d);
    if (!existsSync(full) || readdirSync(full).length > 0) return;
    rmdirSync(full);
  }
}
