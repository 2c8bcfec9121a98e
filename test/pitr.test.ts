// `npm run pitr`, run as a person runs it: the recovery Cluster it prints is valid (model and strict
// schema), recovers the environment's Cluster at the target time, and is byte for byte what
// `npm run generate` renders once the environment's config names it, so Argo CD adopts the Cluster
// applied by hand without changing it. Bad input fails with a message and prints no Cluster.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { production } from "../generator/config/production.ts";
import type { PostgresCloudNativePg } from "../generator/config/types.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { pitrCluster } from "../scripts/pitr.ts";
import { plain, productionWith } from "./support/config.ts";
import { parseYaml, removeTempDirs, runCli, tempDir } from "./support/repo.ts";
import { strictValidator } from "./support/schemas.ts";

afterAll(removeTempDirs);

const pitr = (...args: string[]) => runCli(args, { entry: "scripts/pitr.ts" });
const targetTime = "2026-08-30T23:45:00+07:00";

describe("npm run pitr", () => {
  const run = pitr("--env", "production", "--target-time", targetTime);
  const [cluster] = parseYaml(run.stdout, "pitr output") as any[];

  it("prints one recovery Cluster, named after the current one and the target time (UTC)", () => {
    expect(run.status, run.stderr).toBe(0);
    expect(parseYaml(run.stdout, "pitr output")).toHaveLength(1);
    expect(cluster.kind).toBe("Cluster");
    expect(cluster.metadata.name).toBe("nx-postgresql-pitr-20260830-1645");
    expect(cluster.spec.bootstrap).toEqual({ recovery: { source: "nx-postgresql", recoveryTarget: { targetTime } } });
    expect(cluster.spec.externalClusters[0].plugin.parameters).toEqual({ barmanObjectName: "nx-postgresql-backups", serverName: "nx-postgresql" });
  });

  it("is valid against the strict schema (primaryLease included)", async () => {
    expect(await strictValidator().validate(cluster)).toMatchObject({ status: "valid" });
    expect(cluster.spec.primaryLease).toBeDefined();
  });

  it("is what generate renders once the config names it, sync options included", () => {
    const cfg = production.postgres.cluster as PostgresCloudNativePg;
    const switched = productionWith({ postgres: { cluster: { ...cfg, name: cluster.metadata.name, recovery: { source: "nx-postgresql", targetTime } } } });
    const rendered = environmentObjects(switched).objects.find(({ object }) => object.kind === "Cluster")!;
    expect(plain(rendered.object)).toEqual(cluster);
    expect(cluster.metadata.annotations["argocd.argoproj.io/sync-options"]).toBe("Prune=false,Delete=false");
  });

  it("takes a name, and writes to a file when asked", () => {
    const out = join(tempDir("pitr"), "cluster.yaml");
    const named = pitr("--env", "production", "--target-time", targetTime, "--name", "nx-postgresql-restored", "--out", out);
    expect(named.status, named.stderr).toBe(0);
    expect(named.stdout).toBe("");
    expect((parseYaml(readFileSync(out, "utf8"), out)[0] as any).metadata.name).toBe("nx-postgresql-restored");
  });

  it("refuses bad input with exit 1 and a message, printing no Cluster", () => {
    const refused = pitr("--env", "staging", "--target-time", targetTime);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("pitr: environment staging runs PostgreSQL as statefulsets, not on CloudNativePG");
  });

  it.each<[string, [string, string, string?], string]>([
    ["an environment that does not exist", ["prod", targetTime], 'no environment "prod"; the environments are staging, production'],
    ["an environment not on CloudNativePG", ["staging", targetTime], "environment staging runs PostgreSQL as statefulsets, not on CloudNativePG"],
    ["a time without a zone", ["production", "2026-08-30 23:45:00"], '--target-time "2026-08-30 23:45:00" is not an RFC 3339 time with a zone'],
    ["a time that is no date", ["production", "2026-02-30T10:00:00Z"], '--target-time "2026-02-30T10:00:00Z" is not an RFC 3339 time with a zone'],
    ["a time in the future", ["production", "2999-01-01T00:00:00Z"], "--target-time 2999-01-01T00:00:00Z is in the future"],
    ["the current Cluster's own name", ["production", targetTime, "nx-postgresql"],
      "production / postgres / Cluster nx-persistent/nx-postgresql / postgres.cluster.recovery.source: is the Cluster's own name"],
  ])("refuses %s", async (_, [env, time, name], message) => {
    await expect(pitrCluster(env, time, name)).rejects.toThrow(message);
  });

  it("says how to call it when an argument is missing", () => {
    const missing = pitr("--env", "production");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("usage: npm run pitr -- --env ENV --target-time RFC3339");
  });
});
