// Where the strict schemas are: $NX_SCHEMA_DIR (CI sets it), else shared/schemas beside the
// repository. Tests that validate against them fail, saying so, when neither exists.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { common } from "../../generator/config/common.ts";
import { localSchemaLocations, SchemaValidator } from "../../policies/schemas.ts";

export function schemaDir(): string {
  const dir = process.env.NX_SCHEMA_DIR ?? resolve(import.meta.dirname, "../../../shared/schemas");
  if (!existsSync(join(dir, "kubernetes"))) {
    throw new Error(`no strict schemas at ${dir}: set NX_SCHEMA_DIR to a folder laid out like shared/schemas`);
  }
  return dir;
}

export function strictValidator(): SchemaValidator {
  return new SchemaValidator({ locations: localSchemaLocations(schemaDir()), kubernetesVersion: `${common.kubernetesVersion}.0`, strict: true });
}
