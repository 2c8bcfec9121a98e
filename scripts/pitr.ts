// `npm run pitr`: the Cluster a point-in-time recovery makes, rendered from the same model as the
// environment's own Cluster: the environment with its Cluster renamed and marked as recovered from
// the current one at the target time, rendered, checked and given its sync options like every
// object, then validated against the strict schema. The procedure is docs/postgresql.md,
// "Point-in-time recovery".
//
//   npm run pitr -- --env production --target-time 2026-09-01T10:15:00Z [--name NEW] [--out FILE]
//
// It prints the Cluster (or writes it to FILE); it applies nothing. Once the recovered Cluster is
// checked, the environment's config names it (postgres.cluster.name and .recovery, as printed) and
// `npm run generate` renders exactly this object.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { rfc3339 } from "../generator/components/config-checks.ts";
import { environments } from "../generator/config/environments.ts";
import type { Environment, PostgresCloudNativePg } from "../generator/config/types.ts";
import { toYaml } from "../generator/emit/yaml.ts";
import type { Json } from "../generator/lib/objects.ts";
import { formatProblem, GenerationFailed } from "../generator/lib/errors.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { localSchemaLocations, projectSchemaDir, SchemaValidator } from "../policies/schemas.ts";
import { plain } from "../generator/lib/objects.ts";

const usage = "usage: npm run pitr -- --env ENV --target-time RFC3339 [--name CLUSTER] [--out FILE]";

class Refused extends Error {}

/** The default name: the current Cluster's, with the target time (UTC, to the minute). */
function defaultName(current: string, targetTime: string): string {
  const stamp = new Date(targetTime).toISOString().replace(/[-:]/g, "").slice(0, 13).replace("T", "-");
  return `${current}-pitr-${stamp}`;
}

/** The environment as it will be once it runs the recovered Cluster. */
function recoveredEnvironment(env: Environment, targetTime: string, name?: string, now = new Date()): Environment {
  const current = env.postgres.cluster;
  if (current.kind !== "cloudnative-pg") {
    throw new Refused(`environment ${env.name} runs PostgreSQL as ${current.kind}, not on CloudNativePG: there are no Barman Cloud backups to recover from (docs/postgresql.md has the runbook for ${current.kind})`);
  }
  if (!rfc3339(targetTime)) throw new Refused(`--target-time ${JSON.stringify(targetTime)} is not an RFC 3339 time with a zone, e.g. 2026-09-01T10:15:00Z or 2026-09-01T17:15:00+07:00`);
  if (Date.parse(targetTime) > now.getTime()) throw new Refused(`--target-time ${targetTime} is in the future (now is ${now.toISOString()}): a recovery can only reach a moment the WAL archive has`);
  const cluster: PostgresCloudNativePg = {
    ...current,
    name: name ?? defaultName(current.name, targetTime),
    recovery: { source: current.name, targetTime },
  };
  return { ...env, postgres: { ...env.postgres, cluster } };
}

/** The recovered Cluster, rendered and checked like every object; throws Refused on bad input. */
export async function pitrCluster(envName: string, targetTime: string, name?: string, now = new Date()): Promise<{ cluster: Json; environment: Environment }> {
  const env = environments.find((e) => e.name === envName);
  if (!env) throw new Refused(`no environment ${JSON.stringify(envName)}; the environments are ${environments.map((e) => e.name).join(", ")}`);
  const recovered = recoveredEnvironment(env, targetTime, name, now);
  const cfg = recovered.postgres.cluster as PostgresCloudNativePg;
  let objects;
  try {
    objects = environmentObjects(recovered).objects;
  } catch (err) {
    if (!(err instanceof GenerationFailed)) throw err;
    throw new Refused(`the recovered Cluster is not valid:\n${err.problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
  }
  const cluster = objects.find(({ object }) => object.kind === "Cluster" && object.metadata?.name === cfg.name);
  if (!cluster) throw new Error(`the environment rendered no Cluster ${cfg.name}`);
  const json = plain<Json>(cluster.object);
  const validator = new SchemaValidator({ locations: localSchemaLocations(projectSchemaDir), kubernetesVersion: `${env.common.kubernetesVersion}.0`, strict: true });
  const result = await validator.validate(json as { apiVersion: string; kind: string });
  if (result.status !== "valid") {
    const why = result.status === "missing" ? [`no schema (tried ${result.tried.join(", ")})`] : result.errors.map((e) => `${e.path}: ${e.message}`);
    throw new Error(`the recovered Cluster fails the strict schema:\n  ${why.join("\n  ")}`);
  }
  return { cluster: json, environment: recovered };
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { env: { type: "string" }, "target-time": { type: "string" }, name: { type: "string" }, out: { type: "string" } },
    }));
  } catch (err) {
    console.error(`pitr: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (!values.env || !values["target-time"]) {
    console.error(`pitr: --env and --target-time are required\n${usage}`);
    return 2;
  }
  try {
    const { cluster, environment } = await pitrCluster(values.env, values["target-time"], values.name);
    const cfg = environment.postgres.cluster as PostgresCloudNativePg;
    const notice = [
      `The Cluster ${cfg.name}: ${cfg.recovery?.source} recovered to ${cfg.recovery?.targetTime} (environment ${environment.name}).`,
      "Apply it, check it, then name it in the environment's config (docs/postgresql.md, Point-in-time recovery):",
      `  postgres.cluster.name: "${cfg.name}", postgres.cluster.recovery: { source: "${cfg.recovery?.source}", targetTime: "${cfg.recovery?.targetTime}" }`,
    ].join("\n");
    const yaml = toYaml([cluster], notice, "Rendered by `npm run pitr` from generator/. Do not edit: render it again.");
    if (values.out) {
      writeFileSync(resolve(values.out), yaml);
      console.error(`pitr: wrote Cluster ${cfg.name} to ${values.out}`);
    } else {
      process.stdout.write(yaml);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    console.error(`pitr: ${err.message}`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
