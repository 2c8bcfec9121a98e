// Where the strict schemas are: $NX_SCHEMA_DIR (CI sets it), else shared/schemas beside the
// repository, else kubeconform's default locations on the network (the GitHub workflow).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { common } from "../../generator/config/common.ts";
import { defaultSchemaLocations, localSchemaLocations, SchemaValidator } from "../../policies/schemas.ts";

/** The local schema folder, or undefined when there is none (the network defaults apply). */
export function localSchemaDir(): string | undefined {
  const dir = process.env.NX_SCHEMA_DIR ?? resolve(import.meta.dirname, "../../../shared/schemas");
  return existsSync(join(dir, "kubernetes")) ? dir : undefined;
}

export function schemaLocations(): string[] {
  const dir = localSchemaDir();
  return dir ? localSchemaLocations(dir) : defaultSchemaLocations;
}

export function strictValidator(): SchemaValidator {
  return new SchemaValidator({ locations: schemaLocations(), kubernetesVersion: `${common.kubernetesVersion}.0`, strict: true });
}
