// The strict schemas the tests validate against: the project's own (schemas/), so the tests need
// neither the network nor anything beside the clone.
import { common } from "../../generator/config/common.ts";
import { localSchemaLocations, projectSchemaDir, SchemaValidator } from "../../policies/schemas.ts";

export function schemaLocations(): string[] {
  return localSchemaLocations(projectSchemaDir);
}

let validator: SchemaValidator | undefined;

/** One validator per test worker: it loads each kind's validator once (compiled once per checkout, policies/schemas.ts). */
export function strictValidator(): SchemaValidator {
  validator ??= new SchemaValidator({ locations: schemaLocations(), kubernetesVersion: `${common.kubernetesVersion}.0`, strict: true });
  return validator;
}
