// Dev tool: copies the upstream files the project's own gates need into the project, so a clone
// validates and tests with no network and nothing beside it. Each folder records where its files
// come from (repository, version or commit) in a small manifest that only a person edits; the
// script rewrites the list of what it copied, with checksums (test/vendored.test.ts checks them).
//
//   npm run vendor-schemas [-- --from DIR] [--out DIR] [--crd FILE]...
//     strict JSON schemas of exactly the kinds the layer renders (scripts/vendored.ts), read from
//     a folder laid out like kubeconform's schema locations (default ../shared/schemas), or
//     converted from upstream CRD manifests given with --crd, into schemas/
//   npm run vendor-pss-fixtures [-- --from DIR] [--out DIR]
//     the Pod Security Admission fixtures (testdata/<level>/<version>/<pass|fail>/*.yaml) of every
//     policy version the pod-security rules know that DIR holds, read from pod-security-admission's
//     test/testdata or a copy of it (default ../shared/pss-fixtures/testdata), into
//     test/fixtures/pod-security-admission/
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import fg from "fast-glob";
import { common } from "../generator/config/common.ts";
import { projectRootOf } from "../generator/lib/project.ts";
import { policyVersions } from "../policies/rules/pod-security.ts";
import { localSchemaLocations, projectSchemaDir, schemaCandidates } from "../policies/schemas.ts";
import { crdSchemaFiles, type FixtureManifest, kindName, layerKinds, pssFixtureDir, type SchemaManifest, sha256, treeDigest } from "./vendored.ts";
import { byCodePoint } from "../generator/lib/order.ts";

const root = projectRootOf(import.meta.url);

/** The Pod Security policy versions the rules know, whose fixtures are vendored. */
const knownVersions = `${policyVersions[0]} to ${policyVersions.at(-1)}`;

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const writeJson = (file: string, value: unknown) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** Replaces what `out` holds (but the `keep` entries) with exactly `files`: relative path -> content. */
function replaceFiles(out: string, files: ReadonlyMap<string, Buffer | string>, keep: readonly string[]): void {
  for (const entry of existsSync(out) ? readdirSync(out) : []) {
    if (!keep.includes(entry)) rmSync(join(out, entry), { recursive: true, force: true });
  }
  for (const [file, content] of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    writeFileSync(join(out, file), content);
  }
}

/** `crds` are upstream CRD manifests, converted here; they take precedence over `from` for their kinds. */
function vendorSchemas(from: string, out: string, crds: readonly string[]): string {
  const converted = new Map(crds.flatMap((file) => [...crdSchemaFiles(readFileSync(file, "utf8"), file)]));
  const manifestFile = existsSync(join(out, "sources.json")) ? join(out, "sources.json") : join(projectSchemaDir, "sources.json");
  const manifest = readJson<SchemaManifest>(manifestFile);
  const kubernetesVersion = `${common.kubernetesVersion}.0`;
  const recorded = manifest.upstream.kubernetes?.kubernetesVersion;
  if (recorded !== kubernetesVersion) {
    throw new Error(`the layer targets Kubernetes ${kubernetesVersion} (generator/config/common.ts) but ${manifestFile} records upstream sources for ${recorded}: record the ${kubernetesVersion} sources there first`);
  }
  const options = { locations: localSchemaLocations(from), kubernetesVersion, strict: true };
  const problems: string[] = [];
  const contents = new Map<string, Buffer | string>();
  const schemas = layerKinds(join(root, "generator")).flatMap((k) => {
    const tried = schemaCandidates(k, options).map((file) => relative(from, file));
    const file = tried.find((f) => converted.has(f) || existsSync(join(from, f)));
    if (!file) {
      problems.push(`no schema for ${kindName(k)} in ${from}${crds.length ? " or the CRDs given" : ""} (tried ${tried.join(", ")})`);
      return [];
    }
    const source = file.startsWith("kubernetes/") ? "kubernetes" : k.apiVersion.split("/")[0]!;
    if (!manifest.upstream[source]) problems.push(`${kindName(k)}: record where the ${source} schemas come from (repository, version, path) under "upstream" in ${manifestFile}`);
    const content = converted.get(file) ?? readFileSync(join(from, file));
    contents.set(file, content);
    return [{ kind: kindName(k), file, sha256: sha256(content) }];
  });
  if (problems.length) throw new Error(problems.join("\n"));
  replaceFiles(out, contents, ["sources.json", "README.md"]);
  writeJson(join(out, "sources.json"), { ...manifest, schemas });
  return `${schemas.length} schemas (${schemas.map((s) => s.kind).join(", ")}) from ${from} into ${out}`;
}

/** The fixtures of the versions the rules know (upstream keeps every version since v1.0); the input may hold fewer. */
function vendorPssFixtures(from: string, out: string): string {
  const manifestFile = existsSync(join(out, "source.json")) ? join(out, "source.json") : join(pssFixtureDir, "source.json");
  const { about, repository, commit, path } = readJson<FixtureManifest>(manifestFile);
  const files = fg
    .sync("{baseline,restricted}/*/{pass,fail}/*.yaml", { cwd: from })
    .filter((f) => (policyVersions as readonly string[]).includes(f.split("/")[1]!))
    .sort(byCodePoint);
  if (files.length === 0) throw new Error(`no fixtures of ${knownVersions} in ${from} (expected <baseline|restricted>/<version>/<pass|fail>/*.yaml)`);
  const present = new Set(files.map((f) => f.split("/")[1]));
  const versions = policyVersions.filter((v) => present.has(v));
  replaceFiles(join(out, "testdata"), new Map(files.map((f) => [f, readFileSync(join(from, f))])), []);
  const manifest: FixtureManifest = { about, repository, commit, path, versions, files: files.length, sha256: treeDigest(join(out, "testdata"), files) };
  writeJson(join(out, "source.json"), manifest);
  const missing = policyVersions.filter((v) => !present.has(v));
  return [
    `${files.length} Pod Security fixtures of ${versions.join(", ")} (${repository} @ ${commit}) from ${from} into ${out}`,
    ...(missing.length ? [`  ${from} lacks ${missing.join(", ")}, which the rules know: test/pod-security.test.ts wants them all (--from a pod-security-admission checkout's test/testdata)`] : []),
  ].join("\n");
}

const usage = `usage: node scripts/vendor.ts <schemas|pss-fixtures> [--from DIR] [--out DIR] [--crd FILE]...
  schemas        strict schemas of the kinds the layer renders, from DIR (laid out like kubeconform's
                 schema locations; default ../shared/schemas) into schemas/; each --crd FILE is an
                 upstream CustomResourceDefinition manifest, converted to its strict schemas, which
                 take precedence over DIR's
  pss-fixtures   Pod Security Admission fixtures of the policy versions the pod-security rules know
                 (${knownVersions}) that DIR holds, from DIR
                 (pod-security-admission's test/testdata; default ../shared/pss-fixtures/testdata)
                 into test/fixtures/pod-security-admission/`;

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { from: { type: "string" }, out: { type: "string" }, crd: { type: "string", multiple: true, default: [] }, help: { type: "boolean", short: "h" } },
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
    const crds = values.crd.map((f) => resolve(f));
    console.log(`vendor ${what}: ${what === "schemas" ? vendorSchemas(from, out, crds) : vendorPssFixtures(from, out)}`);
    return 0;
  } catch (err) {
    console.error(`vendor ${what}: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
