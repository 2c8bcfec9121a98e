// Entry point of `npm run review`. The preflight (plain JavaScript) says what to do when the
// dependencies are not installed, before any of them is loaded; the review then runs from one
// cached bundle of main.ts and everything it imports (scripts/bundle.mjs).
await import("../scripts/preflight.mjs");
const { importBundled } = await import("../scripts/bundle.mjs");
await importBundled(new URL("./main.ts", import.meta.url).href);
