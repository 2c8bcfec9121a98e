import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests run the real CLI and the real kustomize as child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
