import { describe, expect, it } from "vitest";
import { pgbouncer, pgbouncerIni } from "../generator/components/pgbouncer.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, stagingWith } from "./support/config.ts";

const objectsOf = (env = staging) => pgbouncer(env).map((o) => plain<any>(o));
const byKind = (kind: string, env = staging) => objectsOf(env).find((o) => o.kind === kind);

describe("PgBouncer", () => {
  it("renders the staging defaults", () => {
    expect(objectsOf()).toMatchSnapshot();
  });

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

  it("writes userlist.txt at start-up from the app and superuser Secrets, into memory only", () => {
    const pod = byKind("Deployment").spec.template.spec;
    const init = pod.initContainers[0];
    expect(init.env.map((e: any) => e.valueFrom.secretKeyRef.name).sort()).toEqual([
      "nx-postgresql-app-secret",
      "nx-postgresql-superuser-secret",
    ]);
    expect(init.command[2]).toContain("> /etc/pgbouncer/auth/userlist.txt");
    expect(pod.volumes).toContainEqual({ name: "auth", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } });
  });

  it("rolls its pods when the configuration changes", () => {
    const changed = stagingWith({ pgbouncer: { defaultPoolSize: 30 } });
    const checksum = (env = staging) => byKind("Deployment", env).spec.template.metadata.annotations["checksum/config"];
    expect(pgbouncerIni(changed)).toContain("default_pool_size = 30");
    expect(checksum(changed)).not.toBe(checksum());
  });
});
