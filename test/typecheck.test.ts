// The type-check is one of `npm test`'s files, so that tsc runs beside the other files instead of
// before all of them (`npm run typecheck` runs it alone).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "./support/repo.ts";

it("the project type-checks (tsc -p .)", () => {
  const result = spawnSync(join(repoRoot, "node_modules/.bin/tsc"), ["-p", "."], { cwd: repoRoot, encoding: "utf8" });
  expect(result.stdout + result.stderr).toBe("");
  expect(result.status).toBe(0);
});
