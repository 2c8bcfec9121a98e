// Entry point. The preflight (plain JavaScript) says what to do when the dependencies are not
// installed, and turns on Node's compile cache, which spares every later run the parsing of the
// ~550 modules the generator loads; it must be on before they are imported.
await import("../scripts/preflight.mjs");
await import("./main.ts");
