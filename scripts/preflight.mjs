// Runs before any TypeScript of the project, in plain JavaScript, so that an old Node or a clone
// without `npm ci` gets a sentence saying what to do instead of a stack trace (an old Node cannot
// even read a .ts file). npm scripts load it with `node --import ./scripts/preflight.mjs`; the
// command-line entries import it first too, for direct `node generator/cli.ts` runs.
import { existsSync, readFileSync } from "node:fs";
import nodeModule from "node:module"; // not by name: Node 20 has no enableCompileCache, and the import would fail before the checks
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

// Node runs TypeScript without flags from 22.18 (and 23.6) on.
const [major, minor] = process.versions.node.split(".").map(Number);
const strips = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);

/** The project's dependencies that are not installed. */
const missing = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter(
  (name) => !existsSync(join(root, "node_modules", name, "package.json")),
);

function fail(lines) {
  process.stderr.write(`${lines.join("\n")}\n`);
  process.exit(1);
}

if (!strips) {
  fail([
    `error: this is Node ${process.version} (${process.execPath}); the project needs Node 22.18 or newer, which runs its TypeScript directly.`,
    missing.length
      ? "  Run `npm ci` in the project: it installs the project's own Node 24, which every `npm run ...` then uses."
      : "  Use `npm run <script>`: npm scripts run on the project's own Node 24 (installed by `npm ci`).",
    "  Or install Node 24 yourself, e.g. `nvm install` (it reads .nvmrc).",
  ]);
}
if (missing.length) {
  fail([
    `error: the project's dependencies are not installed (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? `, and ${missing.length - 3} more` : ""} missing from ${join(root, "node_modules")}).`,
    `  Run \`npm ci\` in ${root}, then run the command again.`,
  ]);
}

// Ready to run. Node's compile cache keeps, for the next run, the compiled code of every module and
// the stripped text of every TypeScript file. Turned on here, before an npm script's .ts entry is
// read, the entry is cached too and Node need not load its TypeScript stripper (~100 ms) at all.
// It lives in the project (node_modules/.cache): one place per checkout, which a cleaned temp
// folder does not empty and `npm ci` starts afresh. NODE_COMPILE_CACHE=dir still chooses another,
// and NODE_DISABLE_COMPILE_CACHE=1 turns it off, as Node documents.
nodeModule.enableCompileCache?.(process.env.NODE_COMPILE_CACHE ? undefined : join(root, "node_modules", ".cache", "node-compile-cache"));
