import { describe, expect, it } from "vitest";
import { staging } from "../generator/config/staging.ts";
import { renderEnvironment } from "../generator/components/render.ts";
import { plain } from "./support/config.ts";

// Every policy of the environment: the layer-wide ones and those each component renders for its own flows.
const policies = renderEnvironment(staging).objects.filter(({ object }) => object.kind === "NetworkPolicy").map(({ object }) => plain<any>(object));
const policy = (namespace: string, name: string) => {
  const found = policies.find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
  if (!found) throw new Error(`no NetworkPolicy ${namespace}/${name}`);
  return found;
};
const portsOf = (rules: any[] = []) => rules.flatMap((r) => r.ports.map((p: any) => `${p.port}/${p.protocol}`));
const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });

describe("NetworkPolicies", () => {

  it.each(["nx-persistent", "nx-broker", "nx-search"])("denies all ingress and egress in %s by default and allows DNS", (namespace) => {
    expect(policy(namespace, "default-deny-all").spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const dns = policy(namespace, "allow-dns").spec;
    expect(dns.policyTypes).toEqual(["Egress"]);
    expect(dns.egress[0].to).toEqual([ns("kube-system")]);
    expect(portsOf(dns.egress)).toEqual(["53/UDP", "53/TCP"]);
  });

  it("gives backend clients the Redis and Kafka CLIENT ports only", () => {
    const spec = policy("nx-broker", "allow-from-backend").spec;
    expect(spec.ingress[0].from).toEqual([ns("nx-backend")]);
    expect(portsOf(spec.ingress)).toEqual(["6379/TCP", "9092/TCP"]);
  });

  it("lets only brokers reach INTERNAL and CONTROLLER, and the SCRAM init Job reach INTERNAL", () => {
    const spec = policy("nx-broker", "allow-kafka-cluster").spec;
    expect(spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "kafka", "app.kubernetes.io/component": "broker" });
    expect(spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "kafka", "app.kubernetes.io/component": "broker" } } }],
        ports: [{ protocol: "TCP", port: 29092 }, { protocol: "TCP", port: 9093 }],
      },
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "kafka", "app.kubernetes.io/component": "scram-init" } } }],
        ports: [{ protocol: "TCP", port: 29092 }],
      },
    ]);
  });

  it("lets Redis peers use the cluster bus and the init Job reach 6379", () => {
    const spec = policy("nx-broker", "allow-redis-cluster").spec;
    expect(portsOf([spec.ingress[0]])).toEqual(["6379/TCP", "16379/TCP"]);
    expect(spec.ingress[1].from[0].podSelector.matchLabels["app.kubernetes.io/component"]).toBe("cluster-init");
    expect(portsOf([spec.ingress[1]])).toEqual(["6379/TCP"]);
  });

  it("lets Debezium in nx-search reach the PostgreSQL primary and Kafka's CLIENT listener, on both sides", () => {
    const debezium = { ...ns("nx-search"), podSelector: { matchLabels: { "app.kubernetes.io/name": "debezium", "app.kubernetes.io/component": "connect" } } };
    expect(policy("nx-persistent", "allow-primary-from-debezium").spec.ingress).toEqual([
      { from: [debezium], ports: [{ protocol: "TCP", port: 5432 }] },
    ]);
    expect(policy("nx-broker", "allow-kafka-from-debezium").spec.ingress).toEqual([
      { from: [debezium], ports: [{ protocol: "TCP", port: 9092 }] },
    ]);
    const egress = policy("nx-search", "egress-nx-search").spec.egress;
    expect(egress.map((r: any) => [r.to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"], portsOf([r])])).toEqual([
      ["nx-persistent", ["5432/TCP"]],
      ["nx-broker", ["9092/TCP"]],
    ]);
  });

  it("lets PgBouncer reach the primary: egress from PgBouncer and ingress on the primary", () => {
    expect(portsOf(policy("nx-persistent", "allow-pgbouncer-to-primary").spec.egress)).toEqual(["5432/TCP"]);
    const ingress = policy("nx-persistent", "allow-primary-from-pgbouncer").spec.ingress;
    expect(ingress[0].from[0].podSelector.matchLabels["app.kubernetes.io/name"]).toBe("pgbouncer");
  });

  it("lets the setup Job reach the primary's 5432 through a pair of its own; the replication policy leaves it out", () => {
    const pods = (component: string) => ({ podSelector: { matchLabels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/component": component } } });
    const toPrimary = policy("nx-persistent", "allow-setup-to-primary").spec;
    expect(toPrimary.podSelector).toEqual(pods("setup").podSelector);
    expect(toPrimary.egress).toEqual([{ to: [pods("primary")], ports: [{ protocol: "TCP", port: 5432 }] }]);
    const fromSetup = policy("nx-persistent", "allow-primary-from-setup").spec;
    expect(fromSetup.podSelector).toEqual(pods("primary").podSelector);
    expect(fromSetup.ingress).toEqual([{ from: [pods("setup")], ports: [{ protocol: "TCP", port: 5432 }] }]);
    const servers = {
      matchLabels: { "app.kubernetes.io/name": "postgresql" },
      matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["primary", "replica", "restore"] }],
    };
    const replication = policy("nx-persistent", "allow-pg-replication").spec;
    expect(replication.podSelector).toEqual(servers);
    expect(replication.ingress[0].from).toEqual([{ podSelector: servers }]);
    expect(replication.egress[0].to).toEqual([{ podSelector: servers }]);
  });

  it("keeps the document's rows for nx-persistent and nx-search", () => {
    expect(portsOf(policy("nx-persistent", "allow-from-backend").spec.ingress)).toEqual(["5432/TCP", "6432/TCP"]);
    expect(portsOf(policy("nx-persistent", "allow-pgbouncer-from-backend").spec.ingress)).toEqual(["6432/TCP"]);
    expect(policy("nx-persistent", "allow-pg-replication").spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(portsOf(policy("nx-search", "allow-from-backend").spec.ingress)).toEqual(["8108/TCP"]);
    expect(portsOf(policy("nx-search", "allow-search-internal").spec.egress)).toEqual(["8108/TCP"]);
  });

  it("opens Kafka Connect's REST API (8083) to the registration Job and the other workers only, on both sides", () => {
    const pods = (component: string) => ({ podSelector: { matchLabels: { "app.kubernetes.io/name": "debezium", "app.kubernetes.io/component": component } } });
    const search = policies.filter((p) => p.metadata.namespace === "nx-search");
    const opening = (direction: "ingress" | "egress") =>
      search.filter((p) => portsOf(p.spec[direction]).includes("8083/TCP")).map((p) => p.metadata.name);
    expect(opening("ingress")).toEqual(["allow-connect-rest"]);
    expect(opening("egress")).toEqual(["allow-connect-rest", "allow-connector-registration"]);
    const rest = policy("nx-search", "allow-connect-rest").spec;
    expect(rest.podSelector).toEqual(pods("connect").podSelector);
    expect(rest.ingress).toEqual([{ from: [pods("connector-init"), pods("connect")], ports: [{ protocol: "TCP", port: 8083 }] }]);
    expect(rest.egress).toEqual([{ to: [pods("connect")], ports: [{ protocol: "TCP", port: 8083 }] }]);
    const registration = policy("nx-search", "allow-connector-registration").spec;
    expect(registration.podSelector).toEqual(pods("connector-init").podSelector);
    expect(registration.egress).toEqual([{ to: [pods("connect")], ports: [{ protocol: "TCP", port: 8083 }] }]);
  });
});
