// Entry point of `npm run review`. Node's compile cache (in the OS temp dir) spares later runs the
// type stripping of the modules; it must be on before they are imported.
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("./main.ts");
