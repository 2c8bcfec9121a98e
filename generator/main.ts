// The commands behind generator/cli.ts, one for people and CI alike: `generate` writes the tree, `check` proves it is current.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { environments } from "./config/environments.ts";
import { shortDiff } from "./emit/diff.ts";
import { diffTree, writeTree } from "./emit/files.ts";
import { generatedBy } from "./lib/generated.ts";
import { GenerationFailed } from "./lib/errors.ts";
import { buildOutput } from "./pipeline.ts";

const usage = `usage: node generator/cli.ts <generate|check> [--root DIR]
  generate   validate every object, then write all generated files (or none) and remove stale ones
  check      write nothing; exit 1 if any generated file differs from the committed one, is missing or is stale`;

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { root: { type: "string", default: "." }, help: { type: "boolean", short: "h" } },
  });
  const [command] = positionals;
  if (values.help || (command !== "generate" && command !== "check")) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const root = resolve(values.root);
  const started = performance.now();
  let files;
  try {
    files = buildOutput(environments);
  } catch (err) {
    if (!(err instanceof GenerationFailed)) throw err;
    console.error(`${command}: ${err.message}`);
    return 1;
  }
  if (command === "generate") {
    const { written, unchanged, removed } = writeTree(root, files);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    console.log(`generate: ${written.length} written, ${unchanged.length} unchanged, ${removed.length} removed (${seconds}s)`);
    return 0;
  }
  const { changed, removed } = diffTree(root, files);
  for (const f of changed) {
    let committed: string | undefined;
    try {
      committed = readFileSync(resolve(root, f.path), "utf8");
    } catch {
      committed = undefined;
    }
    if (committed === undefined) {
      console.error(`missing: ${f.path}`);
    } else {
      console.error(`differs: ${f.path}`);
      for (const line of shortDiff(committed, f.content)) console.error(`    ${line}`);
    }
  }
  for (const path of removed) console.error(`stale:   ${path} (not produced by the generator)`);
  const problems = changed.length + removed.length;
  if (problems > 0) {
    console.error(`check: ${problems} generated file(s) out of date. Run \`${generatedBy}\` and commit the result.`);
    return 1;
  }
  console.log(`check: ${files.length} generated files up to date`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
