import { production } from "./production.ts";
import { staging } from "./staging.ts";
import type { Environment } from "./types.ts";

/** Every environment the generator renders, in output order. */
export const environments: readonly Environment[] = [staging, production];
