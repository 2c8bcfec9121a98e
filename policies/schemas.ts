// Strict JSON-schema validation of rendered objects, in process, over the same schema layout
// kubeconform reads: a location is a path or URL template with kubeconform's variables, tried in
// order until one has the object's schema. With `-strict` schemas every object is closed
// (`additionalProperties: false`), so an unknown field is an error. A kind no location covers is
// reported as an error too, never passed silently.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { projectRootOf } from "../generator/lib/project.ts";
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

/** Validates objects against the first schema found for each; loads and compiles each schema once. */
export class SchemaValidator {
  readonly #options: SchemaOptions;
  readonly #ajv: Ajv;
  readonly #compiled = new Map<string, ValidateFunction | null>();

  constructor(options: SchemaOptions) {
    this.#options = options;
    this.#ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(this.#ajv);
  }

  async #load(location: string): Promise<unknown | undefined> {
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
      return response.json();
    }
    return existsSync(location) ? JSON.parse(readFileSync(location, "utf8")) : undefined;
  }

  async validate(object: TypeMeta): Promise<SchemaResult> {
    const tried = schemaCandidates(object, this.#options);
    for (const location of tried) {
      if (!this.#compiled.has(location)) {
        const schema = await this.#load(location);
        this.#compiled.set(location, schema === undefined ? null : this.#ajv.compile(schema as object));
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
