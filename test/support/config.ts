// Builds environment variants for tests: staging with a few values changed, the way a platform
// engineer would edit an environment file.
import { type Delta, withDelta } from "../../generator/config/delta.ts";
import { production } from "../../generator/config/production.ts";
import { staging } from "../../generator/config/staging.ts";
import { environments } from "../../generator/config/environments.ts";
import type { Environment } from "../../generator/config/types.ts";
import { formatProblem, GenerationFailed } from "../../generator/lib/errors.ts";
import type { OutputFile } from "../../generator/emit/files.ts";
import { buildOutput } from "../../generator/pipeline.ts";

/** Staging with `change` applied the way an environment file's delta is (config/delta.ts). */
export function stagingWith(change: Delta<Environment>): Environment {
  return withDelta<Environment>(staging, change);
}

/** Production with `change` applied. */
export function productionWith(change: Delta<Environment>): Environment {
  return withDelta<Environment>(production, change);
}

/** Plain JSON of a typed object, as it is written to YAML (the generator's own round trip). */
export { plain } from "../../generator/lib/objects.ts";

/** What `npm run generate` reports for `env`, one formatted problem a line; fails when it generates. */
export function problems(env: Environment): string[] {
  try {
    buildOutput([env]);
  } catch (err) {
    if (err instanceof GenerationFailed) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected generation to fail");
}

let output: readonly OutputFile[] | undefined;

/** What `npm run generate` writes for the configured environments, rendered once per test worker. */
export function generatedOutput(): readonly OutputFile[] {
  output ??= buildOutput(environments);
  return output;
}
