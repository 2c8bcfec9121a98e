// Bad config for production's CloudNativePG Cluster, backups and Pooler: each fails generate with
// its environment, component, object and config field, and nothing is written (buildOutput is the
// whole pipeline; the CLI writes only what it returns, test/bad-config.test.ts).
import { describe, expect, it } from "vitest";
import { configProblems } from "../generator/components/config-checks.ts";
import { production } from "../generator/config/production.ts";
import type { PostgresCloudNativePg } from "../generator/config/types.ts";
import { problems, productionWith } from "./support/config.ts";

const cfg = production.postgres.cluster as PostgresCloudNativePg;
const cluster = (change: Partial<PostgresCloudNativePg>) => productionWith({ postgres: { cluster: { ...cfg, ...change } } });
const backup = (change: Partial<PostgresCloudNativePg["backup"]>) => cluster({ backup: { ...cfg.backup, ...change } });
const failover = (change: Partial<PostgresCloudNativePg["failover"]>) => cluster({ failover: { ...cfg.failover, ...change } });
const at = (object: string, rest: string) => `production / ${object} / ${rest}`;

describe("production's config", () => {
  it("passes every check as committed", () => {
    expect(configProblems(production)).toEqual([]);
  });

  it.each<[string, ReturnType<typeof productionWith>, string]>([
    ["a five-field backup schedule (CloudNativePG would read it as seconds first: hourly)", backup({ schedule: "0 2 * * *" }),
      at("postgres / ScheduledBackup nx-persistent/nx-postgresql-daily", 'postgres.cluster.backup.schedule: "0 2 * * *" has 5 fields: CloudNativePG reads six, seconds first (it would take this one as second 0, minute 2, hour *, day *, month *; a daily backup at 02:00 is "0 0 2 * * *")')],
    ["a retention that is not a duration", backup({ retention: "720h" }),
      at("postgres / ObjectStore nx-persistent/nx-postgresql-backups", 'postgres.cluster.backup.retention: "720h" is not a retention: a number and d, w or m (^[1-9][0-9]*[dwm]$), e.g. 30d')],
    ["a destination that is not S3", backup({ destinationPath: "gs://nx-backups/pg/" }),
      at("postgres / ObjectStore nx-persistent/nx-postgresql-backups", 'postgres.cluster.backup.destinationPath: "gs://nx-backups/pg/" is not an S3 destination (s3://bucket/path/): the backups go to S3 with the credentials of docs/secrets.md')],
    ["fewer than three instances", cluster({ instances: 2, synchronous: undefined }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.instances: 2 must be an integer of at least 3: a primary and two standbys, so one standby can fail (or be drained) while another can still take over")],
    ["more synchronous standbys than there are", cluster({ synchronous: { number: 3, dataDurability: "preferred" } }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.synchronous.number: 3 must be an integer from 1 to the 2 standbys")],
    ["required synchronous standbys that one standby down would stop", cluster({ synchronous: { number: 2, dataDurability: "required" } }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.synchronous.number: 2 synchronous standbys of 2, required: one standby down (a drain, a rolling update) would stop every write; lower it or make dataDurability preferred")],
    ["a Lease CloudNativePG's webhook refuses", failover({ primaryLease: { leaseDurationSeconds: 10, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 } }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.failover.primaryLease.leaseDurationSeconds: 10 must be more than renewDeadlineSeconds=10")],
    ["settings that add up to more than the failover budget", failover({ switchoverDelaySeconds: 60 }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.failover.budgetSeconds: the settings let a failover take up to 77 s, more than 30: 12 s to see the primary fail (readiness 3 × 3 s + 3 s), then 60 s to stop it and 2 s to hand over the Lease (or 15 s for a lost pod's Lease to expire), then 3 s to promote")],
    ["a parameter CloudNativePG manages", cluster({ settings: [...cfg.settings, ["shared_preload_libraries", "pg_stat_statements"]] }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.settings[11]: shared_preload_libraries is set by CloudNativePG, whose webhook refuses it")],
    ["a parameter the layer sets itself", cluster({ settings: [...cfg.settings, ["hot_standby_feedback", "off"]] }),
      at("postgres / Cluster nx-persistent/nx-postgresql", "postgres.cluster.settings[11]: hot_standby_feedback is set by the generator itself (generator/components/postgres/cloudnative-pg.ts)")],
    ["no address for the API server", { ...production, apiServer: { ...production.apiServer, cidrs: [] } },
      at("postgres / Cluster nx-persistent/nx-postgresql", "apiServer.cidrs: lists no address: nothing could be reached")],
    ["an object store address that is no CIDR", backup({ objectStorage: { ...cfg.backup.objectStorage, cidrs: ["s3.example.com"] } }),
      at("postgres / Cluster nx-persistent/nx-postgresql", 'postgres.cluster.backup.objectStorage.cidrs[0]: "s3.example.com" is not an IPv4 CIDR block')],
    ["a recovery time that is not RFC 3339", cluster({ name: "nx-postgresql-r1", recovery: { source: "nx-postgresql", targetTime: "yesterday" } }),
      at("postgres / Cluster nx-persistent/nx-postgresql-r1", 'postgres.cluster.recovery.targetTime: "yesterday" is not an RFC 3339 time (2026-09-01T10:15:00Z)')],
    ["one pooler pod", productionWith({ pgbouncer: { replicas: 1, maxDbConnections: 140, maxUserConnections: 140 } }),
      at("pgbouncer / Pooler nx-persistent/nx-pgbouncer", "pgbouncer.replicas: 1 must be an integer of at least 2: one pooler pod is an outage at every drain, upgrade or node loss")],
    ["statement pooling, which the Pooler does not offer", productionWith({ pgbouncer: { poolMode: "statement" } }),
      at("pgbouncer / Pooler nx-persistent/nx-pgbouncer", "pgbouncer.poolMode: statement is not a pool mode CloudNativePG's Pooler offers (session, transaction)")],
    ["pools that together exceed max_connections", productionWith({ pgbouncer: { maxDbConnections: 150, maxUserConnections: 150 } }),
      at("pgbouncer / Pooler nx-persistent/nx-pgbouncer", "pgbouncer.maxDbConnections: 150 server connections per pooler pod (the lower of maxDbConnections and maxUserConnections, 2 pods) must together be at most 295: the primary's max_connections=300 less 3 superuser-reserved and one auth_query connection per pod")],
    ["a CloudNativePG Pooler in front of StatefulSets", productionWith({ postgres: { cluster: production.postgres.cluster.kind === "cloudnative-pg" ? { kind: "statefulsets", superuser: "postgres", replicationUser: "repl_user", primary: { resources: cfg.resources, storage: "1Gi", settings: [["max_connections", "300"]] }, replica: { replicas: 1, resources: cfg.resources, storage: "1Gi", settings: [] } } : production.postgres.cluster } }),
      at("pgbouncer / Pooler nx-persistent/nx-pgbouncer", "pgbouncer.pooler.kind: a CloudNativePG Pooler needs a CloudNativePG Cluster; postgres.cluster.kind is statefulsets")],
  ])("refuses %s", (_, env, expected) => {
    expect(problems(env)).toContain(expected);
  });
});
