// Entry point of `npm run validate` and `npm run policy`. The preflight (plain JavaScript) says
// what to do when the dependencies are not installed, before any of them is loaded.
await import("../scripts/preflight.mjs");
await import("./main.ts");
