import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { scratchRoot } from "./test/support/scratch.ts";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests run the real CLI and the real kustomize as child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The files share one module graph per worker: the generator, the models and their validators
    // load once, not once per file (about 500 modules). Safe here: no test mocks a module, stubs
    // globals or changes process state another file reads.
    isolate: false,
    // Two files per core: much of a test's time is a child process (kustomize, a CLI, a server)
    // or a server's own timers, during which the other files run. On this 2-core machine 4
    // workers took 52 s, 3 took 58 s (docs/speed.md).
    maxWorkers: availableParallelism() * 2,
    env: {
      // Every temporary folder a test or its child processes make goes to memory when there is
      // room (test/support/scratch.ts).
      TMPDIR: scratchRoot,
      // Every Node process a test starts (the CLIs, the scripts) reads its modules from Node's
      // compile cache instead of parsing them again: most of a short run's time. The folder is the
      // one the CLIs' own enableCompileCache() uses, also when a test gives them another TMPDIR.
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), "node-compile-cache"),
    },
  },
});
