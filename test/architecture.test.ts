// The generator's shape, read from its source with ts-morph: data flows one way through the
// stages, models are imported per kind (the group barrels cost ~0.2 s of start-up), and nothing
// heavy or test-only is loaded on the generate path.
import { dirname, join, relative, resolve } from "node:path";
import { Project } from "ts-morph";
import { describe, expect, it } from "vitest";

const generator = resolve(import.meta.dirname, "../generator");
const project = new Project({ skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true });
project.addSourceFilesAtPaths(join(generator, "**/*.ts"));

interface Import {
  readonly from: string; // file, relative to generator/
  readonly specifier: string;
  readonly target?: string; // resolved relative import, relative to generator/
  readonly typeOnly: boolean;
}

const imports: Import[] = project.getSourceFiles().flatMap((file) => {
  const from = relative(generator, file.getFilePath());
  const statements = [
    ...file.getImportDeclarations().map((d) => ({ specifier: d.getModuleSpecifierValue(), typeOnly: d.isTypeOnly() })),
    // `await import("./main.ts")` in cli.ts
    ...file
      .getDescendants()
      .filter((n) => n.getKindName() === "CallExpression" && n.getText().startsWith("import("))
      .map((n) => ({ specifier: n.getText().replace(/^import\(["'](.*)["']\)$/, "$1"), typeOnly: false })),
  ];
  return statements.map(({ specifier, typeOnly }) => ({
    from,
    specifier,
    typeOnly,
    ...(specifier.startsWith(".") ? { target: relative(generator, resolve(dirname(file.getFilePath()), specifier)) } : {}),
  }));
});

// Stages in data-flow order. A file may import its own stage and earlier ones, never a later one.
const stages = ["config", "lib", "components", "delivery", "layout", "argocd", "clients", "docs", "emit", "pipeline.ts", "main.ts", "cli.ts"];
// The entry's plain JavaScript runs before anything: the preflight (Node version, installed
// dependencies) and the bundle runner, which loads main.ts from its cached bundle.
const launchers = ["../scripts/preflight.mjs", "../scripts/bundle.mjs"];
const stageOf = (path: string) => {
  if (launchers.includes(path)) return -1;
  if (path.startsWith("../")) return stages.length; // outside the generator
  const i = stages.indexOf(path.split("/")[0]!);
  if (i === -1) throw new Error(`generator/${path} is in no known stage; add its folder to the stage order`);
  return i;
};

describe("The generator's architecture", () => {
  it("reads every generator file", () => {
    expect(imports.length).toBeGreaterThan(50);
    expect(new Set(imports.map((i) => i.from.split("/")[0]))).toEqual(new Set(stages));
  });

  it("lets data flow one way: no stage imports a later one", () => {
    const backwards = imports
      .filter((i) => i.target && stageOf(i.target) > stageOf(i.from))
      .map((i) => `${i.from} imports ${i.specifier}`);
    expect(backwards).toEqual([]);
  });

  it("keeps config free of code: environment files import only config types", () => {
    const outside = imports.filter((i) => i.from.startsWith("config/") && i.target && !i.target.startsWith("config/"));
    expect(outside.map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
  });

  it("keeps lib/ independent of the stages that use it", () => {
    const outside = imports.filter(
      (i) => i.from.startsWith("lib/") && i.target && !i.target.startsWith("lib/") && !(i.typeOnly && i.target.startsWith("config/")),
    );
    expect(outside.map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
  });

  it("imports each kubernetes-models kind from its own module, never a group barrel", () => {
    const models = imports.filter((i) => i.specifier.startsWith("kubernetes-models"));
    expect(models.length).toBeGreaterThan(5);
    const barrels = models.filter((i) => !/^kubernetes-models\/([a-z0-9.-]+\/)?v\d+(\w+)?\/[A-Z]\w+$/.test(i.specifier));
    expect(barrels.map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
  });

  it("never reaches into policies/: the checks judge the generator's output, not its code", () => {
    expect(imports.filter((i) => i.target?.startsWith("../policies")).map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
  });

  it("never loads ts-morph, vitest or zx on the generate path", () => {
    const devOnly = imports.filter((i) => /^(ts-morph|vitest|zx)(\/|$)/.test(i.specifier));
    expect(devOnly.map((i) => `${i.from} imports ${i.specifier}`)).toEqual([]);
  });
});
