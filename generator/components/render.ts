// Stage 2 of the pipeline: runs every component over one environment's config and checks the
// typed objects they return. Either every object is valid or nothing leaves this stage.
import { configProblems } from "./config-checks.ts";
import { type Component, components } from "./index.ts";
import type { Environment } from "../config/types.ts";
import { GenerationFailed, InvalidConfig, objectId, type Problem } from "../lib/errors.ts";
import type { KubeObject } from "../lib/objects.ts";
import { secretRevisionsAnnotation } from "../lib/labels.ts";
import { schemaProblems } from "../lib/validation.ts";

export interface RenderedObject {
  readonly component: string;
  readonly object: KubeObject;
}

export interface RenderedEnvironment {
  readonly environment: Environment;
  readonly objects: readonly RenderedObject[];
}

/** Renders one environment; throws GenerationFailed listing every problem found. */
export function renderEnvironment(
  env: Environment,
  registry: Readonly<Record<string, Component>> = components,
): RenderedEnvironment {
  // Config is checked first; a component whose config is wrong is not built.
  const problems: Problem[] = configProblems(env).map((p) => ({ environment: env.name, ...p }));
  const unbuildable = new Set(problems.map((p) => p.component));
  const objects: RenderedObject[] = [];
  for (const [component, build] of Object.entries(registry)) {
    if (unbuildable.has(component)) continue;
    try {
      for (const object of build(env)) objects.push({ component, object });
    } catch (err) {
      if (!(err instanceof InvalidConfig)) throw err;
      // Bad config that several components read (a kind, through a contract) is reported once.
      if (!problems.some((p) => p.object === err.object && p.field === err.field && p.message === err.message)) {
        problems.push({ environment: env.name, component, object: err.object, field: err.field, message: err.message });
      }
    }
  }
  const seen = new Map<string, string>();
  const namespaces = new Set(Object.values(env.common.namespaces));
  for (const { component, object } of objects) {
    const at = { environment: env.name, component, object: objectId(object) };
    problems.push(...schemaProblems(object).map((p) => ({ ...at, ...p })));
    // A Namespace object is checked by the name it creates, every other object by the one it is in.
    const ns = object.kind === "Namespace" ? object.metadata?.name : object.metadata?.namespace;
    if (ns === undefined || !namespaces.has(ns)) {
      problems.push({
        ...at,
        field: object.kind === "Namespace" ? "metadata.name" : "metadata.namespace",
        message: `namespace ${JSON.stringify(ns)} is not one of the layer's namespaces (${[...namespaces].join(", ")})`,
      });
    }
    // Identity is group, kind, namespace and name: two versions of one kind are the same object.
    const group = object.apiVersion.includes("/") ? object.apiVersion.split("/")[0] : "";
    const key = `${group} ${objectId(object)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        ...at,
        field: "metadata.name",
        message: `${objectId(object)} is already defined by component ${first}; kind/namespace/name must be unique`,
      });
    } else {
      seen.set(key, component);
    }
  }
  problems.push(...secretRevisionProblems(env, objects));
  if (problems.length > 0) throw new GenerationFailed(problems);
  return { environment: env, objects };
}

/** A revision must be a count, of a Secret that some pod follows: otherwise raising it does nothing. */
function secretRevisionProblems(env: Environment, objects: readonly RenderedObject[]): Problem[] {
  const followed = new Set(
    objects.flatMap(({ object }) => {
      const template = (object.toJSON() as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }).spec?.template;
      const list = template?.metadata?.annotations?.[secretRevisionsAnnotation];
      return list ? list.split(",").map((entry) => entry.split("=")[0]!) : [];
    }),
  );
  const at = { environment: env.name, component: "(config)", object: "(config)" };
  return Object.entries(env.secretRevisions).flatMap(([name, revision]) => [
    ...(Number.isInteger(revision) && revision >= 0
      ? []
      : [{ ...at, field: `secretRevisions.${name}`, message: `revision ${revision} is not a whole number of 0 or more` }]),
    ...(followed.has(name)
      ? []
      : [{ ...at, field: `secretRevisions.${name}`, message: `no pod restarts on a rotation of Secret ${name}; the Secrets that rotate are ${[...followed].sort().join(", ")}` }]),
  ]);
}
