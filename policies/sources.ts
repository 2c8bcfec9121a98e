// What the checks read: YAML files, folders of them, or kustomizations built with the real
// kustomize. Every object built from a kustomization is traced back to the generated file that
// defines it, so a finding names the file to look at (and the command that regenerates it).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import fg from "fast-glob";
import { parseAllDocuments } from "yaml";
import { type Manifest, objectName, type Source } from "./engine.ts";
import { kustomize } from "./kustomize.ts";
import { byCodePoint } from "../generator/lib/order.ts";

/** Every document of a YAML stream that is a Kubernetes object; throws on a parse error. */
export function parseManifests(text: string, origin: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (!("errors" in doc)) return [];
    if (doc.errors.length > 0) throw new Error(`${origin} is not valid YAML: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
    const m = value as Manifest;
    return typeof m.kind === "string" && typeof m.apiVersion === "string" ? [m] : [];
  });
}

const isKustomization = (dir: string) =>
  ["kustomization.yaml", "kustomization.yml", "Kustomization"].some((f) => existsSync(join(dir, f)));

/**
 * Generated files that define objects (not kustomizations, not patches), by the object they
 * define: one object may be defined in base/ and, built another way, in an environment's overlay.
 */
function origins(root: string): Map<string, string[]> {
  const files = fg.sync(["base/**/*.yaml", "overlays/**/*.yaml", "argocd/**/*.yaml", "backend/**/*.yaml"], {
    cwd: root,
    ignore: ["**/kustomization.yaml", "**/patches/**"],
  });
  const index = new Map<string, string[]>();
  for (const file of files.sort(byCodePoint)) {
    for (const m of parseManifests(readFileSync(join(root, file), "utf8"), file)) index.set(objectName(m), [...(index.get(objectName(m)) ?? []), file]);
  }
  return index;
}

/** Of the files defining an object, the one a build of `via` reads: its own environment's, else base/'s. */
function originOf(files: readonly string[], via: string): string | undefined {
  const own = `${via.split("/").slice(0, 2).join("/")}/`;
  return files.find((f) => f.startsWith(own)) ?? files.find((f) => f.startsWith("base/"));
}

/**
 * Reads each path, relative to `root`: a kustomization folder is built; another folder is read
 * for every *.yaml / *.yml below it; a file is read as it is.
 */
export function loadSources(root: string, paths: readonly string[]): Source[] {
  return sourceLoader(root)(paths);
}

/**
 * loadSources for one command that reads several paths of `root` one at a time: the generated
 * files are indexed once for all of them (parsing them all takes ~0.4 s of CPU).
 */
export function sourceLoader(root: string): (paths: readonly string[]) => Source[] {
  let index: Map<string, string[]> | undefined;
  return (paths) =>
    paths.flatMap((path) => {
      const full = resolve(root, path);
      const shown = relative(root, full) || ".";
      if (!existsSync(full)) throw new Error(`${shown}: no such file or folder`);
      if (statSync(full).isDirectory() && isKustomization(full)) {
        index ??= origins(root);
        const built = parseManifests(kustomize().build(full), `kustomize build ${shown}`);
        return built.map((manifest) => ({ manifest, file: originOf(index?.get(objectName(manifest)) ?? [], shown) ?? shown, via: shown }));
      }
      const files = statSync(full).isDirectory() ? fg.sync("**/*.{yaml,yml}", { cwd: full }).sort(byCodePoint).map((f) => join(full, f)) : [full];
      return files.flatMap((file) => {
        const name = relative(root, file);
        return parseManifests(readFileSync(file, "utf8"), name).map((manifest) => ({ manifest, file: name }));
      });
    });
}

/** The environments' overlays (`overlays/<env>`): what `npm run policy` checks by default. */
export function environmentOverlays(root: string): string[] {
  return fg.sync("overlays/*/kustomization.yaml", { cwd: root }).map((f) => f.slice(0, -"/kustomization.yaml".length)).sort(byCodePoint);
}

/**
 * Every kustomization Argo CD or a person may build: each overlay, each namespace, each Argo CD
 * folder, and the backend settings each environment hands the backend's own kustomization.
 */
export function allKustomizations(root: string): string[] {
  return fg
    .sync(["overlays/*/kustomization.yaml", "overlays/*/*/kustomization.yaml", "argocd/*/*/kustomization.yaml", "backend/*/kustomization.yaml"], {
      cwd: root,
    })
    .map((f) => f.slice(0, -"/kustomization.yaml".length))
    .sort(byCodePoint);
}
