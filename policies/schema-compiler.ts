// Ajv's compiler, loaded only when a schema's validator is not in the cache (policies/schemas.ts):
// compiling the strict schemas was almost all of what `validate` cost, in every run.
import { Ajv, type Options, type ValidateFunction } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import addFormats from "ajv-formats";

export interface CompiledSchema {
  readonly validate: ValidateFunction;
  /** The same function as Ajv's standalone ES module code. */
  readonly code: string;
}

/** One Ajv for every schema of a run, as before the cache: `options` must ask for `code.source`. */
export function schemaCompiler(options: Options): (schema: object) => CompiledSchema {
  const ajv = new Ajv(options);
  addFormats.default(ajv);
  return (schema) => {
    const validate = ajv.compile(schema);
    return { validate, code: standaloneCode.default(ajv, validate) };
  };
}
