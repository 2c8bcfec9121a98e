import { describe, expect, it } from "vitest";
import { pgbouncer } from "../generator/components/pgbouncer/index.ts";
import { pgbouncerIni, schemaDatabase } from "../generator/components/pgbouncer/deployment.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { plain, problems, stagingWith } from "./support/config.ts";

const objectsOf = (env = staging) => pgbouncer(env).map((o) => plain<any>(o));
const byKind = (kind: string, env = staging) => objectsOf(env).find((o) => o.kind === kind);

describe("PgBouncer", () => {

  it("pools the primary in transaction mode with the document's limits", () => {
    const ini = byKind("ConfigMap").data["pgbouncer.ini"];
    expect(ini).toContain(
      "nx_seller_core = host=nx-postgresql-primary.nx-persistent.svc.cluster.local port=5432 dbname=nx_seller_core",
    );
    for (const line of [
      "listen_port = 6432",
      "auth_type = scram-sha-256",
      "pool_mode = transaction",
      "max_client_conn = 200",
      "default_pool_size = 20",
      "min_pool_size = 5",
      "reserve_pool_size = 5",
      "max_db_connections = 50",
    ]) {
      expect(ini.split("\n")).toContain(line);
    }
  });

  it("is reached on Service port 5432 and forwards to PgBouncer's 6432", () => {
    const svc = byKind("Service");
    const container = byKind("Deployment").spec.template.spec.containers[0];
    expect(svc.spec.ports).toEqual([{ name: "postgresql", port: 5432, protocol: "TCP", targetPort: "pgbouncer" }]);
    expect(container.ports).toContainEqual({ name: "pgbouncer", containerPort: 6432 });
  });

  it("writes userlist.txt at start-up from the app user's and the admin console user's Secrets, never the superuser's, into memory only", () => {
    const pod = byKind("Deployment").spec.template.spec;
    const init = pod.initContainers[0];
    expect(init.env.map((e: any) => e.valueFrom.secretKeyRef.name).sort()).toEqual([
      "nx-pgbouncer-admin-secret",
      "nx-postgresql-app-secret",
    ]);
    expect(init.command[2]).toContain("> /etc/pgbouncer/auth/userlist.txt");
    expect(init.command[2]).toContain('"$(quote nx_seller_operator)"');
    expect(init.command[2]).toContain('"$(quote nx_pgbouncer_admin)"');
    expect(init.command[2]).not.toMatch(/\bpostgres\b/);
    expect(pod.volumes).toContainEqual({ name: "auth", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } });
  });

  it("gives the admin console a user of its own", () => {
    expect(byKind("ConfigMap").data["pgbouncer.ini"].split("\n")).toContain("admin_users = nx_pgbouncer_admin");
  });

  it("offers one database per schema whose server connections set search_path, and tracks no parameter PostgreSQL 17 does not report", () => {
    const ini: string = byKind("ConfigMap").data["pgbouncer.ini"];
    const server = "host=nx-postgresql-primary.nx-persistent.svc.cluster.local port=5432 dbname=nx_seller_core";
    expect(ini).toContain(`\nnx_seller_core = ${server}\n`);
    for (const schema of staging.postgres.schemas.filter((s) => s !== "public")) {
      expect(schemaDatabase(staging, schema)).toBe(`nx_seller_core_${schema}`);
      expect(ini).toContain(`\nnx_seller_core_${schema} = ${server} connect_query='SET search_path = ${schema}, public'\n`);
    }
    expect(ini.split("\n")).toContain("max_user_connections = 50");
    expect(ini).not.toContain("track_extra_parameters");
    expect(ini).not.toMatch(/ignore_startup_parameters = .*search_path/);
  });


  it("rolls its pods when the configuration changes", () => {
    const changed = stagingWith({ pgbouncer: { defaultPoolSize: 30 } });
    const checksum = (env = staging) => byKind("Deployment", env).spec.template.metadata.annotations["checksum/config"];
    expect(pgbouncerIni(changed)).toContain("default_pool_size = 30");
    expect(checksum(changed)).not.toBe(checksum());
  });
});

describe("Bad PgBouncer config is rejected with its location", () => {
  const at = "staging / pgbouncer / ConfigMap nx-persistent/nx-pgbouncer-config / pgbouncer.maxUserConnections";

  it("a per-user cap that, over all PgBouncer pods, exceeds what the primary's max_connections allows", () => {
    expect(problems(stagingWith({ pgbouncer: { replicas: 2 } }))).toEqual([
      `${at}: 50 per PgBouncer pod (2 pods) must be at least 1 and together at most 97: the primary's max_connections=100 less 3 superuser-reserved, which the per-schema pools share`,
    ]);
  });

  it("no cap at all (0 means unlimited to PgBouncer)", () => {
    expect(problems(stagingWith({ pgbouncer: { maxUserConnections: 0 } }))[0]).toContain(`${at}: 0 per PgBouncer pod`);
  });
});
