// What the project vendors (scripts/vendor.ts writes it, test/vendored.test.ts checks it): the
// strict schemas of the kinds the layer renders, and the Pod Security Admission fixtures, each
// folder with a manifest of where its files come from and their checksums.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fg from "fast-glob";
import { parseAllDocuments } from "yaml";
import { environments } from "../generator/config/environments.ts";
import { projectRootOf } from "../generator/lib/project.ts";
import { yamlFiles } from "../generator/pipeline.ts";
import { byCodePoint } from "../generator/lib/order.ts";

export const pssFixtureDir = join(projectRootOf(import.meta.url), "test/fixtures/pod-security-admission");

/** schemas/sources.json */
export interface SchemaManifest {
  readonly about: string;
  /** Where each source comes from: `kubernetes` for the built-in kinds, else the CRD's API group. */
  readonly upstream: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly schemas: readonly { readonly kind: string; readonly file: string; readonly sha256: string }[];
}

/** test/fixtures/pod-security-admission/source.json */
export interface FixtureManifest {
  readonly about: string;
  readonly repository: string;
  readonly commit: string;
  readonly path: string;
  /** The policy versions whose fixtures are kept (those the rules know that the input held), oldest first. */
  readonly versions: readonly string[];
  readonly files: number;
  /** sha256 over every file's path and bytes, in path order. */
  readonly sha256: string;
}

export const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

/** One digest of a folder's files (paths relative to it), in path order. */
export function treeDigest(dir: string, files: readonly string[]): string {
  const hash = createHash("sha256");
  for (const file of [...files].sort(byCodePoint)) hash.update(`${file}\0`).update(readFileSync(join(dir, file))).update("\0");
  return hash.digest("hex");
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A CRD's openAPIV3Schema made strict, the way the strict CRD schemas of kubeconform's layout are:
 * `additionalProperties: false` on every object that lists its properties, except objects marked
 * `x-kubernetes-preserve-unknown-fields` and the branches of oneOf/anyOf/allOf/not (closing a
 * branch would reject the fields the other branches allow).
 */
export function strictSchema(schema: Json, inBranch = false): Json {
  if (Array.isArray(schema)) return schema.map((s) => strictSchema(s, inBranch));
  if (schema === null || typeof schema !== "object") return schema;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" && value && typeof value === "object" && !Array.isArray(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, strictSchema(s)]));
    } else if (["oneOf", "anyOf", "allOf", "not"].includes(key)) {
      out[key] = strictSchema(value, true);
    } else if (key === "items" || key === "additionalProperties") {
      out[key] = strictSchema(value);
    } else {
      out[key] = value;
    }
  }
  if (schema.properties && !inBranch && !schema["x-kubernetes-preserve-unknown-fields"] && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** The strict schema files (kubeconform's CRD layout, relative paths) of every served version of the CRDs in a YAML stream. */
export function crdSchemaFiles(yamlText: string, origin: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const doc of parseAllDocuments(yamlText)) {
    if (!("errors" in doc)) continue;
    if (doc.errors.length) throw new Error(`${origin} is not valid YAML: ${doc.errors[0]?.message}`);
    const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions?: { name: string; served?: boolean; schema?: { openAPIV3Schema?: Json } }[] } } | null;
    if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
    for (const version of crd.spec.versions ?? []) {
      const schema = version.schema?.openAPIV3Schema;
      if (!version.served || !schema) continue;
      files.set(`crds-strict/${crd.spec.group}/${crd.spec.names.kind.toLowerCase()}_${version.name}.json`, `${JSON.stringify(strictSchema(schema), null, 2)}\n`);
    }
  }
  if (files.size === 0) throw new Error(`${origin} holds no CustomResourceDefinition with a served version and a schema`);
  return files;
}

// The kinds the layer renders, derived from the generator itself: every object kind in the files
// `npm run generate` writes, plus every kubernetes-models kind whose class the generator builds
// objects with (a kind a config change can bring in, e.g. a PodDisruptionBudget).
export interface KindRef {
  readonly apiVersion: string;
  readonly kind: string;
}

/** `apps/v1 StatefulSet` */
export const kindName = (k: KindRef) => `${k.apiVersion} ${k.kind}`;

// Kustomizations are read by kustomize, never applied to a cluster.
const notApplied = (k: KindRef) => k.apiVersion.startsWith("kustomize.config.k8s.io/");

/** Every kind in the generated files (read from the documents they are written from, not parsed back). */
export function renderedKinds(): KindRef[] {
  return yamlFiles(environments).flatMap((file) =>
    file.documents.flatMap((doc) => {
      const o = doc as Partial<KindRef> | null;
      return typeof o?.apiVersion === "string" && typeof o.kind === "string" ? [{ apiVersion: o.apiVersion, kind: o.kind }] : [];
    }),
  );
}

// `import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet"`: a class, not `import type`.
const modelImport = /^import\s+\{([^}]*)\}\s+from\s+"kubernetes-models\/(?:([a-z0-9.-]+)\/)?(v\d\w*)\/([A-Z]\w*)";?$/gm;

/** Kinds whose kubernetes-models class the generator (below `generatorDir`) imports as a value. */
export function buildableKinds(generatorDir: string): KindRef[] {
  return fg.sync("**/*.ts", { cwd: generatorDir }).flatMap((file) =>
    [...readFileSync(join(generatorDir, file), "utf8").matchAll(modelImport)].flatMap(([, names = "", group, version, kind]) => {
      const values = names.split(",").map((n) => n.trim()).filter((n) => n && !n.startsWith("type "));
      return values.includes(kind!) ? [{ apiVersion: group ? `${group}/${version}` : version!, kind: kind! }] : [];
    }),
  );
}

/** Rendered and buildable kinds, each once, sorted. */
export function layerKinds(generatorDir: string): KindRef[] {
  const all = [...renderedKinds(), ...buildableKinds(generatorDir)].filter((k) => !notApplied(k));
  return [...new Map(all.map((k) => [kindName(k), k])).values()].sort((a, b) => (kindName(a) < kindName(b) ? -1 : 1));
}
