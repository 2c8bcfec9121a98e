// The layout planner with more than one environment, as production will use it: every overlay
// builds with the real kustomize into exactly its environment's objects; what all environments
// share lives once in base/, what an environment changes is a JSON patch in its own overlay, and
// what only one environment has lives only in that environment's overlay. Plus jsonPatch itself.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from "kubernetes-models/autoscaling/v1/HorizontalPodAutoscaler";
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV2 } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { afterAll, describe, expect, it } from "vitest";
import { type RenderedEnvironment, renderEnvironment } from "../generator/components/render.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { toYaml } from "../generator/emit/yaml.ts";
import { type Json, jsonPatch, type PatchOperation } from "../generator/layout/json-patch.ts";
import { planLayout } from "../generator/layout/plan.ts";
import {
  byKey,
  kustomizeBuild,
  objectKey,
  type PlainObject,
  parseYaml,
  readTree,
  removeTempDirs,
  subfolders,
  tempDir,
} from "./support/repo.ts";

afterAll(removeTempDirs);

/** Plans the layout of `environments` and writes it, as the CLI would, into a new temp dir. */
function writeLayout(environments: readonly RenderedEnvironment[]): string {
  const root = tempDir("layout");
  for (const file of planLayout(environments)) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), toYaml(file.documents));
  }
  return root;
}

const objectsOf = (env: RenderedEnvironment) => byKey(env.objects.map((o) => o.object));

/** The folder the planner puts an object in: its namespace (a Namespace: the one it creates). */
const folderOf = (o: PlainObject) => (o.kind === "Namespace" ? o.metadata?.name : o.metadata?.namespace) ?? "";

interface Kustomization {
  resources?: string[];
  patches?: { path: string; target: { group?: string; version: string; kind: string; name: string; namespace?: string } }[];
}

function readOne(path: string, tree: Map<string, Buffer>): unknown {
  const bytes = tree.get(path);
  if (!bytes) throw new Error(`${path} was not written`);
  const [doc, ...rest] = parseYaml(bytes.toString("utf8"), path);
  if (rest.length > 0) throw new Error(`${path} holds more than one document`);
  return doc;
}

interface Layout {
  /** Object files (not kustomizations, not patches): object key -> the paths holding it. */
  readonly objectFiles: Map<string, { path: string; object: PlainObject }[]>;
  /** Per environment: the keys of the objects its overlay patches, and the patch file paths. */
  readonly patched: Map<string, { keys: string[]; files: string[] }>;
  /** Every file under a patches/ folder. */
  readonly patchFiles: string[];
  /** The operations of each patch file. */
  readonly patches: Map<string, PatchOperation[]>;
}

function readLayout(root: string, envNames: readonly string[]): Layout {
  const tree = readTree(root);
  const objectFiles = new Map<string, { path: string; object: PlainObject }[]>();
  const patchFiles: string[] = [];
  for (const path of tree.keys()) {
    if (path.split("/").includes("patches")) patchFiles.push(path);
    else if (!path.endsWith("/kustomization.yaml")) {
      const object = readOne(path, tree) as PlainObject;
      const key = objectKey(object);
      objectFiles.set(key, [...(objectFiles.get(key) ?? []), { path, object }]);
    }
  }
  const patched = new Map(
    envNames.map((env) => {
      const keys: string[] = [];
      const files: string[] = [];
      for (const folder of subfolders(join(root, "overlays", env))) {
        const at = `overlays/${env}/${folder}`;
        const k = readOne(`${at}/kustomization.yaml`, tree) as Kustomization;
        for (const { path, target } of k.patches ?? []) {
          files.push(`${at}/${path}`);
          const apiVersion = target.group ? `${target.group}/${target.version}` : target.version;
          keys.push([apiVersion, target.kind, target.namespace ?? "", target.name].join("/"));
        }
      }
      return [env, { keys: keys.sort(), files: files.sort() }] as const;
    }),
  );
  const patches = new Map(patchFiles.map((path) => [path, readOne(path, tree) as PatchOperation[]]));
  return { objectFiles, patched, patchFiles: patchFiles.sort(), patches };
}

/**
 * Writes the layout of `environments`, builds it with kustomize and checks every placement rule.
 * Returns what the scenario exercised, so each test can assert it covers what it claims to.
 */
function checkLayout(environments: readonly RenderedEnvironment[]) {
  const root = writeLayout(environments);
  const names = environments.map((e) => e.environment.name);
  const objects = environments.map(objectsOf);
  const [first] = objects;
  if (!first) throw new Error("no environments");

  // What each overlay renders: the whole environment, and each namespace folder on its own.
  expect(subfolders(join(root, "overlays"))).toEqual([...names].sort());
  names.forEach((env, i) => {
    const expected = objects[i]!;
    const built = byKey(kustomizeBuild(join(root, "overlays", env)));
    expect([...built.keys()], `overlays/${env}`).toEqual([...expected.keys()]);
    for (const [key, object] of expected) expect(built.get(key), `overlays/${env}: ${key}`).toStrictEqual(object);

    for (const folder of subfolders(join(root, "overlays", env))) {
      const inFolder = [...expected].filter(([, o]) => folderOf(o) === folder);
      const builtFolder = byKey(kustomizeBuild(join(root, "overlays", env, folder)));
      expect([...builtFolder], `overlays/${env}/${folder}`).toStrictEqual(inFolder);
    }
  });

  // Where each object lives.
  const layout = readLayout(root, names);
  const allKeys = [...new Set(objects.flatMap((m) => [...m.keys()]))].sort();
  const shared: string[] = [];
  const envOnly: string[] = [];
  for (const key of allKeys) {
    const holders = names.filter((_, i) => objects[i]!.has(key));
    const files = layout.objectFiles.get(key) ?? [];
    if (holders.length === names.length) {
      shared.push(key);
      expect(files.map((f) => f.path.split("/")[0]), `${key} is in every environment: once, in base/`).toEqual(["base"]);
      expect(files[0]!.object, `base/ holds ${key} as the first environment has it`).toStrictEqual(first.get(key));
    } else {
      envOnly.push(key);
      expect(files.map((f) => f.path.split("/").slice(0, 2).join("/")), `${key} is only in ${holders}`).toEqual(
        holders.map((env) => `overlays/${env}`),
      );
      for (const { path, object } of files) {
        expect(object, path).toStrictEqual(objects[names.indexOf(path.split("/")[1]!)]!.get(key));
      }
    }
  }
  expect([...layout.objectFiles.keys()].sort(), "no object file the environments do not have").toEqual(allKeys);

  // What each environment changes: JSON patches in its own overlay, against the first environment.
  const differing = names.map((_, i) => shared.filter((key) => !isDeepStrictEqual(objects[i]!.get(key), first.get(key))));
  names.forEach((env, i) => {
    const { keys, files } = layout.patched.get(env)!;
    expect(keys, `overlays/${env} patches exactly the objects that differ from ${names[0]}`).toEqual(differing[i]);
    for (const file of files) expect(file).toMatch(new RegExp(`^overlays/${env}/[^/]+/patches/[^/]+\\.yaml$`));
  });
  expect(differing[0], "the first environment is the base: it patches nothing").toEqual([]);
  expect(layout.patchFiles, "no patch file that no kustomization uses").toEqual(
    [...layout.patched.values()].flatMap((p) => p.files).sort(),
  );

  return { root, shared, envOnly, differing, layout };
}

// ---------------------------------------------------------------------------------------------

/** Production as staging with a different size: config changes only. */
const production: Environment = {
  ...staging,
  name: "production",
  common: { ...staging.common, images: { ...staging.common.images, redis: "redis:7.4-alpine" } },
  // More Redis data memory needs a higher limit: maxmemory may use at most half of it.
  redis: { ...staging.redis, maxmemory: "1gb", resources: { ...staging.redis.resources, limits: { ...staging.redis.resources.limits, memory: "2Gi" } } },
  kafka: { ...staging.kafka, storage: "50Gi" },
  typesense: { ...staging.typesense, replicas: 3 },
};

describe("planLayout with two environments", () => {
  it("puts what they share in base/ and production's differences in production's patches", () => {
    const { shared, envOnly, differing, layout } = checkLayout([
      renderEnvironment(staging),
      renderEnvironment(production),
    ]);

    // A Job is named after its pod template, so production's other Redis image makes it another Job.
    expect(envOnly.map((key) => key.replace(/-[0-9a-f]{8}$/, "-<hash>"))).toEqual([
      "batch/v1/Job/nx-broker/nx-redis-cluster-init-<hash>",
      "batch/v1/Job/nx-broker/nx-redis-cluster-init-<hash>",
    ]);
    expect(differing[1], "the bigger production config changes some objects").not.toEqual([]);
    const unchanged = shared.filter((key) => !differing[1]!.includes(key));
    expect(unchanged, "and leaves others (the namespaces at least) as staging has them").not.toEqual([]);
    expect(layout.patchFiles.every((p) => p.startsWith("overlays/production/"))).toBe(true);

    // The patches carry production's own values, including a label key that needs escaping.
    const operations = [...layout.patches.values()].flat();
    const values = operations.flatMap((op) => ("value" in op ? [op.value] : []));
    expect(values).toContain("1gb");
    expect(values).toContain("7.4-alpine");
    expect(operations.map((op) => op.path)).toContain("/metadata/labels/app.kubernetes.io~1version");
  });

  it("keeps a component one environment lacks, and objects only the other has, in their own overlay", () => {
    const full = renderEnvironment(staging);
    const extraNamespace = "nx-extra";
    const lean: RenderedEnvironment = {
      environment: production,
      objects: [
        ...renderEnvironment(production).objects.filter((o) => o.component !== "redis"),
        {
          component: "extra",
          object: new ConfigMap({ metadata: { name: "nx-production-only", namespace: staging.common.namespaces.search }, data: { a: "1" } }),
        },
        { component: "extra", object: new Namespace({ metadata: { name: extraNamespace } }) },
        {
          component: "extra",
          object: new ConfigMap({ metadata: { name: "nx-extra-settings", namespace: extraNamespace }, data: { on: "yes" } }),
        },
      ],
    };
    const redisKeys = [...byKey(full.objects.filter((o) => o.component === "redis").map((o) => o.object)).keys()];
    expect(redisKeys.length).toBeGreaterThan(0);

    const { root, envOnly, layout } = checkLayout([full, lean]);

    const onlyIn = (env: string) =>
      envOnly.filter((key) => layout.objectFiles.get(key)!.every((f) => f.path.startsWith(`overlays/${env}/`)));
    expect(onlyIn("staging")).toEqual([...redisKeys].sort());
    expect(onlyIn("production")).toEqual([
      `v1/ConfigMap/${extraNamespace}/nx-extra-settings`,
      `v1/ConfigMap/${staging.common.namespaces.search}/nx-production-only`,
      `v1/Namespace//${extraNamespace}`,
    ]);
    expect(subfolders(join(root, "base"))).not.toContain(extraNamespace);
  });

  it("patches an object whose apiVersion differs between environments onto the base copy", () => {
    const hpa = (apiVersion: "autoscaling/v1" | "autoscaling/v2", spec: Record<string, unknown>) => ({
      component: "scaling",
      object: (apiVersion === "autoscaling/v1"
        ? new HorizontalPodAutoscalerV1({ metadata: { name: "nx-debezium", namespace: "nx-search" }, spec: spec as never })
        : new HorizontalPodAutoscalerV2({ metadata: { name: "nx-debezium", namespace: "nx-search" }, spec: spec as never })),
    });
    const scaleTarget = { apiVersion: "apps/v1", kind: "Deployment", name: "nx-debezium" };
    const base = renderEnvironment(staging);
    const root = writeLayout([
      { ...base, objects: [...base.objects, hpa("autoscaling/v1", { scaleTargetRef: scaleTarget, maxReplicas: 2 })] },
      {
        environment: production,
        objects: [...renderEnvironment(production).objects, hpa("autoscaling/v2", { scaleTargetRef: scaleTarget, maxReplicas: 4 })],
      },
    ]);
    const scalerOf = (env: string) =>
      kustomizeBuild(join(root, "overlays", env)).filter((o) => o.kind === "HorizontalPodAutoscaler");
    expect(scalerOf("staging").map((o) => [o.apiVersion, (o.spec as { maxReplicas: number }).maxReplicas])).toEqual([["autoscaling/v1", 2]]);
    expect(scalerOf("production").map((o) => [o.apiVersion, (o.spec as { maxReplicas: number }).maxReplicas])).toEqual([["autoscaling/v2", 4]]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("jsonPatch", () => {
  const cases: { name: string; from: Json; to: Json; patch: PatchOperation[] }[] = [
    { name: "equal values", from: { a: [1, { b: 2 }] }, to: { a: [1, { b: 2 }] }, patch: [] },
    {
      name: "a nested change",
      from: { spec: { template: { replicas: 1, name: "x" } } },
      to: { spec: { template: { replicas: 3, name: "x" } } },
      patch: [{ op: "replace", path: "/spec/template/replicas", value: 3 }],
    },
    { name: "an added key", from: { a: 1 }, to: { a: 1, b: { c: 2 } }, patch: [{ op: "add", path: "/b", value: { c: 2 } }] },
    { name: "a removed key", from: { a: 1, b: 2 }, to: { a: 1 }, patch: [{ op: "remove", path: "/b" }] },
    {
      name: "a list of the same length, item by item",
      from: { args: ["--maxmemory", "256mb", { x: 1 }] },
      to: { args: ["--maxmemory", "1gb", { x: 2 }] },
      patch: [
        { op: "replace", path: "/args/1", value: "1gb" },
        { op: "replace", path: "/args/2/x", value: 2 },
      ],
    },
    {
      name: "a list of a different length, replaced whole",
      from: { ports: [1, 2] },
      to: { ports: [1, 2, 3] },
      patch: [{ op: "replace", path: "/ports", value: [1, 2, 3] }],
    },
    {
      name: "a value of another type, replaced whole",
      from: { a: { b: 1 } },
      to: { a: ["b"] },
      patch: [{ op: "replace", path: "/a", value: ["b"] }],
    },
    {
      name: "keys with '/' and '~', escaped as ~1 and ~0 ('~' first)",
      from: { labels: { "app.kubernetes.io/version": "1", "a~b": "1", "c~1": "1" } },
      to: { labels: { "app.kubernetes.io/version": "2", "a~b": "2", "c~1": "2" } },
      patch: [
        { op: "replace", path: "/labels/app.kubernetes.io~1version", value: "2" },
        { op: "replace", path: "/labels/a~0b", value: "2" },
        { op: "replace", path: "/labels/c~01", value: "2" },
      ],
    },
  ];

  it.each(cases)("patches $name", ({ from, to, patch }) => {
    expect(jsonPatch(from, to)).toEqual(patch);
  });
});
