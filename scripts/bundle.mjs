// Runs a command's TypeScript entry from one bundled file instead of its ~550 modules, with V8's
// code cache of what the last run compiled: resolving, linking and instantiating that many ES
// modules, and compiling each function a run calls, is most of a short run's time, and Node's
// compile cache removes neither (it keeps only what is compiled before a module runs;
// docs/speed.md). The bundle is a cache, never a second source: it is rebuilt whenever any file
// that went into it differs from when it was built, found the way Git finds a changed file (same
// size and mtime, or else the same content), with the lockfiles as inputs too, so a dependency
// installed or changed rebuilds it; V8 itself refuses a code cache made for other source or flags.
// NX_NO_BUNDLE=1 runs the sources directly, e.g. for a stack trace that names the source lines.
import { hash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Script } from "node:vm";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const absent = -1;
/** Inputs of every bundle besides its modules: what is installed, and how bundles are built. */
const lockfiles = ["package-lock.json", "node_modules/.package-lock.json", relative(root, fileURLToPath(import.meta.url))];

/**
 * Imports the module at `entryUrl` (a file of this project) from its bundle, built first if
 * needed: runs it, and gives its exports.
 */
export async function importBundled(entryUrl) {
  if (process.env.NX_NO_BUNDLE) return import(entryUrl);
  const entry = fileURLToPath(entryUrl);
  // One cache per checkout and entry: test copies of the project that share node_modules do not
  // replace each other's bundles.
  const dir = join(root, "node_modules", ".cache", "nx-bundles", `${hash("sha1", root).slice(0, 12)}-${basename(dirname(entry))}-${basename(entry, ".ts")}`);
  const bundle = current(dir) ?? (await build(entry, dir));
  let source;
  try {
    source = bundle && readFileSync(bundle, "utf8");
  } catch {
    // Replaced by a run that rebuilt it between our check and this read.
  }
  // Without a bundle (esbuild missing or refusing the sources), the sources run as they are and
  // report their own errors.
  if (source === undefined) return import(entryUrl);
  return run(bundle, source);
}

/**
 * Runs a CommonJS bundle as Node runs a module and gives its exports, from V8's code cache when
 * there is one. Without a usable one, the cache is made when a run ends well: it then holds every
 * function that run compiled, not only the top level.
 */
function run(bundle, source) {
  const codeCache = `${bundle}.v8`;
  let cachedData;
  try {
    cachedData = readFileSync(codeCache);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once("exit", (code) => {
      if (code !== 0) return;
      try {
        writeAtomically(codeCache, script.createCachedData());
      } catch {
        // A read-only cache: the next run compiles again.
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return module.exports;
}

/** The bundle in `dir` when every input is as it was when it was built. */
function current(dir) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "inputs.json"), "utf8"));
  } catch {
    return undefined;
  }
  for (const [path, size, mtimeMs, digest] of manifest.inputs) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      if (size === absent) continue;
      return undefined;
    }
    if (stat.size === size && stat.mtimeMs === mtimeMs) continue;
    if (stat.size !== size || hash("sha1", readFileSync(path)) !== digest) return undefined;
  }
  return join(dir, manifest.bundle);
}

async function build(entry, dir) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    return undefined;
  }
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: `node${process.versions.node.split(".")[0]}`,
      write: false,
      metafile: true,
      logLevel: "silent",
      plugins: [ownLocation],
    });
  } catch {
    return undefined;
  }
  const inputs = [...Object.keys(result.metafile.inputs), ...lockfiles].map(fingerprint);
  const text = result.outputFiles[0].text;
  const name = `${hash("sha1", text).slice(0, 16)}.cjs`;
  mkdirSync(dir, { recursive: true });
  // Written under a temporary name and renamed: a run started meanwhile sees the old bundle or the
  // new one, whole, never a part.
  writeAtomically(join(dir, name), text);
  writeAtomically(join(dir, "inputs.json"), JSON.stringify({ root, bundle: name, inputs }));
  for (const old of readdirSync(dir)) if (!old.startsWith(name) && old !== "inputs.json") rmSync(join(dir, old), { force: true });
  pruneRemovedCheckouts(dirname(dir));
  return join(dir, name);
}

/**
 * `[file, size, mtimeMs, sha1]` of an input (`path` relative to the project), the file absolute so
 * that checking it costs a `stat` and nothing else; a lockfile may be absent (a copy of the
 * project without one).
 */
function fingerprint(path) {
  const file = join(root, path);
  try {
    const stat = statSync(file);
    return [file, stat.size, stat.mtimeMs, hash("sha1", readFileSync(file))];
  } catch {
    return [file, absent, 0, ""];
  }
}

/**
 * A project file's own location where it asks for it (`import.meta.url`, `import.meta.dirname`):
 * in the bundle it would be the bundle's.
 */
const ownLocation = {
  name: "own-location",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (args.path.includes(`${sep}node_modules${sep}`) || !source.includes("import.meta")) return undefined;
      const contents = source
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)))
        .replaceAll("import.meta.filename", JSON.stringify(args.path));
      return { contents, loader: "ts" };
    });
  },
};

function writeAtomically(path, text) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** The bundles of checkouts that are gone (test copies of the project, mostly). */
function pruneRemovedCheckouts(cache) {
  for (const entry of readdirSync(cache)) {
    try {
      const { root: checkout } = JSON.parse(readFileSync(join(cache, entry, "inputs.json"), "utf8"));
      if (!existsSync(join(checkout, "package.json"))) rmSync(join(cache, entry), { recursive: true, force: true });
    } catch {
      // Being written, or removed meanwhile, by another run.
    }
  }
}
