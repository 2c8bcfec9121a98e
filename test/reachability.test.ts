// The NetworkPolicy reachability evaluator on small hand-made policy sets whose answers are known
// from the Kubernetes semantics: isolation per side, peers, ports, defaulting and ipBlock.
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { describe, expect, it } from "vitest";
import {
  decide,
  type Endpoint,
  type LabelSelector,
  type NamespaceInfo,
  type NetworkPolicyLike,
  type Protocol,
  selectsPod,
  type Side,
} from "../generator/lib/reachability.ts";

type Spec = NonNullable<NetworkPolicyLike["spec"]>;
const policy = (namespace: string, name: string, spec: Spec): NetworkPolicyLike => ({ metadata: { namespace, name }, spec });
const pod = (namespace: string, labels: Record<string, string>, what: string, ports?: Endpoint["ports"]): Endpoint => ({
  namespace,
  labels,
  what,
  ...(ports ? { ports } : {}),
});
const outside = (what: string, ip?: string): Endpoint => ({ namespace: "", labels: {}, external: true, what, ...(ip ? { ip } : {}) });
const inNamespace = (name: string): LabelSelector => ({ matchLabels: { "kubernetes.io/metadata.name": name } });

// kube-system is deliberately not listed: its kubernetes.io/metadata.name label is implied anyway.
const namespaces: NamespaceInfo[] = [
  { name: "nx-persistent", labels: { "nx.io/tier": "data" } },
  { name: "nx-search", labels: { "nx.io/tier": "data" } },
  { name: "nx-backend", labels: { "nx.io/tier": "app" } },
];

const postgres = pod("nx-persistent", { "app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "primary" }, "the PostgreSQL primary", [
  { name: "postgres", containerPort: 5432 },
  { name: "metrics", containerPort: 9187, protocol: "TCP" },
]);
const pgbouncer = pod("nx-persistent", { "app.kubernetes.io/name": "pgbouncer" }, "PgBouncer", [{ name: "pgbouncer", containerPort: 6432 }]);
const api = pod("nx-backend", { app: "api" }, "an api pod in nx-backend");
const worker = pod("nx-backend", { app: "worker" }, "a worker pod in nx-backend");
const apiLookalike = pod("nx-persistent", { app: "api" }, "a pod labelled app=api in nx-persistent");
const debezium = pod("nx-search", { "app.kubernetes.io/name": "debezium" }, "Debezium in nx-search");
const kubeDns = pod("kube-system", { "k8s-app": "kube-dns" }, "kube-dns in kube-system", [
  { name: "dns", containerPort: 53, protocol: "UDP" },
  { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
]);
const internet = outside("somewhere on the internet");

const postgresSelector: LabelSelector = { matchLabels: { "app.kubernetes.io/name": "postgres" } };
const denyAll = (namespace: string) => policy(namespace, "default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
const denyIngress = (namespace: string) => policy(namespace, "default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] });
const postgresAdmits = (name: string, rule: NonNullable<Spec["ingress"]>[number]) =>
  policy("nx-persistent", name, { podSelector: postgresSelector, policyTypes: ["Ingress"], ingress: [rule] });
const backendSends = (name: string, rule: NonNullable<Spec["egress"]>[number]) =>
  policy("nx-backend", name, { podSelector: {}, policyTypes: ["Egress"], egress: [rule] });

const open: Side = { isolated: false, allowedBy: [] };
const closed: Side = { isolated: true, allowedBy: [] };
const by = (...allowedBy: string[]): Side => ({ isolated: true, allowedBy });

interface Case {
  readonly says: string;
  readonly policies: NetworkPolicyLike[];
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol?: Protocol;
  readonly allowed: boolean;
  /** When given, the whole side is asserted. */
  readonly egress?: Side;
  readonly ingress?: Side;
}

const cases: Case[] = [
  // Isolation, side by side
  { says: "with no policies at all, every flow is allowed and neither side is isolated", policies: [], from: api, to: postgres, port: 5432, allowed: true, egress: open, ingress: open },
  { says: "default-deny-all blocks a flow inside its namespace on both sides", policies: [denyAll("nx-persistent")], from: pgbouncer, to: postgres, port: 5432, allowed: false, egress: closed, ingress: closed },
  { says: "default-deny-all blocks ingress from another namespace", policies: [denyAll("nx-persistent")], from: api, to: postgres, port: 5432, allowed: false, egress: open, ingress: closed },
  { says: "default-deny-all blocks egress to another namespace", policies: [denyAll("nx-persistent")], from: postgres, to: api, port: 8080, allowed: false, egress: closed, ingress: open },
  { says: "an ingress-only default deny blocks traffic into the namespace", policies: [denyIngress("nx-persistent")], from: api, to: postgres, port: 5432, allowed: false, egress: open, ingress: closed },
  { says: "an ingress-only default deny leaves egress from the namespace open", policies: [denyIngress("nx-persistent")], from: postgres, to: api, port: 8080, allowed: true, egress: open, ingress: open },
  {
    says: "egress allowed at the source is not enough when the destination denies ingress",
    policies: [denyAll("nx-backend"), backendSends("allow-to-postgres", { to: [{ namespaceSelector: inNamespace("nx-persistent") }] }), denyAll("nx-persistent")],
    from: api, to: postgres, port: 5432, allowed: false, egress: by("nx-backend/allow-to-postgres"), ingress: closed,
  },
  {
    says: "ingress allowed at the destination is not enough when the source denies egress",
    policies: [denyAll("nx-backend"), denyAll("nx-persistent"), postgresAdmits("allow-from-backend", { from: [{ namespaceSelector: inNamespace("nx-backend") }] })],
    from: api, to: postgres, port: 5432, allowed: false, egress: closed, ingress: by("nx-persistent/allow-from-backend"),
  },
  {
    says: "a flow allowed on both sides goes through, naming the policy on each side",
    policies: [
      denyAll("nx-backend"),
      backendSends("allow-to-postgres", { to: [{ namespaceSelector: inNamespace("nx-persistent") }] }),
      denyAll("nx-persistent"),
      postgresAdmits("allow-from-backend", { from: [{ namespaceSelector: inNamespace("nx-backend") }] }),
    ],
    from: api, to: postgres, port: 5432, allowed: true, egress: by("nx-backend/allow-to-postgres"), ingress: by("nx-persistent/allow-from-backend"),
  },
  { says: "a policy in another namespace does not isolate a pod, even with podSelector {}", policies: [denyAll("nx-search")], from: api, to: postgres, port: 5432, allowed: true, egress: open, ingress: open },
  {
    says: "a policy whose podSelector does not select the pod does not isolate it",
    policies: [policy("nx-persistent", "pgbouncer-only", { podSelector: { matchLabels: { "app.kubernetes.io/name": "pgbouncer" } }, policyTypes: ["Ingress"] })],
    from: api, to: postgres, port: 5432, allowed: true, ingress: open,
  },

  // Peers
  ...[
    { from: apiLookalike, allowed: true },
    { from: api, allowed: false },
  ].map(({ from, allowed }) => ({
    says: `a podSelector peer without namespaceSelector only admits pods of the policy's own namespace: ${from.what} is ${allowed ? "admitted" : "refused"}`,
    policies: [postgresAdmits("allow-api", { from: [{ podSelector: { matchLabels: { app: "api" } } }] })],
    from, to: postgres, port: 5432, allowed,
  })),
  ...[
    { from: api, allowed: true },
    { from: worker, allowed: true },
    { from: debezium, allowed: false },
  ].map(({ from, allowed }) => ({
    says: `a namespaceSelector on kubernetes.io/metadata.name admits every pod of that namespace: ${from.what} is ${allowed ? "admitted" : "refused"}`,
    policies: [postgresAdmits("allow-backend", { from: [{ namespaceSelector: inNamespace("nx-backend") }] })],
    from, to: postgres, port: 5432, allowed,
  })),
  {
    says: "kubernetes.io/metadata.name is implied for a namespace missing from the namespace list",
    policies: [denyAll("nx-backend"), backendSends("allow-dns", { to: [{ namespaceSelector: inNamespace("kube-system") }] })],
    from: api, to: kubeDns, port: 53, protocol: "UDP", allowed: true, egress: by("nx-backend/allow-dns"),
  },
  ...[
    { from: debezium, allowed: true },
    { from: pgbouncer, allowed: true },
    { from: api, allowed: false },
  ].map(({ from, allowed }) => ({
    says: `a namespaceSelector on a namespace's own labels admits ${from.what}: ${allowed}`,
    policies: [postgresAdmits("allow-data-tier", { from: [{ namespaceSelector: { matchLabels: { "nx.io/tier": "data" } } }] })],
    from, to: postgres, port: 5432, allowed,
  })),
  ...[
    { from: api, allowed: true },
    { from: worker, allowed: false },
    { from: apiLookalike, allowed: false },
  ].map(({ from, allowed }) => ({
    says: `namespaceSelector and podSelector in one peer mean both (AND): ${from.what} is ${allowed ? "admitted" : "refused"}`,
    policies: [postgresAdmits("allow-backend-api", { from: [{ namespaceSelector: inNamespace("nx-backend"), podSelector: { matchLabels: { app: "api" } } }] })],
    from, to: postgres, port: 5432, allowed,
  })),
  ...[
    { from: api, allowed: true },
    { from: worker, allowed: true },
    { from: apiLookalike, allowed: true },
    { from: debezium, allowed: false },
  ].map(({ from, allowed }) => ({
    says: `namespaceSelector and podSelector as two peers mean either (OR): ${from.what} is ${allowed ? "admitted" : "refused"}`,
    policies: [postgresAdmits("allow-backend-or-api", { from: [{ namespaceSelector: inNamespace("nx-backend") }, { podSelector: { matchLabels: { app: "api" } } }] })],
    from, to: postgres, port: 5432, allowed,
  })),
  ...[
    { from: api, allowed: true },
    { from: debezium, allowed: true },
    { from: pgbouncer, allowed: false },
  ].map(({ from, allowed }) => ({
    says: `a namespaceSelector with matchExpressions In lists namespaces: ${from.what} is ${allowed ? "admitted" : "refused"}`,
    policies: [
      postgresAdmits("allow-clients", {
        from: [{ namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["nx-backend", "nx-search"] }] } }],
      }),
    ],
    from, to: postgres, port: 5432, allowed,
  })),
  {
    says: "a peer namespaceSelector {} with a podSelector admits those pods from every namespace",
    policies: [postgresAdmits("allow-api-anywhere", { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "api" } } }] })],
    from: api, to: postgres, port: 5432, allowed: true,
  },
  {
    says: "a peer podSelector {} alone admits every pod of the policy's namespace, and no other",
    policies: [postgresAdmits("allow-same-namespace", { from: [{ podSelector: {} }] })],
    from: api, to: postgres, port: 5432, allowed: false,
  },

  // Rules without peers or ports
  ...[
    { rule: {}, name: "a rule with neither from nor ports" },
    { rule: { from: [] }, name: "a rule with from: []" },
  ].flatMap(({ rule, name }) =>
    [api, debezium, internet].map((from) => ({
      says: `${name} admits every source, e.g. ${from.what}`,
      policies: [denyAll("nx-persistent"), postgresAdmits("allow-all", rule)],
      from, to: postgres, port: 9187, allowed: true, ingress: by("nx-persistent/allow-all"),
    })),
  ),
  {
    says: "ingress: [] (no rules at all) admits nothing",
    policies: [policy("nx-persistent", "no-rules", { podSelector: postgresSelector, policyTypes: ["Ingress"], ingress: [] })],
    from: pgbouncer, to: postgres, port: 5432, allowed: false, ingress: closed,
  },
  ...[
    { from: api, port: 5432, allowed: true },
    { from: internet, port: 5432, allowed: true },
    { from: api, port: 9187, allowed: false },
  ].map(({ from, port, allowed }) => ({
    says: `a rule with ports but no peers admits anyone on those ports only: ${from.what} on ${port} is ${allowed ? "admitted" : "refused"}`,
    policies: [postgresAdmits("allow-5432", { ports: [{ port: 5432 }] })],
    from, to: postgres, port, allowed,
  })),

  // Ports
  ...[
    { port: 5432, allowed: true, why: "the destination's port named postgres is 5432/TCP" },
    { port: 9187, allowed: false, why: "9187 is named metrics on the destination" },
  ].map(({ port, allowed, why }) => ({
    says: `a named port resolves on the destination: ${port} is ${allowed ? "admitted" : "refused"} (${why})`,
    policies: [postgresAdmits("allow-named", { ports: [{ port: "postgres" }] })],
    from: api, to: postgres, port, allowed,
  })),
  ...[
    { protocol: "TCP" as const, why: "the rule's protocol is UDP" },
    { protocol: "UDP" as const, why: "the destination's port named postgres is TCP" },
  ].map(({ protocol, why }) => ({
    says: `a named port must match in protocol too: 5432/${protocol} is refused (${why})`,
    policies: [postgresAdmits("allow-named-udp", { ports: [{ port: "postgres", protocol: "UDP" }] })],
    from: api, to: postgres, port: 5432, protocol, allowed: false,
  })),
  ...[
    { to: postgres, port: 5432, allowed: true },
    { to: pgbouncer, port: 6432, allowed: false },
    { to: pgbouncer, port: 5432, allowed: false },
  ].map(({ to, port, allowed }) => ({
    says: `a named port in an egress rule also resolves on the destination: ${to.what} on ${port} is ${allowed ? "reachable" : "not reachable"}`,
    policies: [denyAll("nx-backend"), backendSends("allow-postgres-port", { ports: [{ port: "postgres" }] })],
    from: api, to, port, allowed,
  })),
  ...[
    { port: 31999, allowed: false },
    { port: 32000, allowed: true },
    { port: 32400, allowed: true },
    { port: 32768, allowed: true },
    { port: 32769, allowed: false },
  ].map(({ port, allowed }) => ({
    says: `endPort makes a range, both ends included: ${port} is ${allowed ? "inside" : "outside"} 32000-32768`,
    policies: [postgresAdmits("allow-range", { ports: [{ port: 32000, endPort: 32768 }] })],
    from: api, to: postgres, port, allowed,
  })),
  ...[
    { protocol: "UDP" as const, allowed: true },
    { protocol: "TCP" as const, allowed: false },
  ].map(({ protocol, allowed }) => ({
    says: `DNS listed as 53/UDP only: 53/${protocol} is ${allowed ? "allowed" : "refused"}`,
    policies: [denyAll("nx-backend"), backendSends("allow-dns", { to: [{ namespaceSelector: inNamespace("kube-system") }], ports: [{ port: 53, protocol: "UDP" }] })],
    from: api, to: kubeDns, port: 53, protocol, allowed,
  })),
  {
    says: "a port without protocol means TCP, and a request without protocol is TCP",
    policies: [denyAll("nx-backend"), backendSends("allow-dns-tcp", { ports: [{ port: 53 }] })],
    from: api, to: kubeDns, port: 53, allowed: true,
  },
  {
    says: "a port entry with a protocol but no port admits every port of that protocol",
    policies: [denyAll("nx-backend"), backendSends("allow-udp", { ports: [{ protocol: "UDP" }] })],
    from: api, to: kubeDns, port: 5353, protocol: "UDP", allowed: true,
  },
  {
    says: "SCTP is a protocol of its own",
    policies: [postgresAdmits("allow-sctp", { ports: [{ port: 5432, protocol: "SCTP" }] })],
    from: api, to: postgres, port: 5432, allowed: false,
  },

  // policyTypes defaulting
  {
    says: "without policyTypes, a policy with only ingress rules does not isolate egress",
    policies: [policy("nx-persistent", "implicit-ingress", { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })],
    from: postgres, to: api, port: 8080, allowed: true, egress: open,
  },
  {
    says: "without policyTypes, a policy still isolates ingress even with no ingress field",
    policies: [policy("nx-persistent", "implicit-egress", { podSelector: {}, egress: [{ to: [{ namespaceSelector: inNamespace("kube-system") }] }] })],
    from: api, to: postgres, port: 5432, allowed: false, ingress: closed,
  },
  {
    says: "without policyTypes, a policy with egress rules isolates egress too",
    policies: [policy("nx-persistent", "implicit-egress", { podSelector: {}, egress: [{ to: [{ namespaceSelector: inNamespace("kube-system") }] }] })],
    from: postgres, to: api, port: 8080, allowed: false, egress: closed,
  },
  {
    says: "without policyTypes, egress: [] does not isolate egress (the API defaults on a non-empty egress list)",
    policies: [policy("nx-persistent", "empty-egress", { podSelector: {}, egress: [] })],
    from: postgres, to: api, port: 8080, allowed: true, egress: open,
  },
  {
    says: "policyTypes: [] is defaulted like an absent policyTypes",
    policies: [policy("nx-persistent", "empty-types", { podSelector: {}, policyTypes: [], egress: [{ ports: [{ port: 443 }] }] })],
    from: postgres, to: api, port: 8080, allowed: false, egress: closed,
  },
  {
    says: "with explicit policyTypes [Egress], ingress rules are ignored and ingress stays open",
    policies: [policy("nx-persistent", "egress-only", { podSelector: {}, policyTypes: ["Egress"], ingress: [{ ports: [{ port: 1 }] }] })],
    from: api, to: postgres, port: 5432, allowed: true, ingress: open,
  },

  // ipBlock
  ...[
    { ip: "10.1.2.3", allowed: true },
    { ip: "10.96.0.10", allowed: false },
    { ip: "10.111.255.255", allowed: false },
    { ip: "10.112.0.1", allowed: true },
    { ip: "11.0.0.1", allowed: false },
  ].map(({ ip, allowed }) => ({
    says: `an ipBlock 10.0.0.0/8 except 10.96.0.0/12 ${allowed ? "admits" : "refuses"} the external address ${ip}`,
    policies: [denyAll("nx-backend"), backendSends("allow-private", { to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.96.0.0/12"] } }] })],
    from: api, to: outside(`a host at ${ip}`, ip), port: 443, allowed,
  })),
  {
    says: "an ipBlock never matches a cluster pod, even 0.0.0.0/0",
    policies: [denyAll("nx-backend"), backendSends("allow-anywhere", { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] })],
    from: api, to: postgres, port: 5432, allowed: false, egress: closed,
  },
  {
    says: "an ipBlock 0.0.0.0/0 matches an external endpoint with no address",
    policies: [denyAll("nx-backend"), backendSends("allow-anywhere", { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] })],
    from: api, to: internet, port: 443, allowed: true, egress: by("nx-backend/allow-anywhere"), ingress: open,
  },
  {
    says: "a narrower ipBlock does not match an external endpoint with no address",
    policies: [denyAll("nx-backend"), backendSends("allow-private", { to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] })],
    from: api, to: internet, port: 443, allowed: false,
  },
  {
    says: "an ipBlock with an except does not match an external endpoint with no address",
    policies: [denyAll("nx-backend"), backendSends("allow-public", { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }] })],
    from: api, to: internet, port: 443, allowed: false,
  },
  {
    says: "an ingress ipBlock admits an external client in range, and no selector peer does",
    policies: [postgresAdmits("allow-office", { from: [{ ipBlock: { cidr: "192.0.2.0/24" } }, { namespaceSelector: {} }] })],
    from: outside("the office", "192.0.2.17"), to: postgres, port: 5432, allowed: true, egress: open, ingress: by("nx-persistent/allow-office"),
  },
  {
    says: "a selector peer never matches an external client",
    policies: [postgresAdmits("allow-cluster", { from: [{ namespaceSelector: {} }] })],
    from: outside("the office", "192.0.2.17"), to: postgres, port: 5432, allowed: false,
  },
  {
    says: "an IPv6 block never matches an IPv4 address",
    policies: [denyAll("nx-backend"), backendSends("allow-v6", { to: [{ ipBlock: { cidr: "2001:db8::/32" } }] })],
    from: api, to: outside("a v4 host", "10.0.0.1"), port: 443, allowed: false,
  },

  // Several policies
  {
    says: "policies add up: one allowing policy suffices, whatever the others select",
    policies: [
      denyAll("nx-persistent"),
      postgresAdmits("allow-search", { from: [{ namespaceSelector: inNamespace("nx-search") }] }),
      postgresAdmits("allow-backend", { from: [{ namespaceSelector: inNamespace("nx-backend") }] }),
    ],
    from: api, to: postgres, port: 5432, allowed: true, ingress: by("nx-persistent/allow-backend"),
  },
  {
    says: "every policy that allows the flow is named",
    policies: [
      postgresAdmits("allow-backend", { from: [{ namespaceSelector: inNamespace("nx-backend") }] }),
      postgresAdmits("allow-5432", { ports: [{ port: 5432 }] }),
      postgresAdmits("allow-metrics", { ports: [{ port: 9187 }] }),
    ],
    from: api, to: postgres, port: 5432, allowed: true, ingress: by("nx-persistent/allow-backend", "nx-persistent/allow-5432"),
  },
  {
    says: "peers and ports of different rules do not mix: peer from one rule, port from another, is refused",
    policies: [
      policy("nx-persistent", "two-rules", {
        podSelector: postgresSelector,
        policyTypes: ["Ingress"],
        ingress: [
          { from: [{ namespaceSelector: inNamespace("nx-backend") }], ports: [{ port: 5432 }] },
          { from: [{ namespaceSelector: inNamespace("nx-search") }], ports: [{ port: 9187 }] },
        ],
      }),
    ],
    from: api, to: postgres, port: 9187, allowed: false, ingress: closed,
  },
];

describe("NetworkPolicy reachability", () => {
  it.each(cases)("$says", ({ policies, from, to, port, protocol, allowed, egress, ingress }) => {
    const decision = decide(policies, namespaces, from, to, port, protocol);
    expect(decision.allowed).toBe(allowed);
    if (egress) expect(decision.egress).toEqual(egress);
    if (ingress) expect(decision.ingress).toEqual(ingress);
  });

  it("takes kubernetes-models NetworkPolicy objects as they are rendered", () => {
    const rendered = new NetworkPolicy({
      metadata: { namespace: "nx-persistent", name: "allow-from-backend" },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "nx-backend" } } }], ports: [{ protocol: "TCP", port: 5432 }] }],
      },
    });
    expect(decide([rendered], namespaces, api, postgres, 5432).allowed).toBe(true);
    expect(decide([rendered], namespaces, debezium, postgres, 5432).allowed).toBe(false);
  });

  const invalid: { says: string; spec: Spec; error: RegExp; from?: Endpoint }[] = [
    { says: "a peer with no selector and no ipBlock", spec: { podSelector: {}, ingress: [{ from: [{}] }] }, error: /needs podSelector/ },
    { says: "an ipBlock combined with a selector", spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }] }] }, error: /cannot be combined/ },
    { says: "endPort with a named port", spec: { podSelector: {}, ingress: [{ ports: [{ port: "postgres", endPort: 6000 }] }] }, error: /named port/ },
    { says: "endPort below port", spec: { podSelector: {}, ingress: [{ ports: [{ port: 6000, endPort: 5000 }] }] }, error: /below/ },
    { says: "a malformed CIDR", spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0" } }] }] }, error: /not a CIDR/, from: outside("a host", "10.0.0.1") },
  ];
  it.each(invalid)("refuses what the API server would reject: $says", ({ spec, error, from = api }) => {
    expect(() => decide([policy("nx-persistent", "invalid", spec)], namespaces, from, postgres, 5432)).toThrow(error);
  });

  it("refuses a policy without a namespace", () => {
    expect(() => decide([{ metadata: { name: "floating" }, spec: {} }], namespaces, api, postgres, 5432)).toThrow(/metadata.namespace/);
  });
});

describe("selectsPod", () => {
  const labels = { app: "postgres", tier: "data", role: "primary" };
  const cases: { says: string; selector: LabelSelector; selects: boolean }[] = [
    { says: "an empty selector selects every pod", selector: {}, selects: true },
    { says: "matchLabels needs every label", selector: { matchLabels: { app: "postgres", role: "primary" } }, selects: true },
    { says: "matchLabels fails on a different value", selector: { matchLabels: { app: "postgres", role: "replica" } }, selects: false },
    { says: "matchLabels fails on a missing label", selector: { matchLabels: { zone: "a" } }, selects: false },
    { says: "In selects a listed value", selector: { matchExpressions: [{ key: "role", operator: "In", values: ["primary", "replica"] }] }, selects: true },
    { says: "In refuses an unlisted value", selector: { matchExpressions: [{ key: "role", operator: "In", values: ["replica"] }] }, selects: false },
    { says: "In refuses a missing key", selector: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, selects: false },
    { says: "NotIn refuses a listed value", selector: { matchExpressions: [{ key: "role", operator: "NotIn", values: ["primary"] }] }, selects: false },
    { says: "NotIn selects an unlisted value", selector: { matchExpressions: [{ key: "role", operator: "NotIn", values: ["replica"] }] }, selects: true },
    { says: "NotIn selects a pod without the key", selector: { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, selects: true },
    { says: "Exists selects a pod with the key", selector: { matchExpressions: [{ key: "tier", operator: "Exists" }] }, selects: true },
    { says: "Exists refuses a pod without the key", selector: { matchExpressions: [{ key: "zone", operator: "Exists" }] }, selects: false },
    { says: "DoesNotExist selects a pod without the key", selector: { matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, selects: true },
    { says: "DoesNotExist refuses a pod with the key", selector: { matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, selects: false },
    {
      says: "matchLabels and matchExpressions must all hold",
      selector: { matchLabels: { app: "postgres" }, matchExpressions: [{ key: "tier", operator: "Exists" }, { key: "role", operator: "In", values: ["replica"] }] },
      selects: false,
    },
  ];
  it.each(cases)("$says", ({ selector, selects }) => {
    expect(selectsPod(selector, labels)).toBe(selects);
  });

  it.each([
    { selector: { matchExpressions: [{ key: "role", operator: "In", values: [] }] }, error: /needs values/ },
    { selector: { matchExpressions: [{ key: "role", operator: "Exists", values: ["x"] }] }, error: /takes no values/ },
    { selector: { matchExpressions: [{ key: "role", operator: "Equals", values: ["x"] }] }, error: /unknown operator/ },
  ])("refuses an invalid selector: $selector.matchExpressions.0.operator", ({ selector, error }) => {
    expect(() => selectsPod(selector, labels)).toThrow(error);
  });
});
