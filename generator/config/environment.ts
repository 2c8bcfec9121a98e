import { defaults } from "./defaults.ts";
import { type Delta, withDelta } from "./delta.ts";
import type { Environment } from "./types.ts";

/** What an environment file writes: its name and its delta over the shared defaults. */
export type EnvironmentDelta = { readonly name: string } & Delta<Omit<Environment, "name">>;

/** An environment: the shared defaults (config/defaults.ts) with the environment's delta applied. */
export function defineEnvironment({ name, ...delta }: EnvironmentDelta): Environment {
  try {
    return { name, ...withDelta<Omit<Environment, "name">>(defaults, delta as Delta<Omit<Environment, "name">>) };
  } catch (err) {
    throw new Error(`environment ${name}: ${(err as Error).message}`);
  }
}
