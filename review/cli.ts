// Entry point of `npm run review`. The preflight (plain JavaScript) says what to do when the
// dependencies are not installed, before any of them is loaded; the review then runs from one
// cached bundle of main.ts and everything it imports (scripts/bundle.mjs).
await import("../scripts/preflight.mjs");
const { importBundled } = await import("../scripts/bundle.mjs");
const { review } = (await importBundled(new URL("./main.ts", import.meta.url).href)) as typeof import("./main.ts");

const { status, stdout, stderr } = await review(process.argv.slice(2));
process.stdout.write(stdout);
process.stderr.write(stderr);
// A review that could not run ends now, without waiting for the builds and the check still
// running for the other tree.
if (status === 2) process.exit(2);
process.exitCode = status;
