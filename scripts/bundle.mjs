// Runs a command's TypeScript entry from one bundled file instead of its ~550 modules, with V8's
// code cache of what the last run compiled: resolving, linking and instantiating that many ES
// modules, and compiling each function a run calls, is most of a short run's time, and Node's
// compile cache removes neither (it keeps only what is compiled before a module runs;
// docs/speed.md).
//
// The bundle is a cache, never a second source. A bundle is named by the content of every file
// that went into it (esbuild's list of inputs, both lockfiles and this file), so it is used only
// where each of those files is as it was; V8 itself refuses a code cache made for other source or
// flags. Each checkout keeps the list of its current bundle's files with their size and mtime, so
// that an unchanged checkout is checked with a `stat` per file, as Git finds a changed file (same
// size and mtime, or else the same content). A checkout whose files changed looks for a bundle
// made from files like its own (another branch's, another checkout's) before it bundles anew.
// NX_NO_BUNDLE=1 runs the sources directly, e.g. for a stack trace that names the source lines.
import { hash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
/** Inputs of every bundle besides its modules: what is installed, and how bundles are built. */
const lockfiles = ["package-lock.json", "node_modules/.package-lock.json", relative(root, fileURLToPath(import.meta.url))];
/** Bundles kept besides those checkouts use: switching branches back and forth bundles nothing. */
const spareBundles = 4;
const absent = "";

/**
 * Imports the module at `entryUrl` (a file of this project) from its bundle, made first if
 * needed: runs it, and gives its exports.
 */
export async function importBundled(entryUrl) {
  if (process.env.NX_NO_BUNDLE) return import(entryUrl);
  const entry = relative(root, fileURLToPath(entryUrl));
  const dir = join(root, "node_modules", ".cache", "nx-bundles", entry.replace(/\.ts$/, "").split(sep).join("-"));
  const checkout = join(dir, `checkout-${hash("sha1", root).slice(0, 12)}.json`);
  const key = current(checkout) ?? matching(dir, checkout) ?? (await build(entry, dir, checkout));
  let source;
  try {
    source = key && readFileSync(join(dir, `${key}.cjs`), "utf8");
  } catch {
    // Removed by a run that pruned it between our check and this read.
  }
  // Without a bundle (esbuild missing or refusing the sources), the sources run as they are and
  // report their own errors.
  if (source === undefined) return import(entryUrl);
  return run(join(dir, `${key}.cjs`), source);
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
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __nxOwnFile) {${source}\n})`, {
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
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle), (path) => join(root, path));
  return module.exports;
}

// ---------------------------------------------------------------------------------------------
// Which bundle: an input is named the same in every checkout (its path in the project, or in
// node_modules, which test copies of the project link to the repository's).

const nodeModules = (() => {
  try {
    return realpathSync(join(root, "node_modules"));
  } catch {
    return join(root, "node_modules");
  }
})();

/** An input's name in any checkout, from its path in this one. */
function inputName(file) {
  if (file.startsWith(nodeModules + sep)) return `node_modules/${relative(nodeModules, file).split(sep).join("/")}`;
  return relative(root, file).split(sep).join("/");
}

/** An input's file in this checkout. */
const inputFile = (name) => (name.startsWith("node_modules/") ? join(nodeModules, name.slice("node_modules/".length)) : join(root, name));

/** `[name, file, size, mtimeMs, sha1]` of an input; a lockfile may be absent (a copy of the project without one). */
function fingerprint(name) {
  const file = inputFile(name);
  try {
    const stat = statSync(file);
    return [name, file, stat.size, stat.mtimeMs, hash("sha1", readFileSync(file))];
  } catch {
    return [name, file, -1, 0, absent];
  }
}

/** A bundle's name: the digest of its inputs' names and contents. */
const bundleKey = (inputs) => hash("sha1", JSON.stringify(inputs.map(([name, , , , digest]) => [name, digest]).sort())).slice(0, 20);

const readJson = (path) => {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
};

/** This checkout's bundle, when each of its inputs has the size and mtime, or else the content, it had. */
function current(checkout) {
  const manifest = readJson(checkout);
  if (manifest === undefined) return undefined;
  for (const [, file, size, mtimeMs, digest] of manifest.inputs) {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      if (digest === absent) continue;
      return undefined;
    }
    if (stat.size === size && stat.mtimeMs === mtimeMs) continue;
    if (stat.size !== size || hash("sha1", readFileSync(file)) !== digest) return undefined;
  }
  return manifest.bundle;
}

/** A bundle made, here or in another checkout, from files with the content this checkout's have. */
function matching(dir, checkout) {
  const known = new Map();
  for (const { key } of bundlesByRecency(dir)) {
    const names = readJson(join(dir, `${key}.inputs.json`));
    if (names === undefined || !existsSync(join(dir, `${key}.cjs`))) continue;
    const inputs = names.map((name) => known.get(name) ?? known.set(name, fingerprint(name)).get(name));
    if (bundleKey(inputs) !== key) continue;
    writeAtomically(checkout, JSON.stringify({ root, bundle: key, inputs }));
    try {
      const now = new Date();
      utimesSync(join(dir, `${key}.inputs.json`), now, now);
    } catch {
      // Pruned meanwhile: the bundle was read or is gone, either way it is found anew next time.
    }
    return key;
  }
  return undefined;
}

async function build(entry, dir, checkout) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    return undefined;
  }
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [join(root, entry)],
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
  const names = [...Object.keys(result.metafile.inputs).map((path) => inputName(join(root, path))), ...lockfiles];
  const inputs = names.map(fingerprint);
  const key = bundleKey(inputs);
  mkdirSync(dir, { recursive: true });
  // Written under a temporary name and renamed: a run started meanwhile sees the old bundle or the
  // new one, whole, never a part.
  writeAtomically(join(dir, `${key}.cjs`), result.outputFiles[0].text);
  writeAtomically(join(dir, `${key}.inputs.json`), JSON.stringify(names));
  writeAtomically(checkout, JSON.stringify({ root, bundle: key, inputs }));
  prune(dir);
  return key;
}

/**
 * A project file's own location where it asks for it (`import.meta.url`, `.dirname`,
 * `.filename`), as the checkout running the bundle has it: in the bundle it would be the bundle's.
 * Any other use of `import.meta` refuses the bundle (CommonJS has none).
 */
const ownLocation = {
  name: "own-location",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (args.path.includes(`${sep}node_modules${sep}`) || !source.includes("import.meta")) return undefined;
      const own = `__nxOwnFile(${JSON.stringify(relative(root, args.path).split(sep).join("/"))})`;
      const contents = source
        .replaceAll("import.meta.url", `require("node:url").pathToFileURL(${own}).href`)
        .replaceAll("import.meta.dirname", `require("node:path").dirname(${own})`)
        .replaceAll("import.meta.filename", own);
      if (contents.includes("import.meta")) throw new Error(`${args.path}: import.meta has no meaning in the bundle`);
      return { contents, loader: "ts" };
    });
  },
};

/** The bundles in `dir`, the most recently made or used first. */
function bundlesByRecency(dir) {
  return listing(dir)
    .filter((f) => f.endsWith(".inputs.json"))
    .map((f) => {
      try {
        return { key: f.slice(0, -".inputs.json".length), at: statSync(join(dir, f)).mtimeMs };
      } catch {
        return { key: f, at: 0 }; // removed meanwhile
      }
    })
    .sort((a, b) => b.at - a.at);
}

function listing(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function writeAtomically(path, text) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** Checkouts that are gone (test copies of the project, mostly), and bundles no checkout uses beyond the spare ones. */
function prune(dir) {
  const used = new Set();
  for (const file of listing(dir).filter((f) => f.startsWith("checkout-"))) {
    const manifest = readJson(join(dir, file));
    if (manifest !== undefined && existsSync(join(manifest.root, "package.json"))) used.add(manifest.bundle);
    else rmSync(join(dir, file), { force: true });
  }
  const spare = bundlesByRecency(dir)
    .filter(({ key }) => !used.has(key))
    .slice(spareBundles);
  for (const { key } of spare) for (const suffix of [".inputs.json", ".cjs", ".cjs.v8"]) rmSync(join(dir, `${key}${suffix}`), { force: true });
}

