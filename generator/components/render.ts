// Stage 2 of the pipeline: runs every component over one environment's config and checks the
// typed objects they return. Either every object is valid or nothing leaves this stage.
import { configProblems } from "./config-checks.ts";
import { type Component, components } from "./index.ts";
import { operatorNamespaceObjects, operatorsUsed } from "./operators.ts";
import type { Environment } from "../config/types.ts";
import { GenerationFailed, InvalidConfig, type Problem } from "../lib/errors.ts";
import { groupOf, namespaceOf, objectId } from "../lib/identity.ts";
import { type Json, type KubeObject, plain } from "../lib/objects.ts";
import { secretRevisionsAnnotation } from "../lib/labels.ts";
import { secretReferences } from "../lib/secret-references.ts";
import { schemaProblems } from "../lib/validation.ts";
import { byCodePoint } from "../lib/order.ts";

export interface RenderedObject {
  readonly component: string;
  readonly object: KubeObject;
  /**
   * The object's plain JSON (see `plain`), made once and read by every later stage instead of
   * serializing the object again. Shared: no stage may change it (a changed object gets a new one).
   */
  readonly json: Json;
  /**
   * The namespace whose Application delivers the object, when not its own: a namespace an operator
   * watches is created with the operators' namespaces, before the chart that binds Roles in it.
   */
  readonly deliveredWith?: string;
}

/** An object of `component` with its JSON. */
export function renderedObject(component: string, object: KubeObject): RenderedObject {
  return { component, object, json: plain<Json>(object) };
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
      for (const object of build(env)) objects.push(renderedObject(component, object));
    } catch (err) {
      if (!(err instanceof InvalidConfig)) throw err;
      // Bad config that several components read (a kind, through a contract) is reported once.
      if (!problems.some((p) => p.object === err.object && p.field === err.field && p.message === err.message)) {
        problems.push({ environment: env.name, component, object: err.object, field: err.field, message: err.message });
      }
    }
  }
  // The operators follow from what the components rendered; their namespaces are the layer's too.
  const operators = operatorsUsed(env, objects.map((o) => o.object));
  try {
    for (const object of operatorNamespaceObjects(env, operators, objects.map((o) => o.object))) objects.push(renderedObject("operators", object));
  } catch (err) {
    if (!(err instanceof InvalidConfig)) throw err;
    problems.push({ environment: env.name, component: "operators", object: err.object, field: err.field, message: err.message });
  }
  for (const [i, rendered] of objects.entries()) {
    const watcher = operators.find((o) => rendered.object.kind === "Namespace" && o.watches?.includes(namespaceOf(rendered.object)));
    if (watcher) objects[i] = { ...rendered, deliveredWith: watcher.namespace };
  }
  const seen = new Map<string, string>();
  const namespaces = new Set([...Object.values(env.common.namespaces), ...operators.map((o) => o.namespace)]);
  for (const { component, object } of objects) {
    const at = { environment: env.name, component, object: objectId(object) };
    problems.push(...schemaProblems(object).map((p) => ({ ...at, ...p })));
    // A Namespace object is checked by the name it creates, every other object by the one it is in.
    const ns = namespaceOf(object);
    if (!namespaces.has(ns)) {
      problems.push({
        ...at,
        field: object.kind === "Namespace" ? "metadata.name" : "metadata.namespace",
        message: `namespace ${JSON.stringify(ns)} is not one of the layer's namespaces (${[...namespaces].join(", ")})`,
      });
    }
    // Identity is group, kind, namespace and name: two versions of one kind are the same object.
    const key = `${groupOf(object)} ${objectId(object)}`;
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
  // Without its ExternalSecrets (bad store config, reported above) every Secret would count as unwritten.
  if (!unbuildable.has("external-secrets")) problems.push(...unproducedSecretProblems(env, objects));
  if (problems.length > 0) throw new GenerationFailed(problems);
  return { environment: env, objects };
}

/**
 * Where the External Secrets Operator writes the Secrets, every Secret (and key) an object reads
 * must be one an ExternalSecret writes: a Secret nothing writes would leave its pods (or the
 * operator reading it) waiting, and nobody would know to create it.
 */
function unproducedSecretProblems(env: Environment, objects: readonly RenderedObject[]): Problem[] {
  if (env.secrets.kind !== "external-secrets") return [];
  const produced = new Map<string, Set<string>>();
  for (const { object, json } of objects) {
    if (object.kind !== "ExternalSecret") continue;
    const spec = (json as { spec?: { target?: { name?: string }; data?: { secretKey: string }[] } }).spec;
    const name = spec?.target?.name ?? object.metadata?.name;
    produced.set(`${object.metadata?.namespace}/${name}`, new Set((spec?.data ?? []).map((d) => d.secretKey)));
  }
  return objects.flatMap(({ component, object, json }) => {
    if (object.kind === "ExternalSecret") return [];
    const namespace = object.metadata?.namespace;
    return secretReferences(json).flatMap((ref) => {
      const keys = produced.get(`${namespace}/${ref.name}`);
      const missing = !keys
        ? `reads Secret ${ref.name}, which no ExternalSecret in ${namespace} writes`
        : ref.key !== undefined && !keys.has(ref.key)
          ? `reads key ${ref.key} of Secret ${ref.name}, which its ExternalSecret does not write (it writes ${[...keys].join(", ")})`
          : undefined;
      return missing
        ? [{ environment: env.name, component, object: objectId(object), field: ref.field, message: `${missing}: declare the Secret and key in the component's contract (secrets), so an ExternalSecret writes it` }]
        : [];
    });
  });
}

/** A revision must be a count, of a Secret that some pod follows: otherwise raising it does nothing. */
function secretRevisionProblems(env: Environment, objects: readonly RenderedObject[]): Problem[] {
  const followed = new Set(
    objects.flatMap(({ json }) => {
      const template = (json as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }).spec?.template;
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
      : [{ ...at, field: `secretRevisions.${name}`, message: `no pod restarts on a rotation of Secret ${name}; the Secrets that rotate are ${[...followed].sort(byCodePoint).join(", ")}` }]),
  ]);
}
