// Whether one endpoint may open a connection to another under a set of networking.k8s.io/v1
// NetworkPolicies, with the semantics of the Kubernetes API (defaulting included), not of any one
// CNI. Pure and import-free: the policies are plain JSON (or kubernetes-models objects, which have
// the same shape), and the answer says which side decided and which policies allowed it.
//
// Assumptions, where Kubernetes leaves it to the network plugin or where a stand-in has to do:
// - `ipBlock` peers match only endpoints marked `external`, never cluster pods. Kubernetes means
//   ipBlock for cluster-external addresses (pod IPs are ephemeral) and plugins differ on whether
//   it matches pod IPs; a policy that relies on that is a bug this evaluator should surface.
// - An external endpoint is no pod: no policy selects it (its side is never isolated) and no
//   podSelector or namespaceSelector peer matches it. Its `namespace` and `labels` are ignored.
// - An external endpoint without `ip` stands for "some address on the internet": it matches an
//   ipBlock only if the block is 0.0.0.0/0 with no `except` (any other answer would be a guess).
// - Only IPv4 is evaluated. An IPv6 block never matches an IPv4 address and vice versa; an IPv6
//   block asked about an IPv6 address throws, rather than answering wrongly.
// - Out of scope: host-network pods, traffic from the node, a pod reaching itself, Services
//   (ask about the pod behind the Service and its container port, as the dataplane sees it after
//   DNAT), and connection tracking (replies of an allowed connection are always allowed).
// - Input the API server would reject (a peer with no selector, ipBlock combined with a selector,
//   an unknown operator, In without values, endPort with a named port, ...) throws.

export type Protocol = "TCP" | "UDP" | "SCTP";

/** metav1.LabelSelector. `{}` (or absent fields) selects everything. */
export interface LabelSelector {
  readonly matchLabels?: { readonly [key: string]: string };
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string; // "In" | "NotIn" | "Exists" | "DoesNotExist"
    readonly values?: readonly string[];
  }[];
}

export interface NetworkPolicyPeerLike {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export interface NetworkPolicyPortLike {
  readonly protocol?: Protocol; // default TCP
  readonly port?: number | string; // absent: every port of the protocol; a string is a named port
  readonly endPort?: number; // with a numeric port: the range port..endPort
}

/** The plain JSON shape of a networking.k8s.io/v1 NetworkPolicy, as far as reachability needs it. */
export interface NetworkPolicyLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly podSelector?: LabelSelector;
    readonly policyTypes?: readonly ("Ingress" | "Egress")[];
    readonly ingress?: readonly { readonly from?: readonly NetworkPolicyPeerLike[]; readonly ports?: readonly NetworkPolicyPortLike[] }[];
    readonly egress?: readonly { readonly to?: readonly NetworkPolicyPeerLike[]; readonly ports?: readonly NetworkPolicyPortLike[] }[];
  };
}

/** A pod, or a stand-in for pods outside the rendered set ("a pod in nx-backend", "kube-dns"). */
export interface Endpoint {
  readonly namespace: string;
  readonly labels: { readonly [key: string]: string };
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number; readonly protocol?: Protocol }[];
  /** Outside the cluster: matched by ipBlock peers only, selected by no policy. */
  readonly external?: true;
  /** IPv4 address of an external endpoint. */
  readonly ip?: string;
  /** What this endpoint is, for messages. */
  readonly what: string;
}

/** A namespace's labels. `kubernetes.io/metadata.name` is implied for every namespace, listed or not. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: { readonly [key: string]: string };
}

/** One side of a flow: whether any policy isolates the pod, and which policies ("ns/name") allow the flow. */
export interface Side {
  readonly isolated: boolean;
  readonly allowedBy: string[];
}

export interface Decision {
  /** Both sides allow: egress at the source and ingress at the destination. */
  readonly allowed: boolean;
  readonly egress: Side;
  readonly ingress: Side;
}

/** Whether a label selector selects a set of labels: matchLabels AND every matchExpression. */
export function selectsPod(selector: LabelSelector, labels: { readonly [key: string]: string }): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case "In":
      case "NotIn": {
        if (values.length === 0) throw new Error(`label selector: ${operator} on "${key}" needs values`);
        const listed = has && values.includes(labels[key]!);
        if (operator === "In" ? !listed : listed) return false; // NotIn also matches when the key is absent
        break;
      }
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) throw new Error(`label selector: ${operator} on "${key}" takes no values`);
        if (operator === "Exists" ? !has : has) return false;
        break;
      default:
        throw new Error(`label selector: unknown operator "${operator}" on "${key}"`);
    }
  }
  return true;
}

/**
 * Whether `from` may open a connection to `to` on `port`/`protocol` (default TCP). Egress is judged
 * at `from` by the policies of its namespace, ingress at `to` by those of its; both must allow.
 */
export function decide(
  policies: readonly NetworkPolicyLike[],
  namespaces: readonly NamespaceInfo[],
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol: Protocol = "TCP",
): Decision {
  return reachability(policies, namespaces)(from, to, port, protocol);
}

/**
 * `decide` for many flows under one set of policies: the policies are checked and grouped by
 * namespace once, and those that select an endpoint are found once per endpoint object (an
 * endpoint, like a policy, is never changed), so each flow reads only the policies of its pods.
 */
export function reachability(
  policies: readonly NetworkPolicyLike[],
  namespaces: readonly NamespaceInfo[],
): (from: Endpoint, to: Endpoint, port: number, protocol?: Protocol) => Decision {
  const inNamespace = new Map<string, ReturnType<typeof identify>[]>();
  for (const policy of policies) {
    const identified = identify(policy);
    const list = inNamespace.get(identified.namespace) ?? [];
    inNamespace.set(identified.namespace, list);
    list.push(identified);
  }
  const labelsOf = new Map<string, NamespaceInfo["labels"]>();
  for (const n of namespaces) if (!labelsOf.has(n.name)) labelsOf.set(n.name, n.labels);
  const namespaceLabels = (name: string) => ({ ...labelsOf.get(name), "kubernetes.io/metadata.name": name });
  // The policies that select an endpoint's pods, whatever the flow: found once per endpoint.
  const selecting = new Map<Endpoint, ReturnType<typeof identify>[]>();
  const policiesOf = (at: Endpoint) => {
    const found = selecting.get(at) ?? (inNamespace.get(at.namespace) ?? []).filter(({ spec }) => selectsPod(spec.podSelector ?? {}, at.labels));
    selecting.set(at, found);
    return found;
  };
  return (from, to, port, protocol = "TCP") => {
    const side = (direction: "Ingress" | "Egress", at: Endpoint, peer: Endpoint): Side => {
      let isolated = false;
      const allowedBy: string[] = [];
      if (at.external) return { isolated, allowedBy };
      for (const { policy, name, spec } of policiesOf(at)) {
        if (!policyTypes(policy).includes(direction)) continue;
        isolated = true;
        const rules =
          direction === "Ingress"
            ? (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
            : (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
        const admits = rules.some(
          (rule) =>
            (rule.peers === undefined || rule.peers.length === 0 || rule.peers.some((p) => peerMatches(p, at.namespace, peer, namespaceLabels))) &&
            (rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, to, port, protocol))),
        );
        if (admits) allowedBy.push(`${at.namespace}/${name}`);
      }
      return { isolated, allowedBy };
    };
    const egress = side("Egress", from, to);
    const ingress = side("Ingress", to, from);
    const allows = (s: Side) => !s.isolated || s.allowedBy.length > 0;
    return { allowed: allows(egress) && allows(ingress), egress, ingress };
  };
}

/**
 * The policy types in effect after API defaulting: if `policyTypes` is absent or empty, Ingress
 * always, and Egress only if `egress` has at least one rule (`egress: []` does not count).
 */
export function policyTypes(policy: NetworkPolicyLike): readonly ("Ingress" | "Egress")[] {
  const spec = policy.spec ?? {};
  for (const t of spec.policyTypes ?? []) {
    if (t !== "Ingress" && t !== "Egress") throw new Error(`NetworkPolicy ${identify(policy).id}: unknown policyType "${String(t)}"`);
  }
  if (spec.policyTypes && spec.policyTypes.length > 0) return spec.policyTypes;
  return spec.egress && spec.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

function identify(policy: NetworkPolicyLike) {
  const { name, namespace } = policy.metadata ?? {};
  if (!name || !namespace) throw new Error(`NetworkPolicy ${namespace ?? "?"}/${name ?? "?"}: needs metadata.name and metadata.namespace`);
  return { policy, name, namespace, id: `${namespace}/${name}`, spec: policy.spec ?? {} };
}

function peerMatches(
  peer: NetworkPolicyPeerLike,
  policyNamespace: string,
  endpoint: Endpoint,
  namespaceLabels: (name: string) => { [key: string]: string },
): boolean {
  const { podSelector, namespaceSelector, ipBlock } = peer;
  if (ipBlock) {
    if (podSelector || namespaceSelector) throw new Error("NetworkPolicy peer: ipBlock cannot be combined with a selector");
    return endpoint.external === true && inBlock(endpoint.ip, ipBlock.cidr, ipBlock.except ?? []);
  }
  if (!podSelector && !namespaceSelector) throw new Error("NetworkPolicy peer: needs podSelector, namespaceSelector or ipBlock");
  if (endpoint.external) return false;
  const inNamespace = namespaceSelector ? selectsPod(namespaceSelector, namespaceLabels(endpoint.namespace)) : endpoint.namespace === policyNamespace;
  return inNamespace && selectsPod(podSelector ?? {}, endpoint.labels);
}

/** Ports are always those of the destination: named ports resolve on `to`, for egress rules too. */
function portMatches(rule: NetworkPolicyPortLike, to: Endpoint, port: number, protocol: Protocol): boolean {
  const ruleProtocol = rule.protocol ?? "TCP";
  if (ruleProtocol !== protocol) return false;
  if (rule.port === undefined) {
    if (rule.endPort !== undefined) throw new Error("NetworkPolicy port: endPort needs port");
    return true;
  }
  if (typeof rule.port === "string") {
    if (rule.endPort !== undefined) throw new Error(`NetworkPolicy port: endPort cannot go with the named port "${rule.port}"`);
    return (to.ports ?? []).some((p) => p.name === rule.port && (p.protocol ?? "TCP") === ruleProtocol && p.containerPort === port);
  }
  if (rule.endPort !== undefined) {
    if (rule.endPort < rule.port) throw new Error(`NetworkPolicy port: endPort ${rule.endPort} is below port ${rule.port}`);
    return rule.port <= port && port <= rule.endPort;
  }
  return rule.port === port;
}

function inBlock(ip: string | undefined, cidr: string, except: readonly string[]): boolean {
  if (ip === undefined) return cidr === "0.0.0.0/0" && except.length === 0;
  return inCidr(ip, cidr) && !except.some((e) => inCidr(ip, e));
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits, ...rest] = cidr.split("/");
  if (base === undefined || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) throw new Error(`ipBlock: "${cidr}" is not a CIDR`);
  const v6 = (s: string) => s.includes(":");
  if (v6(ip) !== v6(base)) return false;
  if (v6(ip)) throw new Error(`ipBlock: IPv6 is not evaluated (${ip} in ${cidr})`);
  const prefix = Number(bits);
  if (prefix > 32) throw new Error(`ipBlock: "${cidr}" has a prefix longer than 32`);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return ((ipv4(ip) & mask) >>> 0) === ((ipv4(base) & mask) >>> 0);
}

function ipv4(address: string): number {
  const octets = address.split(".");
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) throw new Error(`"${address}" is not an IPv4 address`);
  return octets.reduce((n, o) => n * 256 + Number(o), 0);
}
