import { defineConfig } from "vitest/config";

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
  },
});
