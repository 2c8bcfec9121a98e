// Entry point. The preflight (plain JavaScript) says what to do when the dependencies are not
// installed, and turns on Node's compile cache; the commands then run from one cached bundle of
// main.ts and everything it imports (scripts/bundle.mjs).
await import("../scripts/preflight.mjs");
const { importBundled } = await import("../scripts/bundle.mjs");
const { generatorCommand } = (await importBundled(new URL("./main.ts", import.meta.url).href)) as typeof import("./main.ts");

const { status, stdout, stderr } = generatorCommand(process.argv.slice(2));
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = status;
