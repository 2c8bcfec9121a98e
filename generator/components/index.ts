import type { Environment } from "../config/types.ts";
import type { KubeObject } from "../lib/objects.ts";
import { namespaces } from "./namespaces.ts";
import { redis } from "./redis.ts";

/** Every component of the layer, by name; each is a pure function of the environment's config. */
export const components: Record<string, (env: Environment) => KubeObject[]> = {
  namespaces,
  redis,
};
