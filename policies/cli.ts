// Entry point of `npm run validate` and `npm run policy`. The preflight (plain JavaScript) says
// what to do when the dependencies are not installed, before any of them is loaded; the commands
// then run from one cached bundle of main.ts and everything it imports (scripts/bundle.mjs).
await import("../scripts/preflight.mjs");
const { importBundled } = await import("../scripts/bundle.mjs");
const { policiesCommand } = (await importBundled(new URL("./main.ts", import.meta.url).href)) as typeof import("./main.ts");

const { status, stdout, stderr } = await policiesCommand(process.argv.slice(2));
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = status;
