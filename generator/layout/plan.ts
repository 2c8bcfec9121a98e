// Stage 3: places each environment's objects into kustomize folders.
//   base/<namespace>/               objects every environment has, as the first environment has them
//   overlays/<env>/<namespace>/     the base, plus this environment's own objects and JSON patches
//   overlays/<env>/                 the whole environment (one entry per namespace)
// `kustomize build overlays/<env>` therefore renders exactly the environment's object set.
import { isDeepStrictEqual } from "node:util";
import type { RenderedEnvironment } from "../components/render.ts";
import type { KubeObject } from "../lib/objects.ts";
import { type Json, jsonPatch } from "./json-patch.ts";
import { byCodePoint } from "../lib/order.ts";

/** A YAML file of the plan: its path from the repository root and its documents. */
export interface YamlFile {
  readonly path: string;
  readonly documents: readonly Json[];
  /** Comment lines under the generated-file header, for what a reader must know before applying. */
  readonly notice?: string;
}

interface Placed {
  readonly folder: string;
  readonly file: string;
  readonly target: Json;
  readonly json: Json;
}

const kustomizationHeader = { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" };

/** Namespace objects live in the folder of the namespace they create. */
function place(object: KubeObject): Placed {
  const name = object.metadata?.name ?? "";
  const folder = object.kind === "Namespace" ? name : (object.metadata?.namespace ?? "");
  if (!folder) throw new Error(`layout: ${object.kind} ${name} has no namespace, so no folder to live in`);
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
  return {
    folder,
    file: `${name}-${object.kind.toLowerCase()}.yaml`,
    target: {
      ...(group ? { group } : {}),
      version: version ?? "",
      kind: object.kind,
      name,
      ...(object.kind === "Namespace" ? {} : { namespace: folder }),
    },
    json: JSON.parse(JSON.stringify(object)) as Json,
  };
}

const byPath = (a: { path: string }, b: { path: string }) => byCodePoint(a.path, b.path);

export function planLayout(environments: readonly RenderedEnvironment[]): YamlFile[] {
  const placed = environments.map((env) => {
    const files = new Map<string, Placed>();
    for (const { object } of env.objects) {
      const p = place(object);
      const key = `${p.folder}/${p.file}`;
      if (files.has(key)) throw new Error(`layout: two objects of ${env.environment.name} would both be written to ${key}`);
      files.set(key, p);
    }
    return files;
  });
  const keys = [...new Set(placed.flatMap((m) => [...m.keys()]))].sort();
  const files: YamlFile[] = [];
  const baseResources = new Map<string, string[]>();
  const overlayResources = environments.map(() => new Map<string, string[]>());
  const overlayPatches = environments.map(() => new Map<string, { path: string; target: Json }[]>());
  const push = <T>(map: Map<string, T[]>, key: string, value: T) => map.set(key, [...(map.get(key) ?? []), value]);

  for (const key of keys) {
    const copies = placed.map((m) => m.get(key));
    const shared = copies.every((c) => c !== undefined);
    const first = copies.find((c) => c !== undefined) as Placed;
    if (shared) {
      files.push({ path: `base/${key}`, documents: [first.json] });
      push(baseResources, first.folder, first.file);
    }
    copies.forEach((copy, i) => {
      if (!copy) return;
      const env = environments[i]?.environment.name;
      if (!shared) {
        files.push({ path: `overlays/${env}/${key}`, documents: [copy.json] });
        push(overlayResources[i]!, copy.folder, copy.file);
      } else if (!isDeepStrictEqual(copy.json, first.json)) {
        const path = `patches/${copy.file}`;
        files.push({ path: `overlays/${env}/${copy.folder}/${path}`, documents: [jsonPatch(first.json, copy.json) as Json] });
        // The patch applies to the base copy, so it targets that copy's apiVersion.
        push(overlayPatches[i]!, copy.folder, { path, target: first.target });
      }
    });
  }

  for (const [folder, resources] of baseResources) {
    files.push({ path: `base/${folder}/kustomization.yaml`, documents: [{ ...kustomizationHeader, resources }] });
  }
  environments.forEach(({ environment }, i) => {
    const folders = [...new Set([...placed[i]!.values()].map((p) => p.folder))].sort();
    for (const folder of folders) {
      const resources = [
        ...(baseResources.has(folder) ? [`../../../base/${folder}`] : []),
        ...(overlayResources[i]!.get(folder) ?? []),
      ];
      const patches = overlayPatches[i]!.get(folder) ?? [];
      files.push({
        path: `overlays/${environment.name}/${folder}/kustomization.yaml`,
        documents: [{ ...kustomizationHeader, resources, ...(patches.length ? { patches } : {}) }],
      });
    }
    files.push({
      path: `overlays/${environment.name}/kustomization.yaml`,
      documents: [{ ...kustomizationHeader, resources: folders }],
    });
  });
  return files.sort(byPath);
}
