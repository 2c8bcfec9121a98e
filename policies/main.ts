// The commands behind policies/cli.ts (`npm run validate`, `npm run policy`): what a cluster would
// reject, and what the layer's own rules forbid, found in the rendered manifests before anything reaches main.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { $, which } from "zx";
import { common } from "../generator/config/common.ts";
import { type CommandRun, Output } from "../generator/lib/command.ts";
import { projectRootOf } from "../generator/lib/project.ts";
import { familyOf, type Finding, objectName, runPolicies, type Source } from "./engine.ts";
import { loadExceptions } from "./exceptions.ts";
import { kustomize } from "./kustomize.ts";
import { apiRules } from "./rules/api.ts";
import { rules } from "./rules/index.ts";
import { localSchemaLocations, projectSchemaDir, SchemaValidator } from "./schemas.ts";
import { allKustomizations, environmentOverlays, loadSources, sourceLoader } from "./sources.ts";

const usage = `usage:
  node policies/cli.ts validate [--root DIR] [--schema-location TEMPLATE]... [--kubernetes-version X.Y.Z] [PATH...]
      kustomize build every overlay, namespace and Argo CD folder (or each PATH), and validate every
      object strictly against the Kubernetes and CRD schemas, plus the API server's own checks
      (rules of the api family); also with kubeconform -strict when it is on the PATH. Schemas come
      from the --schema-location templates (kubeconform syntax; "default" is kubeconform's own, on
      the network), else $NX_SCHEMA_DIR (a folder laid out like schemas/), else the project's
      schemas/ (no network).
  node policies/cli.ts policy [--root DIR] [--only FAMILY]... [PATH...]
      check YAML files, folders or kustomizations (default: every overlay) against the policies;
      exits 1 on any error-level finding. Families: ${[...new Set(rules.map((r) => familyOf(r.id)))].join(", ")}`;

/** `staging` for overlays/staging/nx-broker or argocd/staging/apps. */
const environmentOf = (path: string | undefined) => path?.match(/^(?:overlays|argocd)\/([^/]+)/)?.[1] ?? "-";

function where(f: { file: string; via?: string }): string {
  return f.via && f.via !== f.file ? `${f.file} (built from ${f.via}, environment ${environmentOf(f.via)})` : f.file;
}

async function validate(out: Output, root: string, paths: string[], options: { locations: string[]; kubernetesVersion: string }): Promise<number> {
  const dir = process.env.NX_SCHEMA_DIR || projectSchemaDir;
  const locations = options.locations.length ? options.locations : localSchemaLocations(dir);
  const schemaSource = options.locations.length ? options.locations.join(", ") : dir === projectSchemaDir ? "the project (schemas/)" : dir;
  const validator = new SchemaValidator({ locations, kubernetesVersion: options.kubernetesVersion, strict: true });
  const targets = paths.length ? paths : allKustomizations(root);
  out.log(`validate: ${targets.length} path(s) with ${kustomize().description}, Kubernetes ${options.kubernetesVersion}, strict, schemas from ${schemaSource}`);
  const failures = new Map<string, { source: Source; lines: string[] }>();
  const load = sourceLoader(root);
  const built = new Map(targets.map((path) => [path, load([path])] as const));
  let checked = 0;
  for (const sources of built.values()) {
    for (const source of sources) {
      checked++;
      const result = await validator.validate(source.manifest);
      if (result.status === "valid") continue;
      const lines =
        result.status === "missing"
          ? [`no schema for ${source.manifest.apiVersion} ${source.manifest.kind}; tried ${result.tried.join(", ")}`]
          : result.errors.map((e) => `${e.path}: ${e.message}`);
      // The same object built through the overlay and through its namespace is reported once.
      failures.set(`${objectName(source.manifest)} ${source.file} ${lines.join("|")}`, { source, lines });
    }
  }
  // What the API server checks beyond the schemas (the api family), on the same builds.
  const exceptions = loadExceptions(rules);
  for (const sources of built.values()) {
    for (const f of runPolicies(apiRules, sources, exceptions).findings) {
      const source = sources.find((s) => objectName(s.manifest) === f.object)!;
      const lines = [`${f.path}: ${f.message} (${f.rule}; fix: ${f.fix})`];
      failures.set(`${f.object} ${f.file} ${lines.join("|")}`, { source, lines });
    }
  }
  const kubeconformFailures = runKubeconform(out, root, built, locations, options.kubernetesVersion);
  for (const { source, lines } of failures.values()) {
    out.error(`\n${objectName(source.manifest)} in ${where(source)}`);
    for (const line of lines) out.error(`  ${line}`);
  }
  for (const line of kubeconformFailures) out.error(`\nkubeconform: ${line}`);
  const total = failures.size + kubeconformFailures.length;
  if (total > 0) {
    out.error(`\nvalidate: ${total} invalid object(s) of ${checked}. Fix the generator (generator/), run \`npm run generate\`, then validate again.`);
    return 1;
  }
  out.log(`validate: ${checked} objects valid`);
  return 0;
}

/** kubeconform -strict over the same builds, when it is installed; its findings, one line each. */
function runKubeconform(out: Output, root: string, built: ReadonlyMap<string, readonly Source[]>, locations: string[], version: string): string[] {
  if (!which.sync("kubeconform", { nothrow: true })) {
    out.log("validate: kubeconform is not on the PATH; the in-process strict check ran alone");
    return [];
  }
  const flags = ["-strict", "-summary", "-output", "json", "-kubernetes-version", version, ...locations.flatMap((l) => ["-schema-location", l])];
  return [...built].flatMap(([path, sources]) => {
    const rendered = kustomize().build(resolve(root, path));
    const result = $.sync({ quiet: true, nothrow: true, input: rendered })`kubeconform ${flags} -`;
    if (result.exitCode === 0) return [];
    const report = JSON.parse(result.stdout || "{}") as { resources?: { kind: string; name: string; status: string; msg: string }[] };
    const bad = (report.resources ?? []).filter((r) => r.status !== "statusValid");
    // kubeconform names kind and name only; the build says which namespace and file they are.
    const describe = (r: { kind: string; name: string }) => {
      const source = sources.find((s) => s.manifest.kind === r.kind && s.manifest.metadata?.name === r.name);
      return source ? `${objectName(source.manifest)} in ${where(source)}` : `${r.kind} ${r.name} in ${path}`;
    };
    return bad.length ? bad.map((r) => `${describe(r)}: ${r.status}: ${r.msg}`) : [`${path}: ${result.stderr.trim()}`];
  });
}

function policy(out: Output, root: string, paths: string[], only: string[]): number {
  const families = new Set(rules.map((r) => familyOf(r.id)));
  const unknown = only.filter((f) => !families.has(f));
  if (unknown.length) {
    out.error(`policy: unknown family ${unknown.join(", ")}; families are ${[...families].join(", ")}`);
    return 2;
  }
  const selected = only.length ? rules.filter((r) => only.includes(familyOf(r.id))) : rules;
  const sources = loadSources(root, paths.length ? paths : environmentOverlays(root));
  const report = runPolicies(selected, sources, loadExceptions(rules));
  const print = (f: Finding) => {
    out.error(`\n${f.severity.padEnd(7)} ${f.rule}  ${f.object}  ${where(f)}`);
    out.error(`        ${f.path}: ${f.message}`);
    out.error(`        fix: ${f.fix}`);
  };
  report.findings.forEach(print);
  for (const f of report.excepted) out.log(`excepted ${f.rule}  ${f.object}: ${f.reason}`);
  for (const e of report.unusedExceptions) {
    out.error(`\nerror   stale exception ${e.rule} for ${e.object}: it matches nothing; remove it from policies/exceptions.yaml`);
  }
  const errors = report.findings.filter((f) => f.severity === "error").length + report.unusedExceptions.length;
  const warnings = report.findings.length - report.findings.filter((f) => f.severity === "error").length;
  const summary = `policy: ${errors} error(s), ${warnings} warning(s), ${report.excepted.length} excepted; ${sources.length} objects, ${selected.length} rules`;
  (errors ? out.error : out.log)(`${errors ? "\n" : ""}${summary}`);
  return errors ? 1 : 0;
}

/** The command, run on `argv` (the arguments after `policies/cli.ts`). */
export async function policiesCommand(argv: string[]): Promise<CommandRun> {
  const out = new Output();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      only: { type: "string", multiple: true, default: [] },
      "schema-location": { type: "string", multiple: true, default: [] },
      "kubernetes-version": { type: "string", default: `${common.kubernetesVersion}.0` },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...paths] = positionals;
  // The project the command belongs to, wherever it is run from; --root checks another tree.
  const root = values.root === undefined ? projectRootOf(import.meta.url) : resolve(values.root);
  if (values.help || (command !== "validate" && command !== "policy")) {
    out.error(usage);
    return out.result(values.help ? 0 : 2);
  }
  try {
    return out.result(
      command === "validate"
        ? await validate(out, root, paths, { locations: values["schema-location"], kubernetesVersion: values["kubernetes-version"] })
        : policy(out, root, paths, values.only),
    );
  } catch (err) {
    out.error(`${command}: ${(err as Error).message}`);
    return out.result(2);
  }
}
