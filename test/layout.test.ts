// The layout planner: the shared defaults rendered as an environment-neutral base, one folder per
// namespace and component; each overlay uses a component's base when it renders at least the
// base's objects, patches what differs, and writes the rest whole. Every overlay builds with the
// real kustomize into exactly its environment's objects; an edit to one environment changes no
// file of another; no patch rewrites a script or a config file's text. Plus jsonPatch itself.
// The configured environments are checked on the committed tree itself: every base folder, overlay
// and namespace overlay builds into exactly the objects the planner puts there.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from "kubernetes-models/autoscaling/v1/HorizontalPodAutoscaler";
import { HorizontalPodAutoscaler as HorizontalPodAutoscalerV2 } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RenderedEnvironment, type RenderedObject, renderedObject } from "../generator/components/render.ts";
import { neutralBase } from "../generator/config/environments.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment, PostgresSettings, PostgresStatefulSets } from "../generator/config/types.ts";
import { toYaml } from "../generator/emit/yaml.ts";
import { jsonPatch, type PatchOperation } from "../generator/layout/json-patch.ts";
import type { Json } from "../generator/lib/objects.ts";
import { planLayout } from "../generator/layout/plan.ts";
import { stableName } from "../generator/lib/objects.ts";
import { buildOutput, environmentObjects } from "../generator/pipeline.ts";
import { productionWith, stagingWith } from "./support/config.ts";
import { byKey, kustomizeBuild, objectKey, type PlainObject, parseYaml, readTree, removeTempDirs, repoRoot, subfolders, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

/**
 * The committed base/ and overlays/: the layout of the configured environments as `npm run
 * generate` wrote it (determinism.test.ts proves it is exactly the planner's), whose kustomize
 * builds the other tests of the run share.
 */
function committedLayout(): Map<string, Buffer> {
  return new Map(["base", "overlays"].flatMap((folder) => [...readTree(join(repoRoot, folder))].map(([path, bytes]) => [`${folder}/${path}`, bytes] as const)));
}

/** Plans the layout and writes it, as the CLI would, into a new temp dir. */
function writeLayout(base: RenderedEnvironment, environments: readonly RenderedEnvironment[]): string {
  const root = tempDir("layout");
  for (const file of planLayout(base, environments)) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), toYaml(file.documents, file.notice));
  }
  return root;
}

const plainOf = (o: RenderedObject) => JSON.parse(JSON.stringify(o.object)) as PlainObject;
/** The folder the planner puts an object in: its namespace (a Namespace: the one it creates), or the one that delivers it. */
const folderOf = (o: RenderedObject) => o.deliveredWith ?? ((o.object.kind === "Namespace" ? o.object.metadata?.name : o.object.metadata?.namespace) ?? "");
/** Group, kind and name without a Job's content hash: one object in the base and an environment. */
const identityOf = (o: RenderedObject) => `${o.object.apiVersion.split("/").slice(0, -1).join("/")}/${o.object.kind}/${stableName(o.object)}`;

/** An environment's objects by `<namespace>/<component>`, then by identity. */
function unitsOf(env: RenderedEnvironment): Map<string, Map<string, RenderedObject>> {
  const units = new Map<string, Map<string, RenderedObject>>();
  for (const o of env.objects) {
    const key = `${folderOf(o)}/${o.component}`;
    units.set(key, (units.get(key) ?? new Map()).set(identityOf(o), o));
  }
  return units;
}

interface Kustomization {
  resources?: string[];
  patches?: { path: string; target: { group?: string; version: string; kind: string; name: string; namespace?: string } }[];
}

function readOne(tree: Map<string, Buffer>, path: string): unknown {
  const bytes = tree.get(path);
  if (!bytes) throw new Error(`${path} was not written`);
  const [doc, ...rest] = parseYaml(bytes.toString("utf8"), path);
  if (rest.length > 0) throw new Error(`${path} holds more than one document`);
  return doc;
}

const originAnnotation = "config.kubernetes.io/origin";

/**
 * What each committed base folder (`<namespace>/<component>`) builds into, by folder, from one
 * kustomize run instead of one per folder (~0.2 s of CPU each): a kustomization listing them all
 * builds each folder on its own, and kustomize's origin annotation, removed here, names the file
 * (so the folder) each object comes from.
 */
function buildBaseFolders(keys: readonly string[]): Map<string, Map<string, PlainObject>> {
  const dir = tempDir("base-folders");
  const resources = keys.map((key) => `- ${relative(dir, join(repoRoot, "base", key))}\n`).join("");
  writeFileSync(join(dir, "kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nbuildMetadata: [originAnnotations]\nresources:\n${resources}`);
  const folders = new Map<string, PlainObject[]>();
  for (const object of kustomizeBuild(dir)) {
    const annotations = object.metadata!.annotations as Record<string, string>;
    const origin = (parse(annotations[originAnnotation]!) as { path: string }).path;
    delete annotations[originAnnotation];
    if (Object.keys(annotations).length === 0) delete object.metadata!.annotations;
    const key = relative(join(repoRoot, "base"), dirname(resolve(dir, origin)));
    folders.set(key, [...(folders.get(key) ?? []), object]);
  }
  return new Map([...folders].map(([key, objects]) => [key, byKey(objects)]));
}

/** What one environment's overlay does with each component, as its kustomizations say. */
interface OverlayUse {
  /** `<namespace>/<component>` of every base the overlay includes. */
  readonly bases: string[];
  /** Object keys of what the overlay writes whole. */
  readonly whole: string[];
  /** Object keys (of the environment's copy) of what it patches. */
  readonly patched: string[];
  /** Patch file -> its operations. */
  readonly patches: Map<string, PatchOperation[]>;
}

/**
 * Writes the layout, builds every overlay with kustomize and checks every placement rule against
 * the rendered environments. Returns what each overlay does, so a test can assert its scenario.
 */
function checkLayout(base: RenderedEnvironment, environments: readonly RenderedEnvironment[], root = writeLayout(base, environments)): Map<string, OverlayUse> & { root: string } {
  const committed = committedLayout();
  const tree = root === repoRoot ? committed : readTree(root);
  const names = environments.map((e) => e.environment.name);
  const baseUnits = unitsOf(base);

  // The base: one folder per namespace and component, each exactly the defaults' objects of it.
  expect(subfolders(join(root, "base"))).toEqual([...new Set([...baseUnits.keys()].map((k) => k.split("/")[0]))].sort());
  if (root === repoRoot) {
    const built = buildBaseFolders([...baseUnits.keys()]);
    for (const [key, unit] of baseUnits) expect(built.get(key), `base/${key}`).toStrictEqual(byKey([...unit.values()].map(plainOf)));
  } else {
    // The base is the defaults' whatever the environments: the committed base/, built above.
    const baseFiles = (files: Map<string, Buffer>) => new Map([...files].filter(([path]) => path.startsWith("base/")).map(([path, bytes]) => [path, bytes.toString("utf8")]));
    expect(baseFiles(tree)).toEqual(baseFiles(committed));
  }
  // An overlay written byte for byte as the committed one (over the same base, checked above)
  // builds as that one does: the committed build, which the run shares, stands for it.
  const filesOf = (files: Map<string, Buffer>, name: string) => [...files].filter(([path]) => path.startsWith(`overlays/${name}/`));
  const builtFrom = (name: string) => (isDeepStrictEqual(filesOf(tree, name), filesOf(committed, name)) ? repoRoot : root);

  expect(subfolders(join(root, "overlays"))).toEqual([...names].sort());
  const uses = new Map<string, OverlayUse>();
  for (const env of environments) {
    const name = env.environment.name;
    const expected = byKey(env.objects.map(plainOf));
    const folders = new Map(env.objects.map((o) => [objectKey(plainOf(o)), folderOf(o)]));

    // (a) What each overlay renders: the whole environment, and each namespace folder on its own.
    const built = byKey(kustomizeBuild(join(builtFrom(name), "overlays", name)));
    expect([...built.keys()], `overlays/${name}`).toEqual([...expected.keys()]);
    for (const [key, object] of expected) expect(built.get(key), `overlays/${name}: ${key}`).toStrictEqual(object);
    for (const namespace of subfolders(join(root, "overlays", name))) {
      const inFolder = [...expected].filter(([key]) => folders.get(key) === namespace);
      expect([...byKey(kustomizeBuild(join(builtFrom(name), "overlays", name, namespace)))], `overlays/${name}/${namespace}`).toStrictEqual(inFolder);
    }

    // Where each object lives: the base of its component when the environment renders all of that
    // base's objects (patched where it differs), else whole in the environment's own folder.
    const use: OverlayUse = { bases: [], whole: [], patched: [], patches: new Map() };
    const resources = new Set<string>();
    const patchTargets = new Map<string, string>();
    for (const namespace of subfolders(join(root, "overlays", name))) {
      const k = readOne(tree, `overlays/${name}/${namespace}/kustomization.yaml`) as Kustomization;
      for (const r of k.resources ?? []) resources.add(r.startsWith("../") ? r : `${namespace}/${r}`);
      for (const { path, target } of k.patches ?? []) {
        const file = `overlays/${name}/${namespace}/${path}`;
        use.patches.set(file, readOne(tree, file) as PatchOperation[]);
        const apiVersion = target.group ? `${target.group}/${target.version}` : target.version;
        patchTargets.set([apiVersion, target.kind, target.namespace ?? "", target.name].join("/"), file);
      }
    }
    const expectedResources = new Set<string>();
    const expectedTargets: string[] = [];
    for (const [key, unit] of unitsOf(env)) {
      const shared = baseUnits.get(key);
      const usesBase = shared !== undefined && [...shared.keys()].every((id) => unit.has(id));
      if (usesBase) {
        use.bases.push(key);
        expectedResources.add(`../../../base/${key}`);
      }
      for (const [id, o] of unit) {
        const from = usesBase ? shared.get(id) : undefined;
        const object = plainOf(o);
        if (from === undefined) {
          use.whole.push(objectKey(object));
          const [namespace, component] = key.split("/");
          const file = `${namespace}/${component}/${stableName(o.object)}-${o.object.kind.toLowerCase()}.yaml`;
          expectedResources.add(file);
          expect(readOne(tree, `overlays/${name}/${file}`), file).toStrictEqual(object);
        } else if (!isDeepStrictEqual(plainOf(from), object)) {
          use.patched.push(objectKey(object));
          expectedTargets.push(objectKey(plainOf(from)));
        }
      }
    }
    expect([...resources].sort(), `overlays/${name}: bases and whole objects`).toEqual([...expectedResources].sort());
    expect([...patchTargets.keys()].sort(), `overlays/${name} patches exactly the base objects it changes`).toEqual(expectedTargets.sort());
    for (const file of use.patches.keys()) expect(file).toMatch(new RegExp(`^overlays/${name}/[^/]+/[^/]+/patches/[^/]+\\.yaml$`));
    uses.set(name, use);
  }

  const patchFiles = [...tree.keys()].filter((p) => p.split("/").includes("patches")).sort();
  expect(patchFiles, "no patch file that no kustomization uses").toEqual([...uses.values()].flatMap((u) => [...u.patches.keys()]).sort());
  return Object.assign(uses, { root });
}

const rendered = (env: Environment) => environmentObjects(env);
const base = () => rendered(neutralBase);

// ---------------------------------------------------------------------------------------------

describe("planLayout", () => {
  it("lays out staging and production (the committed tree): every overlay builds into exactly its environment", () => {
    const uses = checkLayout(base(), [rendered(staging), rendered(production)], repoRoot);
    // Production builds PostgreSQL and PgBouncer another way: it never uses those bases.
    expect(uses.get("production")!.bases).not.toContain("nx-persistent/postgres");
    expect(uses.get("production")!.bases).not.toContain("nx-persistent/pgbouncer");
    expect(uses.get("staging")!.bases).toContain("nx-persistent/postgres");
  });

  it("patches what an environment sizes differently, a Job renamed to its own content hash", () => {
    const bigger = stagingWith({
      common: { images: { redis: "redis:7.4-alpine" } },
      // More Redis data memory needs a higher limit: maxmemory may use at most half of it.
      redis: { maxmemory: "1gb", resources: { limits: { memory: "2Gi" } } },
      kafka: { cluster: { storage: "50Gi" } },
      // (Not Typesense's or Debezium's replicas: more than one pod brings objects of their own, a
      // Raft cluster's Services or a PodDisruptionBudget.)
      postgres: { cluster: { replica: { replicas: 3 } } },
    });
    const uses = checkLayout(base(), [rendered(staging), rendered({ ...bigger, name: "bigger" })]);
    const { bases, whole, patched, patches } = uses.get("bigger")!;
    expect(whole, "a change of size writes nothing whole").toEqual([]);
    expect(bases).toEqual(uses.get("staging")!.bases);

    // The Redis Job runs another image, so its content hash (its name) differs: the patch renames it.
    const job = patched.find((key) => key.startsWith("batch/v1/Job/nx-broker/nx-redis-cluster-init-"))!;
    const jobPatch = patches.get("overlays/bigger/nx-broker/redis/patches/nx-redis-cluster-init-job.yaml")!;
    expect(jobPatch).toContainEqual({ op: "replace", path: "/metadata/name", value: job.split("/").at(-1) });

    // The patches carry the environment's own values, a label key that needs escaping included.
    const operations = [...patches.values()].flat();
    const values = operations.flatMap((op) => ("value" in op ? [op.value] : []));
    expect(values).toEqual(expect.arrayContaining(["1gb", "7.4-alpine", "50Gi", 3]));
    expect(operations.map((op) => op.path)).toContain("/metadata/labels/app.kubernetes.io~1version");
  });

  it("writes whole a component built another way, and an object the base lacks next to its base", () => {
    // Another environment made of staging's objects, which use every base, changed as below: what it
    // writes whole is then exactly what the changes make it (production writes whole much more: its
    // PostgreSQL, PgBouncer, operators and ExternalSecrets have no base).
    const full = rendered(staging);
    const extraNamespace = "nx-extra";
    const objects = full.objects;
    const other: RenderedEnvironment = {
      environment: { ...staging, name: "qa" },
      objects: [
        // Redis without its StatefulSet: no longer the base's objects, so all of it is written whole.
        ...objects.filter((o) => !(o.component === "redis" && o.object.kind === "StatefulSet")),
        // Kafka with one more object: its base, plus that object whole.
        renderedObject("kafka", new ConfigMap({ metadata: { name: "nx-kafka-extra", namespace: "nx-broker" }, data: { a: "1" } })),
        renderedObject("extra", new Namespace({ metadata: { name: extraNamespace } })),
        renderedObject("extra", new ConfigMap({ metadata: { name: "nx-extra-settings", namespace: extraNamespace }, data: { on: "yes" } })),
      ],
    };
    const uses = checkLayout(base(), [full, other]);
    const { bases, whole } = uses.get("qa")!;
    expect(bases).not.toContain("nx-broker/redis");
    expect(bases).toContain("nx-broker/kafka");
    const redisKeys = objects.filter((o) => o.component === "redis" && o.object.kind !== "StatefulSet").map((o) => objectKey(plainOf(o)));
    expect(whole.sort()).toEqual(
      [...redisKeys, "v1/ConfigMap/nx-broker/nx-kafka-extra", `v1/ConfigMap/${extraNamespace}/nx-extra-settings`, `v1/Namespace//${extraNamespace}`].sort(),
    );
    expect(uses.get("staging")!.whole).toEqual([]);
    // The namespace overlay says which components it builds its own way.
    expect(readFileSync(join(uses.root, "overlays/qa/nx-broker/kustomization.yaml"), "utf8")).toContain(
      "# Built by qa its own way, written whole here (not from base/): redis.\n",
    );
  });

  it("patches an object whose apiVersion differs between environments onto the base copy", () => {
    const scaleTargetRef = { apiVersion: "apps/v1", kind: "Deployment", name: "nx-debezium" };
    const metadata = { name: "nx-debezium", namespace: "nx-search" };
    const scaler = (env: RenderedEnvironment, object: RenderedObject["object"]): RenderedEnvironment => ({
      ...env,
      objects: [...env.objects, renderedObject("scaling", object)],
    });
    const root = writeLayout(scaler(base(), new HorizontalPodAutoscalerV1({ metadata, spec: { scaleTargetRef, maxReplicas: 2 } })), [
      scaler(rendered(staging), new HorizontalPodAutoscalerV1({ metadata, spec: { scaleTargetRef, maxReplicas: 2 } })),
      scaler(rendered(production), new HorizontalPodAutoscalerV2({ metadata, spec: { scaleTargetRef, maxReplicas: 4 } })),
    ]);
    const scalerOf = (env: string) =>
      kustomizeBuild(join(root, "overlays", env))
        .filter((o) => o.kind === "HorizontalPodAutoscaler")
        .map((o) => [o.apiVersion, (o.spec as { maxReplicas: number }).maxReplicas]);
    expect(scalerOf("staging")).toEqual([["autoscaling/v1", 2]]);
    expect(scalerOf("production")).toEqual([["autoscaling/v2", 4]]);
  });
});

// ---------------------------------------------------------------------------------------------

/** Generated file -> content, of the files under any of `prefixes`. */
function filesUnder(environments: readonly Environment[], prefixes: readonly string[]): Map<string, string> {
  return new Map(buildOutput(environments).filter((f) => prefixes.some((p) => f.path.startsWith(p))).map((f) => [f.path, f.content]));
}

/** Paths added, removed or changed between two file sets. */
function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
}

describe("an edit to one environment", () => {
  const deployed = ["base/", "overlays/", "argocd/", "backend/"];
  const original = filesUnder([staging, production], deployed);
  const retention = (hours: string) => ({
    kafka: { serverProperties: staging.kafka.serverProperties.map(([k, v]) => [k, k === "log.retention.hours" ? hours : v] as const) },
  });

  it.each([
    ["staging", "Redis maxmemory", [stagingWith({ redis: { maxmemory: "200mb" } }), production]],
    ["staging", "a Kafka setting", [stagingWith(retention("72")), production]],
    ["staging", "the Kafka client user", [stagingWith({ kafka: { clientUser: "nx.staging2" } }), production]],
    ["production", "Redis maxmemory", [staging, productionWith({ redis: { maxmemory: "200mb" } })]],
    ["production", "the Kafka broker count", [staging, productionWith({ kafka: { cluster: { brokers: { replicas: 5 } } } })]],
    ["production", "Typesense replicas", [staging, productionWith({ typesense: { replicas: 5 } })]],
  ] as const)("to %s (%s) changes only that environment's files", (changed, _what, environments) => {
    const paths = changedPaths(original, filesUnder(environments, deployed));
    expect(paths.filter((p) => p.startsWith(`overlays/${changed}/`)), "the edit shows in its own overlay").not.toEqual([]);
    expect(paths.filter((p) => !p.split("/").includes(changed)), "and in no file of another environment or the base").toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

/** Every string inside `value` that holds more than one line (a script, a config file's text). */
function multiLine(value: Json, path = ""): string[] {
  if (typeof value === "string") return value.trimEnd().includes("\n") ? [path || "(the value)"] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => multiLine(v, `${path}/${i}`));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => multiLine(v, `${path}/${k}`));
  return [];
}

describe("an environment's values in the overlays", () => {
  const cluster = staging.postgres.cluster as PostgresStatefulSets;
  const moreConnections = (settings: PostgresSettings) => settings.map(([k, v]) => [k, k === "max_connections" ? "200" : v] as const);
  // Every count an environment may change, all at once.
  const scaled: Environment = {
    ...stagingWith({
      postgres: {
        cluster: {
          // Three PgBouncer pods of 50 server connections each need a primary (and standbys) that admit them.
          primary: { settings: moreConnections(cluster.primary.settings) },
          replica: { replicas: 2, settings: moreConnections(cluster.replica.settings) },
        },
      },
      pgbouncer: { replicas: 3 },
      redis: { masters: 6 },
      kafka: { cluster: { brokers: 5 } },
      typesense: { replicas: 3 },
      debezium: { replicas: 2 },
    }),
    name: "scaled",
  };
  const patchFiles = buildOutput([staging, production, scaled]).filter((f) => f.path.split("/").includes("patches"));

  it("are patched in every environment (the scenario exercises something)", () => {
    for (const env of ["staging", "production", "scaled"]) expect(patchFiles.some((f) => f.path.startsWith(`overlays/${env}/`)), env).toBe(true);
  });

  it("never replace a script's or a config file's whole text: the script reads the value from an env var or a key of its own", () => {
    const rewritten = patchFiles.flatMap((f) =>
      (parse(f.content) as PatchOperation[]).flatMap((op) => (op.op === "replace" ? multiLine(op.value).map((at) => `${f.path}: ${op.path}${at === "(the value)" ? "" : at}`) : [])),
    );
    expect(rewritten).toEqual([]);
  });

  it("would be caught: a patch that rewrites a script is found", () => {
    const ops = jsonPatch({ command: ["sh", "-c", "echo 1\necho 2\n"] }, { command: ["sh", "-c", "echo 1\necho 3\n"] });
    expect(ops.flatMap((op) => (op.op === "replace" ? multiLine(op.value) : []))).toEqual(["(the value)"]);
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
