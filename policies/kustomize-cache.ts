// kustomize's output, kept by the content of everything the build reads. Most builds of a day's
// work are of trees that did not change (validate and policy build the same overlays; a review
// builds the same base again; test copies of the committed tree), and each costs a kubectl start
// and ~0.3-0.5 s of CPU.
//
// What a build reads is found the way kustomize finds it: the kustomization file of the folder,
// every local file and folder its fields name, and, for a folder, its own kustomization again. A
// kustomization with a field this reader does not know, a remote or absolute reference, or Helm
// charts is never kept: its inputs cannot be told from here. The key also holds kustomize's
// version, so an upgrade builds everything anew.
import { hash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { projectRootOf } from "../generator/lib/project.ts";

const kustomizationFiles = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

// The fields of a Kustomization (kustomize v5, api/types/kustomization.go) that name no file,
// and those that name files or folders (a string, a list of strings, or objects with `path`,
// `files`, `envs`, `env`).
const plainFields = new Set(["apiVersion", "kind", "metadata", "namespace", "namePrefix", "nameSuffix", "commonLabels", "labels", "commonAnnotations", "images", "replicas", "vars", "sortOptions", "buildMetadata", "generatorOptions"]);
const referenceFields = new Set(["resources", "components", "bases", "crds", "patches", "patchesStrategicMerge", "patchesJson6902", "configMapGenerator", "secretGenerator", "generators", "transformers", "validators", "configurations", "replacements", "openapi"]);

/** Files a kustomization's field names: strings that are no inline YAML, and `path`/`files`/`envs`/`env` of objects. */
function referencesOf(value: unknown): string[] {
  if (typeof value === "string") return value.includes("\n") ? [] : [value.replace(/^[^=]*=/, "")];
  if (Array.isArray(value)) return value.flatMap(referencesOf);
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    return [v.path, v.env, ...(Array.isArray(v.files) ? v.files : []), ...(Array.isArray(v.envs) ? v.envs : [])].flatMap((r) => (typeof r === "string" ? referencesOf(r) : []));
  }
  return [];
}

/** Every file the build of `dir` reads, or undefined when that cannot be told. */
function inputsOf(dir: string, seen = new Set<string>()): string[] | undefined {
  const file = kustomizationFiles.map((name) => join(dir, name)).find(existsSync);
  if (file === undefined) return undefined;
  if (seen.has(file)) return [];
  seen.add(file);
  let kustomization: Record<string, unknown>;
  try {
    kustomization = (parse(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const inputs = [file];
  for (const [field, value] of Object.entries(kustomization)) {
    if (plainFields.has(field)) continue;
    if (!referenceFields.has(field)) return undefined;
    for (const reference of referencesOf(value)) {
      if (/^(\/|[a-z]+:\/\/|git@|github\.com\/)/.test(reference) || reference.includes("?ref=")) return undefined;
      const target = resolve(dir, reference);
      let stat;
      try {
        stat = statSync(target);
      } catch {
        return undefined; // kustomize reports it; nothing to keep
      }
      if (stat.isDirectory()) {
        const nested = inputsOf(target, seen);
        if (nested === undefined) return undefined;
        inputs.push(...nested);
      } else {
        inputs.push(target);
      }
    }
  }
  return inputs;
}

const cacheDir = () => process.env.NX_KUSTOMIZE_CACHE ?? join(projectRootOf(import.meta.url), "node_modules", ".cache", "nx-kustomize");
/** Outputs kept: enough for every overlay of a few trees, removed oldest first. */
const kept = 200;

/** Where the output of building `dir` with `kustomize` (its description, with the version) is kept, or undefined when it is not. */
export function outputFile(dir: string, kustomize: string): string | undefined {
  const inputs = inputsOf(resolve(dir));
  if (inputs === undefined) return undefined;
  const digest = hash("sha256", [kustomize, ...[...new Set(inputs)].sort().flatMap((f) => [relative(dir, f), hash("sha256", readFileSync(f))])].join("\0"));
  return join(cacheDir(), `${digest}.yaml`);
}

/** The kept output at `file` (from outputFile), if any. */
export function keptOutput(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Keeps a successful build's output; a cache that cannot be written is no error. */
export function keepOutput(file: string | undefined, output: string): void {
  if (file === undefined) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, output);
    renameSync(temporary, file);
    const entries = readdirSync(dirname(file)).filter((f) => f.endsWith(".yaml"));
    if (entries.length > kept) {
      const byAge = entries.map((f) => ({ f, at: statSync(join(dirname(file), f)).mtimeMs })).sort((a, b) => a.at - b.at);
      for (const { f } of byAge.slice(0, entries.length - kept)) rmSync(join(dirname(file), f), { force: true });
    }
  } catch {
    // Read-only, or pruned by another run meanwhile: the next build runs kustomize.
  }
}
