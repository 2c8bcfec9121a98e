// Stage 5: the files the generator owns, written all at once or not at all, and compared
// against what is committed for the drift check.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fg from "fast-glob";

export interface OutputFile {
  readonly path: string;
  readonly content: string;
}

/** Folders and files that belong to the generator: anything else found there is stale. */
export const ownedPatterns = [
  "base/**",
  "overlays/**",
  "argocd/**",
  "backend/**",
  "docs/network.md",
  "docs/resources.md",
  "docs/secrets.md",
  "docs/topology.md",
  "docs/waves.md",
];

export function ownedFiles(root: string): string[] {
  return fg.sync(ownedPatterns, { cwd: root, dot: true, onlyFiles: true }).sort();
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

/**
 * Writes every changed file and removes stale ones. New content is first staged next to its
 * target; only when every file is staged are they renamed into place, so a failure (disk full,
 * permissions) leaves the tree as it was.
 */
export function writeTree(root: string, files: readonly OutputFile[]): FileChanges {
  const { changed, written, unchanged, removed } = diffTree(root, files);
  const staged: string[] = [];
  try {
    for (const f of changed) {
      const target = join(root, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(`${target}.generating`, f.content);
      staged.push(target);
    }
  } catch (err) {
    for (const target of staged) rmSync(`${target}.generating`, { force: true });
    throw err;
  }
  for (const target of staged) renameSync(`${target}.generating`, target);
  for (const path of removed) {
    rmSync(join(root, path));
    removeEmptyParents(root, dirname(path));
  }
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
