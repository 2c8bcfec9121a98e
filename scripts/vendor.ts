// Dev tool: copies the upstream files the project's own gates need into the project, so a clone
// validates and tests with no network and nothing beside it. Each folder records where its files
// come from (repository, version or commit) in a small manifest that only a person edits; the
// script rewrites the list of what it copied, with checksums (test/vendored.test.ts checks them).
//
//   npm run vendor-schemas [-- --from DIR] [--out DIR]
//     strict JSON schemas of exactly the kinds the layer renders (scripts/layer-kinds.ts), read from
//     a folder laid out like kubeconform's schema locations (default ../shared/schemas), into schemas/
//   npm run vendor-pss-fixtures [-- --from DIR] [--out DIR]
//     the Pod Security Admission fixtures (testdata/<level>/<version>/<pass|fail>/*.yaml) of the
//     recorded version, read from pod-security-admission's test/testdata or a copy of it
//     (default ../shared/pss-fixtures/testdata), into test/fixtures/pod-security-admission/
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import fg from "fast-glob";
import { common } from "../generator/config/common.ts";
import { projectRootOf } from "../generator/lib/project.ts";
import { localSchemaLocations, projectSchemaDir, schemaCandidates } from "../policies/schemas.ts";
import { type FixtureManifest, kindName, layerKinds, pssFixtureDir, type SchemaManifest, sha256, treeDigest } from "./vendored.ts";

const root = projectRootOf(import.meta.url);

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const writeJson = (file: string, value: unknown) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** Replaces `out` with exactly `files` (relative paths) copied from `from`. */
function replaceFiles(from: string, out: string, files: readonly string[], keep: readonly string[]): void {
  for (const entry of existsSync(out) ? readdirSync(out) : []) {
    if (!keep.includes(entry)) rmSync(join(out, entry), { recursive: true, force: true });
  }
  for (const file of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    // Written anew (not copied) so the files are writable whatever the source folder allows.
    writeFileSync(join(out, file), readFileSync(join(from, file)));
  }
}

function vendorSchemas(from: string, out: string): string {
  const manifestFile = existsSync(join(out, "sources.json")) ? join(out, "sources.json") : join(projectSchemaDir, "sources.json");
  const manifest = readJson<SchemaManifest>(manifestFile);
  const kubernetesVersion = `${common.kubernetesVersion}.0`;
  const recorded = manifest.upstream.kubernetes?.kubernetesVersion;
  if (recorded !== kubernetesVersion) {
    throw new Error(`the layer targets Kubernetes ${kubernetesVersion} (generator/config/common.ts) but ${manifestFile} records upstream sources for ${recorded}: record the ${kubernetesVersion} sources there first`);
  }
  const options = { locations: localSchemaLocations(from), kubernetesVersion, strict: true };
  const problems: string[] = [];
  const schemas = layerKinds(join(root, "generator")).flatMap((k) => {
    const tried = schemaCandidates(k, options);
    const found = tried.find((file) => existsSync(file));
    if (!found) {
      problems.push(`no schema for ${kindName(k)} in ${from} (tried ${tried.join(", ")})`);
      return [];
    }
    const file = relative(from, found);
    const source = file.startsWith("kubernetes/") ? "kubernetes" : k.apiVersion.split("/")[0]!;
    if (!manifest.upstream[source]) problems.push(`${kindName(k)}: record where the ${source} schemas come from (repository, version, path) under "upstream" in ${manifestFile}`);
    return [{ kind: kindName(k), file, sha256: sha256(readFileSync(found)) }];
  });
  if (problems.length) throw new Error(problems.join("\n"));
  replaceFiles(from, out, schemas.map((s) => s.file), ["sources.json", "README.md"]);
  writeJson(join(out, "sources.json"), { ...manifest, schemas });
  return `${schemas.length} schemas (${schemas.map((s) => s.kind).join(", ")}) from ${from} into ${out}`;
}

function vendorPssFixtures(from: string, out: string): string {
  const manifestFile = existsSync(join(out, "source.json")) ? join(out, "source.json") : join(pssFixtureDir, "source.json");
  const manifest = readJson<FixtureManifest>(manifestFile);
  const files = fg.sync(`{baseline,restricted}/${manifest.version}/{pass,fail}/*.yaml`, { cwd: from }).sort();
  if (files.length === 0) throw new Error(`no fixtures of ${manifest.version} in ${from} (expected <baseline|restricted>/${manifest.version}/<pass|fail>/*.yaml)`);
  replaceFiles(from, join(out, "testdata"), files, []);
  writeJson(join(out, "source.json"), { ...manifest, files: files.length, sha256: treeDigest(join(out, "testdata"), files) });
  return `${files.length} Pod Security fixtures of ${manifest.version} (${manifest.repository} @ ${manifest.commit}) from ${from} into ${out}`;
}

const usage = `usage: node scripts/vendor.ts <schemas|pss-fixtures> [--from DIR] [--out DIR]
  schemas        strict schemas of the kinds the layer renders, from DIR (laid out like kubeconform's
                 schema locations; default ../shared/schemas) into schemas/
  pss-fixtures   Pod Security Admission fixtures, from DIR (pod-security-admission's test/testdata;
                 default ../shared/pss-fixtures/testdata) into test/fixtures/pod-security-admission/`;

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { from: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [what] = positionals;
  if (values.help || (what !== "schemas" && what !== "pss-fixtures")) {
    console.error(usage);
    return values.help ? 0 : 2;
  }
  const defaults = what === "schemas"
    ? { from: join(root, "../shared/schemas"), out: projectSchemaDir }
    : { from: join(root, "../shared/pss-fixtures/testdata"), out: pssFixtureDir };
  const from = resolve(values.from ?? defaults.from);
  const out = resolve(values.out ?? defaults.out);
  if (!existsSync(from)) {
    console.error(`vendor ${what}: ${from} does not exist; give the upstream files with --from DIR`);
    return 1;
  }
  try {
    console.log(`vendor ${what}: ${what === "schemas" ? vendorSchemas(from, out) : vendorPssFixtures(from, out)}`);
    return 0;
  } catch (err) {
    console.error(`vendor ${what}: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
