// Stage 3: places each environment's objects into kustomize folders.
//   base/<namespace>/<component>/   the shared defaults (config/defaults.ts) rendered as an
//                                   environment of their own: neutral, never deployed
//   overlays/<env>/<namespace>/     the bases of the components this environment builds as the
//                                   defaults do, JSON patches of what it changes in them, and its
//                                   own objects whole (a component built another way, an extra object)
//   overlays/<env>/                 the whole environment (one entry per namespace)
// Each overlay is a function of the base and its own environment alone, so an edit to one
// environment never changes a file of another, and `kustomize build overlays/<env>` renders
// exactly the environment's object set. docs/layout.md has the reasoning.
import type { RenderedEnvironment, RenderedObject } from "../components/render.ts";
import { type Json, stableName } from "../lib/objects.ts";
import { byCodePoint } from "../lib/order.ts";
import { jsonPatch } from "./json-patch.ts";
import { namespaceOf } from "../lib/identity.ts";

/** A YAML file of the plan: its path from the repository root and its documents. */
export interface YamlFile {
  readonly path: string;
  readonly documents: readonly Json[];
  /** Comment lines under the generated-file header, for what a reader must know before applying. */
  readonly notice?: string;
}

/** One object, where it lives and how a patch names it. */
interface Placed {
  /** The folder: the object's namespace (a Namespace: the one it creates), or the one that delivers it. */
  readonly namespace: string;
  readonly component: string;
  /** Group, kind and stable name: the same object in the base and in an environment, whatever its version or content. */
  readonly identity: string;
  readonly file: string;
  /** The patch target that selects this object. */
  readonly target: Json;
  readonly json: Json;
}

/** The objects one component renders in one namespace, by identity: the unit a base folder holds. */
type Unit = Map<string, Placed>;

const kustomizationHeader = { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" };

function place({ component, object, json, deliveredWith }: RenderedObject): Placed {
  const name = object.metadata?.name ?? "";
  const namespace = deliveredWith ?? namespaceOf(object);
  if (!namespace) throw new Error(`layout: ${object.kind} ${name} has no namespace, so no folder to live in`);
  const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
  return {
    namespace,
    component,
    identity: `${group}/${object.kind}/${stableName(object)}`,
    // Named without the content hash, so a changed Job is a changed file rather than another one.
    file: `${stableName(object)}-${object.kind.toLowerCase()}.yaml`,
    target: {
      ...(group ? { group } : {}),
      version: version ?? "",
      kind: object.kind,
      name,
      ...(object.kind === "Namespace" ? {} : { namespace: namespaceOf(object) }),
    },
    json,
  };
}

/** An environment's objects by `<namespace>/<component>`, then by identity. */
function unitsOf(env: RenderedEnvironment): Map<string, Unit> {
  const units = new Map<string, Unit>();
  for (const rendered of env.objects) {
    const p = place(rendered);
    const key = `${p.namespace}/${p.component}`;
    const unit = units.get(key) ?? new Map<string, Placed>();
    const clash = [...unit.values()].find((q) => q.identity === p.identity || q.file === p.file);
    if (clash) throw new Error(`layout: two objects of ${env.environment.name} would both be ${key}/${p.file}`);
    units.set(key, unit.set(p.identity, p));
  }
  return units;
}

const sortedKeys = <T>(map: ReadonlyMap<string, T>) => [...map.keys()].sort(byCodePoint);
const byPath = (a: { path: string }, b: { path: string }) => byCodePoint(a.path, b.path);
const kustomization = (resources: string[], patches: Json[] = []): Json => ({
  ...kustomizationHeader,
  resources,
  ...(patches.length > 0 ? { patches } : {}),
});

/**
 * The files of `base` (the shared defaults, rendered) and of every environment's overlay. A
 * component's base folder is used by an environment that renders at least its objects (by
 * identity): what differs is patched, what is extra is written whole. An environment that builds
 * the component another way (other kinds, fewer objects) has all of its objects written whole.
 */
export function planLayout(base: RenderedEnvironment, environments: readonly RenderedEnvironment[]): YamlFile[] {
  const baseUnits = unitsOf(base);
  const files: YamlFile[] = [];
  for (const key of sortedKeys(baseUnits)) {
    const unit = baseUnits.get(key)!;
    files.push(...[...unit.values()].map((p) => ({ path: `base/${key}/${p.file}`, documents: [p.json] })));
    files.push({ path: `base/${key}/kustomization.yaml`, documents: [kustomization([...unit.values()].map((p) => p.file).sort(byCodePoint))] });
  }

  for (const env of environments) {
    const name = env.environment.name;
    const namespaces = new Map<string, { bases: string[]; built: string[]; own: string[]; patches: Json[] }>();
    const units = unitsOf(env);
    for (const key of sortedKeys(units)) {
      const unit = units.get(key)!;
      const [namespace = "", component = ""] = key.split("/");
      const folder = namespaces.get(namespace) ?? { bases: [], built: [], own: [], patches: [] };
      namespaces.set(namespace, folder);
      const shared = baseUnits.get(key);
      const usesBase = shared !== undefined && [...shared.keys()].every((identity) => unit.has(identity));
      for (const p of [...unit.values()].sort((a, b) => byCodePoint(a.file, b.file))) {
        const from = usesBase ? shared.get(p.identity) : undefined;
        if (from === undefined) {
          files.push({ path: `overlays/${name}/${namespace}/${component}/${p.file}`, documents: [p.json] });
          folder.own.push(`${component}/${p.file}`);
          continue;
        }
        const patch = jsonPatch(from.json, p.json);
        if (patch.length > 0) {
          // A Job that differs gets its own name too: kustomize renames an object a JSON patch renames.
          const path = `${component}/patches/${p.file}`;
          files.push({ path: `overlays/${name}/${namespace}/${path}`, documents: [patch as Json] });
          // The patch applies to the base's copy, so it targets that copy (its name, its apiVersion).
          folder.patches.push({ path, target: from.target });
        }
      }
      if (usesBase) folder.bases.push(`../../../base/${key}`);
      else folder.built.push(component);
    }
    for (const namespace of sortedKeys(namespaces)) {
      const { bases, built, own, patches } = namespaces.get(namespace)!;
      const notice = built.length > 0 ? `Built by ${name} its own way, written whole here (not from base/): ${built.join(", ")}.` : undefined;
      files.push({
        path: `overlays/${name}/${namespace}/kustomization.yaml`,
        documents: [kustomization([...bases, ...own], patches)],
        ...(notice ? { notice } : {}),
      });
    }
    files.push({ path: `overlays/${name}/kustomization.yaml`, documents: [kustomization(sortedKeys(namespaces))] });
  }
  return files.sort(byPath);
}
