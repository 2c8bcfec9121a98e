import { defineEnvironment } from "./environment.ts";
import { production } from "./production.ts";
import { staging } from "./staging.ts";
import type { Environment } from "./types.ts";

/** Every environment the generator renders, in output order. */
export const environments: readonly Environment[] = [staging, production];

/**
 * The shared defaults (config/defaults.ts) as an environment of their own: the layout renders it
 * as base/, which the overlays build on and no Application deploys. Its name only names it (and
 * derives its Kafka cluster id, which each real environment sets or derives from its own name).
 */
export const neutralBase: Environment = defineEnvironment({ name: "base" });
