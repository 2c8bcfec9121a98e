// The committed tree builds with the real kustomize, and what `kustomize build overlays/<env>`
// renders is exactly the set of objects the generator produces for that environment; each base
// folder renders its component as the shared defaults have it. Folders are discovered from disk,
// so new environments, namespaces and components are covered automatically.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environmentObjects } from "../generator/pipeline.ts";
import { environments, neutralBase } from "../generator/config/environments.ts";
import { byKey, kustomizeBuild, type PlainObject, repoRoot, subfolders } from "./support/repo.ts";

const envFolders = subfolders(join(repoRoot, "overlays"));
const baseFolders = subfolders(join(repoRoot, "base")).flatMap((namespace) =>
  subfolders(join(repoRoot, "base", namespace)).map((component) => ({ namespace, component })),
);
const namespaceOverlays = envFolders.flatMap((env) =>
  subfolders(join(repoRoot, "overlays", env)).map((namespace) => ({ env, namespace })),
);

/**
 * The only objects a namespace folder may render: its own, the Namespace that creates it, and the
 * Namespaces its Application delivers for another (a namespace its operator watches).
 */
function outsideNamespace(objects: readonly PlainObject[], namespace: string, env?: string): string[] {
  const environment = environments.find((e) => e.name === env);
  const delivered = new Set(
    environment ? environmentObjects(environment).objects.filter((o) => o.deliveredWith === namespace).map((o) => `Namespace /${o.object.metadata?.name}`) : [],
  );
  return objects
    .filter((o) => !(o.kind === "Namespace" ? o.metadata?.name === namespace : o.metadata?.namespace === namespace))
    .map((o) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`)
    .filter((id) => !delivered.has(id));
}

describe("the committed overlays", () => {
  it("exist for every configured environment, and only for those", () => {
    expect(envFolders).toEqual(environments.map((e) => e.name).sort());
  });

  it.each(envFolders)("kustomize build overlays/%s renders exactly the generator's objects", (env) => {
    const environment = environments.find((e) => e.name === env);
    if (!environment) throw new Error(`overlays/${env} has no environment named ${env} in generator/config`);
    const expected = byKey(environmentObjects(environment).objects.map((o) => o.object));
    const built = byKey(kustomizeBuild(join(repoRoot, "overlays", env)));

    // Same objects first (a readable list of what is missing or extra), then every field.
    expect([...built.keys()]).toEqual([...expected.keys()]);
    for (const [key, object] of expected) expect(built.get(key), key).toStrictEqual(object);
  });
});

describe("every per-namespace overlay", () => {
  it("is discovered", () => {
    expect(namespaceOverlays.length).toBeGreaterThan(0);
  });

  it.each(namespaceOverlays)("overlays/$env/$namespace builds and renders only namespace $namespace", ({ env, namespace }) => {
    const objects = kustomizeBuild(join(repoRoot, "overlays", env, namespace));
    expect(objects.length).toBeGreaterThan(0);
    expect(outsideNamespace(objects, namespace, env)).toEqual([]);
  });
});

describe("every base folder", () => {
  it("is discovered", () => {
    expect(baseFolders.length).toBeGreaterThan(0);
  });

  it.each(baseFolders)("base/$namespace/$component builds into exactly the component's objects in that namespace, as the shared defaults have them", ({ namespace, component }) => {
    const objects = kustomizeBuild(join(repoRoot, "base", namespace, component));
    expect(outsideNamespace(objects, namespace)).toEqual([]);
    const expected = environmentObjects(neutralBase)
      .objects.filter((o) => o.component === component)
      .map((o) => o.object)
      .filter((o) => (o.kind === "Namespace" ? o.metadata?.name : o.metadata?.namespace) === namespace);
    expect(expected.length).toBeGreaterThan(0);
    expect(byKey(objects)).toStrictEqual(byKey(expected));
  });
});
