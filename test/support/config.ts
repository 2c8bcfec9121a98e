// Builds environment variants for tests: staging with a few values changed, the way a platform
// engineer would edit generator/config/staging.ts.
import { staging } from "../../generator/config/staging.ts";
import type { Environment } from "../../generator/config/types.ts";
import { formatProblem, GenerationFailed } from "../../generator/lib/errors.ts";
import { buildOutput } from "../../generator/pipeline.ts";

type DeepPartial<T> = { -readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : DeepPartial<T[K]> };

function merge<T>(base: T, change: DeepPartial<T> | undefined): T {
  if (change === undefined || typeof base !== "object" || base === null || Array.isArray(base)) {
    return (change ?? base) as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(change)) {
    out[key] = merge((base as Record<string, unknown>)[key], value as never);
  }
  return out as T;
}

export function stagingWith(change: DeepPartial<Environment>): Environment {
  return merge(staging, change);
}

/** Plain JSON of a typed object, as it is written to YAML. */
export function plain<T>(object: { toJSON(): unknown }): T {
  return JSON.parse(JSON.stringify(object)) as T;
}

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
