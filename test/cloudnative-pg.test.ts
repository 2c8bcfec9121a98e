// Production's PostgreSQL on CloudNativePG: the Cluster, its Database and Publication, the backups
// through the Barman Cloud plugin and the Pooler, each behaviour asserted once on what production
// renders (no snapshot: the committed, drift-checked YAML is the snapshot).
import { describe, expect, it } from "vitest";
import { pgbouncer } from "../generator/components/pgbouncer/index.ts";
import { ObjectStore } from "../generator/components/postgres/object-store.ts";
import { failoverSeconds } from "../generator/components/postgres/cloudnative-pg.ts";
import { postgres } from "../generator/components/postgres/index.ts";
import { production } from "../generator/config/production.ts";
import type { PostgresCloudNativePg } from "../generator/config/types.ts";
import { holdsDataAnnotation } from "../generator/lib/labels.ts";
import { schemaProblems } from "../generator/lib/validation.ts";
import { withFlows } from "../generator/docs/flows.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { plain, productionWith } from "./support/config.ts";

const objects = [...postgres(production), ...pgbouncer(production)].map((o) => plain<any>(o));
const one = (kind: string) => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};
const cluster = one("Cluster");
const cfg = production.postgres.cluster as PostgresCloudNativePg;

describe("the production Cluster", () => {
  it("runs a primary and two standbys of a pinned PostgreSQL 17 or newer", () => {
    expect(cluster.metadata.name).toBe("nx-postgresql");
    expect(cluster.metadata.namespace).toBe("nx-persistent");
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.imageName).toBe(production.common.images.cloudnativePgPostgres);
    // CloudNativePG reads the major version from the tag: it must lead, and be 17 or more.
    expect(Number(cluster.spec.imageName.split(":")[1].split(".")[0])).toBeGreaterThanOrEqual(17);
  });

  it("keeps the instances on different nodes and spreads them over zones, selecting its instances only", () => {
    expect(cluster.spec.affinity).toMatchObject({ enablePodAntiAffinity: true, topologyKey: "kubernetes.io/hostname", podAntiAffinityType: "required" });
    expect(cluster.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        // The Pooler's pods carry cnpg.io/cluster too: without podRole they would skew the spread.
        labelSelector: { matchLabels: { "cnpg.io/cluster": "nx-postgresql", "cnpg.io/podRole": "instance" } },
      },
    ]);
  });

  it("puts data and WAL on volumes of their own, of the layer's storage class", () => {
    expect(cluster.spec.storage).toEqual({ storageClass: production.common.storageClassName, size: cfg.storage });
    expect(cluster.spec.walStorage).toEqual({ storageClass: production.common.storageClassName, size: cfg.walStorage });
    expect(cluster.spec.resources).toEqual(cfg.resources);
  });

  it("makes the database owned by the application user, with its password from a basic-auth Secret", () => {
    expect(cluster.spec.bootstrap.initdb).toMatchObject({ database: "nx_seller_core", owner: "nx_seller_operator", secret: { name: "nx-postgresql-app" } });
    expect(cluster.spec.managed.roles).toEqual([
      { name: "nx_seller_operator", ensure: "present", login: true, passwordSecret: { name: "nx-postgresql-app" } },
      { name: "nx_debezium", ensure: "present", login: true, replication: true, inRoles: ["pg_read_all_data"], passwordSecret: { name: "nx-postgresql-debezium" } },
    ]);
  });

  it("synchronizes logical decoding slots to the standbys, with the parameters CloudNativePG requires for it", () => {
    expect(cluster.spec.replicationSlots).toEqual({ highAvailability: { enabled: true, synchronizeLogicalDecoding: true } });
    expect(cluster.spec.postgresql.parameters).toMatchObject({ hot_standby_feedback: "on", sync_replication_slots: "on" });
    // Any pg_stat_statements.* parameter makes CloudNativePG preload the library.
    expect(Object.keys(cluster.spec.postgresql.parameters).some((k) => k.startsWith("pg_stat_statements."))).toBe(true);
    expect(cluster.spec.postgresql.parameters).not.toHaveProperty("shared_preload_libraries");
  });

  it("sets the failover settings from config, primaryLease included (beyond the model's types)", () => {
    expect(cluster.spec).toMatchObject({
      failoverDelay: 0,
      switchoverDelay: cfg.failover.switchoverDelaySeconds,
      primaryLease: cfg.failover.primaryLease,
      probes: { readiness: cfg.failover.readiness },
      primaryUpdateMethod: "switchover",
    });
  });

  it("fails over within its budget by the documented arithmetic: 3 × 3 + 3 s to see it, 10 + 2 s to hand over, 3 s to promote", () => {
    expect(failoverSeconds(cfg.failover)).toEqual({ detect: 12, stop: 10, handOver: 2, lost: 15, promote: 3, worst: 27 });
    expect(failoverSeconds(cfg.failover).worst).toBeLessThanOrEqual(cfg.failover.budgetSeconds);
  });

  it("archives WAL through the Barman Cloud plugin, never the deprecated in-tree barmanObjectStore", () => {
    expect(cluster.spec.plugins).toEqual([{ name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: "nx-postgresql-backups" } }]);
    const inTree = JSON.stringify(environmentObjects(production).objects.map(({ object }) => object)).includes('"barmanObjectStore"');
    expect(inTree).toBe(false);
  });
});

describe("what the Cluster acts on", () => {
  it("a Database with the seven schemas of staging (public is there already) and both extensions", () => {
    const database = one("Database");
    expect(database.spec).toMatchObject({ cluster: { name: "nx-postgresql" }, name: "nx_seller_core", owner: "nx_seller_operator", databaseReclaimPolicy: "retain" });
    expect(database.spec.schemas.map((s: { name: string }) => s.name)).toEqual(production.postgres.schemas.filter((s) => s !== "public"));
    expect(database.spec.schemas.every((s: { owner: string; ensure: string }) => s.owner === "nx_seller_operator" && s.ensure === "present")).toBe(true);
    expect(database.spec.extensions).toEqual([{ name: "pg_stat_statements", ensure: "present" }, { name: "pgcrypto", ensure: "present" }]);
  });

  it("a Publication of the schemas Debezium streams, kept when its object goes", () => {
    expect(one("Publication").spec).toEqual({
      cluster: { name: "nx-postgresql" },
      dbname: "nx_seller_core",
      name: "nx_debezium",
      publicationReclaimPolicy: "retain",
      target: { objects: production.debezium.schemas.map((tablesInSchema) => ({ tablesInSchema })) },
    });
  });

  it("the event trigger that keeps the publication from failing writes, made at bootstrap", () => {
    const sql = cluster.spec.bootstrap.initdb.postInitApplicationSQL.join("\n");
    expect(sql).toContain("CREATE EVENT TRIGGER nx_cdc_replica_identity ON ddl_command_end");
    expect(sql).toContain("p.pubname = 'nx_debezium'");
  });
});

describe("the backups", () => {
  it("go to an ObjectStore of S3, with the retention of config and credentials from a Secret", () => {
    const store = one("ObjectStore");
    expect(store.apiVersion).toBe("barmancloud.cnpg.io/v1");
    expect(store.spec.retentionPolicy).toBe("30d");
    expect(store.spec.configuration).toMatchObject({
      destinationPath: cfg.backup.destinationPath,
      s3Credentials: {
        accessKeyId: { name: "nx-postgresql-backup-s3", key: "ACCESS_KEY_ID" },
        secretAccessKey: { name: "nx-postgresql-backup-s3", key: "ACCESS_SECRET_KEY" },
      },
    });
    expect(store.spec.configuration).not.toHaveProperty("serverName");
  });

  it("run daily with the plugin method and CloudNativePG's six-field schedule", () => {
    expect(one("ScheduledBackup").spec).toEqual({
      cluster: { name: "nx-postgresql" },
      schedule: "0 0 2 * * *",
      method: "plugin",
      pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" },
      backupOwnerReference: "self",
      immediate: true,
    });
  });
});

describe("the ObjectStore kind", () => {
  const valid = { metadata: { name: "s", namespace: "nx-persistent" }, spec: { retentionPolicy: "30d", configuration: { destinationPath: "s3://b/p/" } } };
  const problemsOf = (data: typeof valid) => schemaProblems(new ObjectStore(data as never));

  it("validates itself: a valid store has no problem, and serializes with its apiVersion and kind", () => {
    expect(problemsOf(valid)).toEqual([]);
    expect(plain<any>(new ObjectStore(valid))).toEqual({ apiVersion: "barmancloud.cnpg.io/v1", kind: "ObjectStore", ...valid });
  });

  it.each<[string, object, { field: string; message: string }]>([
    ["a retention that is not a duration", { spec: { ...valid.spec, retentionPolicy: "720h" } }, { field: "spec.retentionPolicy", message: 'must match pattern "^[1-9][0-9]*[dwm]$"' }],
    ["a server name (the CRD's CEL rule)", { spec: { ...valid.spec, configuration: { destinationPath: "s3://b/", serverName: "x" } } }, { field: "spec.configuration.serverName", message: "must be left empty (name the server in the Cluster's plugin parameters)" }],
    ["no destination (the npm model's check)", { spec: { retentionPolicy: "30d", configuration: {} } }, { field: "spec.configuration", message: "must have required property destinationPath" }],
    ["a compression the plugin does not know", { spec: { ...valid.spec, configuration: { destinationPath: "s3://b/", wal: { compression: "zip" } } } }, { field: "spec.configuration.wal.compression", message: "must be equal to one of the allowed values" }],
  ])("refuses %s", (_, change, problem) => {
    expect(problemsOf({ ...valid, ...change } as typeof valid)).toContainEqual(problem);
  });
});

describe("the Pooler", () => {
  const pooler = one("Pooler");

  it("is nx-pgbouncer in front of the Cluster's primary, in transaction mode, with the production pods", () => {
    expect(pooler.metadata.name).toBe("nx-pgbouncer");
    expect(pooler.spec).toMatchObject({ cluster: { name: "nx-postgresql" }, type: "rw", instances: 2, pgbouncer: { poolMode: "transaction" } });
  });

  it("passes the pool limits as parameters CloudNativePG's webhook allows", () => {
    // internal/webhook/v1/pooler_webhook.go AllowedPgbouncerGenericConfigurationParameters (v1.30.0), the ones used here.
    const allowed = ["default_pool_size", "max_client_conn", "max_db_connections", "max_user_connections", "min_pool_size", "reserve_pool_size"];
    expect(Object.keys(pooler.spec.pgbouncer.parameters).sort()).toEqual(allowed);
    expect(pooler.spec.pgbouncer.parameters).toMatchObject({ max_client_conn: "1000", default_pool_size: "40", max_db_connections: "140" });
  });

  it("pins its image and runs restricted, as CloudNativePG runs it, spread over nodes and zones", () => {
    const pod = pooler.spec.template.spec;
    expect(pod.containers[0]).toMatchObject({ name: "pgbouncer", image: production.common.images.cloudnativePgPgbouncer });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 998, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
    expect(pod.topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
  });

  it("has a PodDisruptionBudget of its own over its pods (CloudNativePG makes none for a Pooler)", () => {
    const pdb = one("PodDisruptionBudget");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { "cnpg.io/poolerName": "nx-pgbouncer" } } });
    expect(pooler.spec.template.metadata.labels["cnpg.io/poolerName"]).toBe("nx-pgbouncer");
  });
});

describe("data safety", () => {
  // The Database too (delivery/data-safety.ts): retained on delete, but one `databaseReclaimPolicy: delete` would make a prune a DROP DATABASE.
  it("marks what holds data (the Cluster, the Database, the ObjectStore) and nothing that does not", () => {
    const marked = objects.filter((o) => o.metadata.annotations?.[holdsDataAnnotation] === "true").map((o) => o.kind).sort();
    expect(marked).toEqual(["Cluster", "Database", "ObjectStore"]);
  });
});

describe("a recovered Cluster (as npm run pitr renders it)", () => {
  const recovered = (change: Partial<PostgresCloudNativePg>) =>
    plain<any>(postgres(productionWith({ postgres: { cluster: { ...cfg, ...change } } })).find((o) => o.kind === "Cluster")!);

  it("bootstraps from the source Cluster's folder of the store at the target time, and archives into its own", () => {
    const spec = recovered({ name: "nx-postgresql-r1", recovery: { source: "nx-postgresql", targetTime: "2026-09-01T10:15:00Z" } }).spec;
    expect(spec.bootstrap).toEqual({ recovery: { source: "nx-postgresql", recoveryTarget: { targetTime: "2026-09-01T10:15:00Z" } } });
    expect(spec.externalClusters).toEqual([
      { name: "nx-postgresql", plugin: { name: "barman-cloud.cloudnative-pg.io", parameters: { barmanObjectName: "nx-postgresql-backups", serverName: "nx-postgresql" } } },
    ]);
    // Without serverName in plugins the new Cluster writes its own folder (its name), not the source's.
    expect(spec.plugins).toEqual(cluster.spec.plugins);
  });
});

describe("the flow docs (docs/network.md, docs/topology.md)", () => {
  const { flows } = withFlows(environmentObjects(production));

  it("show the instances (by role) and the pooler's pods as parties, with what they may open", () => {
    const party = (what: string) => flows.workloads.find((p) => p.what === what)!;
    expect(party("nx-postgresql primary (nx-persistent)")).toMatchObject({ kind: "Cluster", count: 1 });
    expect(party("nx-postgresql replica (nx-persistent)")).toMatchObject({ kind: "Cluster", count: 2 });
    expect(party("nx-pgbouncer (nx-persistent)")).toMatchObject({ kind: "Pooler", count: 2 });
    expect(flows.open(party("nx-pgbouncer (nx-persistent)"), party("nx-postgresql primary (nx-persistent)")).map((p) => p.containerPort)).toEqual([5432]);
  });

  it("show the operator the policies admit, and the addresses outside the cluster only the instances reach", () => {
    const operator = flows.operators.find((p) => p.namespace === "cnpg-system")!;
    const store = flows.external.find((p) => p.what.startsWith(cfg.backup.objectStorage.cidrs[0]!))!;
    const primary = flows.workloads.find((p) => p.what === "nx-postgresql primary (nx-persistent)")!;
    const pooler = flows.workloads.find((p) => p.kind === "Pooler")!;
    expect(flows.open(operator, primary).map((p) => p.containerPort).sort()).toEqual([5432, 8000]);
    expect(flows.open(primary, store).map((p) => p.containerPort)).toEqual([443]);
    expect(flows.open(pooler, store)).toEqual([]);
  });
});
