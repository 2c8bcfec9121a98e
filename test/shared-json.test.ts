// Each rendered object's JSON is made once and shared by every later stage (components/render.ts):
// a stage that changed it would change what the others read.
import { describe, expect, it } from "vitest";
import { type RenderedEnvironment, renderEnvironment } from "../generator/components/render.ts";
import { environments } from "../generator/config/environments.ts";
import type { Environment } from "../generator/config/types.ts";
import { withSyncWaves } from "../generator/delivery/waves.ts";
import { buildOutput, environmentObjects } from "../generator/pipeline.ts";

/** `value` with every object and array in it frozen: changing it throws (modules are strict). */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const frozen = (env: RenderedEnvironment): RenderedEnvironment => {
  for (const { json } of env.objects) deepFreeze(json);
  return env;
};

describe("the rendered objects' JSON", () => {
  it("is not changed by the delivery stage, which annotates copies", () => {
    for (const env of environments) expect(() => withSyncWaves(frozen(renderEnvironment(env)))).not.toThrow();
  });

  it("is not changed by the layout, Argo CD, emit and docs stages", () => {
    expect(() => buildOutput(environments, (env: Environment) => frozen(environmentObjects(env)))).not.toThrow();
  });
});
