// Strict JSON-schema validation of rendered objects, in process, over the same schema layout
// kubeconform reads: a location is a path or URL template with kubeconform's variables, tried in
// order until one has the object's schema. With `-strict` schemas every object is closed
// (`additionalProperties: false`), so an unknown field is an error. A kind no location covers is
// reported as an error too, never passed silently.
//
// Compiling the strict schemas was ~40% of a `validate` run, anew in every process: each schema's
// validator is kept as Ajv's standalone code, in a module named by the digest of everything it was
// made from, and later runs import it without loading Ajv's compiler.
import { hash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { threadId } from "node:worker_threads";
import type { ErrorObject, Options, ValidateFunction } from "ajv";
import { projectRootOf } from "../generator/lib/project.ts";
import type { CompiledSchema } from "./schema-compiler.ts";
import { fieldPath } from "../generator/lib/validation.ts";

/**
 * The strict schemas the project carries (schemas/, written by `npm run vendor-schemas`): exactly
 * the kinds the layer renders, so validation needs neither the network nor anything beside the clone.
 */
export const projectSchemaDir = join(projectRootOf(import.meta.url), "schemas");

/** kubeconform's own defaults: the Kubernetes schemas and the community CRD catalog. */
export const defaultSchemaLocations = [
  "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
  "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
];

/** The two templates that read a local folder laid out like `shared/schemas`. */
export function localSchemaLocations(dir: string): string[] {
  return [
    `${dir}/kubernetes/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    `${dir}/crds{{ .StrictSuffix }}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
  ];
}

export interface SchemaOptions {
  readonly locations: readonly string[];
  /** e.g. `1.36.0` */
  readonly kubernetesVersion: string;
  readonly strict: boolean;
}

export interface SchemaError {
  /** `spec.template.spec.containers[0].foo` */
  readonly path: string;
  readonly message: string;
}

export type SchemaResult =
  | { readonly status: "valid"; readonly schema: string }
  | { readonly status: "invalid"; readonly schema: string; readonly errors: readonly SchemaError[] }
  | { readonly status: "missing"; readonly tried: readonly string[] };

interface TypeMeta {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
}

/** The schema file names kubeconform would try for an object, one per location. */
export function schemaCandidates(object: TypeMeta, o: SchemaOptions): string[] {
  // kubeconform spells its own Kubernetes location "default".
  const locations = o.locations.map((l) => (l === "default" ? defaultSchemaLocations[0]! : l));
  const apiVersion = String(object.apiVersion ?? "");
  const kind = String(object.kind ?? "").toLowerCase();
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const vars: Record<string, string> = {
    NormalizedKubernetesVersion: o.kubernetesVersion === "master" ? "master" : `v${o.kubernetesVersion.replace(/^v/, "")}`,
    StrictSuffix: o.strict ? "-strict" : "",
    ResourceKind: kind,
    KindSuffix: group ? `-${group.split(".")[0]}-${version}` : `-${version}`,
    Group: group ?? "",
    ResourceAPIVersion: version ?? "",
  };
  return locations.map((template) =>
    template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, name: string) => {
      const value = vars[name];
      if (value === undefined) throw new Error(`unknown variable {{ .${name} }} in schema location ${template}`);
      return value;
    }),
  );
}

function describe(e: ErrorObject): SchemaError {
  const path = fieldPath(e.instancePath);
  if (e.keyword === "additionalProperties") {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    return { path: path === "(root)" ? extra : `${path}.${extra}`, message: "unknown field" };
  }
  if (e.keyword === "enum") {
    return { path, message: `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}` };
  }
  return { path, message: e.message ?? e.keyword };
}

/** How every schema is compiled; Ajv's standalone code is what the cache keeps. */
const ajvOptions: Options = { allErrors: true, strict: false, code: { source: true, esm: true } };

/**
 * Where compiled validators are kept: one module per schema content, options and Ajv version,
 * never stale, so never cleared. NX_VALIDATOR_CACHE chooses another folder.
 */
function validatorCacheDir(): string {
  return process.env.NX_VALIDATOR_CACHE || join(projectRootOf(import.meta.url), "node_modules", ".cache", "nx-validators");
}

/**
 * The first lines of every cached validator. Ajv's ES module code still `require`s its runtime
 * helpers and ajv-formats' checkers: resolved from this project's own node_modules, wherever the
 * cache folder is.
 */
const prologue = `import { createRequire } from "node:module";\nconst require = createRequire(${JSON.stringify(import.meta.url)});\n`;

/** Resolves from this project's node_modules: the versions of Ajv and ajv-formats are in every digest. */
const installed = createRequire(import.meta.url);

/** The name of the validator compiled from `schema`: a digest of all that goes into its code. */
function validatorFile(schema: string): string {
  const versions = ["ajv", "ajv-formats"].map((name) => `${name}@${(installed(`${name}/package.json`) as { version: string }).version}`);
  return join(validatorCacheDir(), `${hash("sha256", [prologue, JSON.stringify(ajvOptions), ...versions, schema].join("\0"))}.mjs`);
}

function writeAtomically(path: string, text: string): void {
  // Renamed into place whole: parallel runs and test workers see no validator or a complete one.
  const temporary = `${path}.${process.pid}-${threadId}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** Validates objects against the first schema found for each; loads each schema and its validator once. */
export class SchemaValidator {
  readonly #options: SchemaOptions;
  readonly #compiled = new Map<string, ValidateFunction | null>();
  #compile: ((schema: object) => CompiledSchema) | undefined;

  constructor(options: SchemaOptions) {
    this.#options = options;
  }

  /** The validator of a schema's text: the cached one, else compiled now and cached. */
  async #validator(schema: string): Promise<ValidateFunction> {
    const file = validatorFile(schema);
    // Loaded with require (Node loads ES modules so too): the command runs from a CommonJS bundle
    // whose dynamic import() would need an experimental vm option (scripts/bundle.mjs). The
    // compiler goes by its path, so the bundle leaves it and Ajv out.
    if (existsSync(file)) return (installed(file) as { default: ValidateFunction }).default;
    this.#compile ??= (installed(fileURLToPath(new URL("./schema-compiler.ts", import.meta.url))) as typeof import("./schema-compiler.ts")).schemaCompiler(
      ajvOptions,
    );
    const { validate, code } = this.#compile(JSON.parse(schema) as object);
    try {
      mkdirSync(validatorCacheDir(), { recursive: true });
      writeAtomically(file, prologue + code);
    } catch {
      // A read-only node_modules: this run validates with what it compiled, as without the cache.
    }
    return validate;
  }

  async #load(location: string): Promise<string | undefined> {
    if (/^https?:\/\//.test(location)) {
      const offline = "without --schema-location, validate reads the project's own schemas (schemas/) and needs no network";
      let response: Response;
      try {
        response = await fetch(location);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`could not fetch ${location} (${cause?.code ?? cause?.message ?? (err as Error).message}); ${offline}`);
      }
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`could not fetch ${location}: HTTP ${response.status}; ${offline}`);
      return response.text();
    }
    return existsSync(location) ? readFileSync(location, "utf8") : undefined;
  }

  async validate(object: TypeMeta): Promise<SchemaResult> {
    const tried = schemaCandidates(object, this.#options);
    for (const location of tried) {
      if (!this.#compiled.has(location)) {
        const schema = await this.#load(location);
        this.#compiled.set(location, schema === undefined ? null : await this.#validator(schema));
      }
      const check = this.#compiled.get(location);
      if (!check) continue;
      if (check(object)) return { status: "valid", schema: location };
      // An unknown field is reported once, not again by every branch of a oneOf around it.
      const errors = (check.errors ?? []).filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf").map(describe);
      const unique = [...new Map(errors.map((e) => [`${e.path} ${e.message}`, e])).values()];
      return { status: "invalid", schema: location, errors: unique };
    }
    return { status: "missing", tried };
  }
}
