// Entry point. Node's compile cache (kept in the OS temp dir) spares every later run the parsing
// of the ~250 modules the generator loads; it must be on before they are imported. The preflight
// (plain JavaScript) says what to do when the dependencies are not installed.
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("../scripts/preflight.mjs");
await import("./main.ts");
