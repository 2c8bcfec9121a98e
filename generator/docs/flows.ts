// The allowed flows of one environment, evaluated from its rendered NetworkPolicies with Kubernetes'
// semantics (egress at the source and ingress at the destination): what docs/network.md tabulates
// and docs/topology.md draws.
import type { RenderedEnvironment } from "../components/render.ts";
import { operatorPodsOf } from "../lib/operator-pods.ts";
import { type Endpoint, type NamespaceInfo, type NetworkPolicyLike, reachability } from "../lib/reachability.ts";

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { ports?: Endpoint["ports"] }[]; initContainers?: { ports?: Endpoint["ports"] }[] };
}

/** The plain JSON of a rendered object, as far as the flows need it. */
export interface PlainObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: PodTemplate; instances?: number };
}

/** A party to the flows: pods of one workload or Job, a client namespace, or a stand-in. */
export interface Party extends Endpoint {
  /** `StatefulSet`, `Deployment`, `Job`, or an operator's `Pooler` or `Cluster`; absent for stand-ins. */
  readonly kind?: string;
  /** The workload's name (a Job's without its hash suffix; a Cluster's with the instances' role). */
  readonly name?: string;
  /** How many pods, where the object does not say it as `spec.replicas` (an operator's resource). */
  readonly count?: number;
}

export interface Flows {
  /** Pods of the layer's StatefulSets and Deployments, and those operators run for its Clusters and Poolers. */
  readonly workloads: Party[];
  /** Pods of the init Jobs. */
  readonly jobs: Party[];
  /** Any pod of each client namespace (nx-backend). */
  readonly clients: Party[];
  /** Any pod of a namespace the layer does not know. */
  readonly outsider: Party;
  /** The cluster DNS, which every pod must reach. */
  readonly dns: Party;
  /** Pods of namespaces outside the layer that its policies admit by name (an operator's). */
  readonly operators: Party[];
  /** Addresses outside the cluster that its policies let pods reach (each IP block, on its ports). */
  readonly external: Party[];
  /** The destination's ports that `from` may open. */
  open(from: Endpoint, to: Endpoint): NonNullable<Endpoint["ports"]>;
}

export const plainObjects = (env: RenderedEnvironment): PlainObject[] => env.objects.map(({ json }) => json as unknown as PlainObject);

/** The pods an operator runs for a Cluster, one party per role (primary, standbys). */
function clusterParties(o: PlainObject): Party[] {
  return operatorPodsOf(o).map((p) => ({
    kind: o.kind,
    name: `${o.metadata?.name} ${p.role}`,
    count: p.count,
    namespace: o.metadata?.namespace ?? "",
    labels: { ...p.labels },
    ports: p.ports,
    what: `${o.metadata?.name} ${p.role} (${o.metadata?.namespace})`,
  }));
}

function party(o: PlainObject): Party {
  const template = o.spec?.template ?? {};
  const containers = [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
  const name = o.kind === "Job" ? o.metadata?.name?.replace(/-[0-9a-f]{8}$/, "") : o.metadata?.name;
  return {
    kind: o.kind,
    ...(name ? { name } : {}),
    namespace: o.metadata?.namespace ?? "",
    labels: { ...template.metadata?.labels },
    ports: containers.flatMap((c) => c.ports ?? []),
    what: `${name} (${o.metadata?.namespace})`,
  };
}

/** An environment with the flows its NetworkPolicies allow, evaluated once for every page that shows them. */
export interface EnvironmentFlows {
  readonly rendered: RenderedEnvironment;
  readonly flows: Flows;
}

export function withFlows(env: RenderedEnvironment): EnvironmentFlows {
  return { rendered: env, flows: flows(env) };
}

const describe = (labels: Readonly<Record<string, string>>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");

/** The pods of other namespaces that the policies admit, by the namespace's name and the pods' labels. */
function operatorParties(policies: readonly NetworkPolicyLike[], known: ReadonlySet<string>): Party[] {
  const parties = new Map<string, Party>();
  for (const rule of policies.flatMap((p) => p.spec?.ingress ?? [])) {
    for (const peer of rule.from ?? []) {
      const namespace = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
      if (namespace === undefined || known.has(namespace)) continue;
      const labels = { ...peer.podSelector?.matchLabels };
      const name = describe(labels) || "any pod";
      const what = `${name} in ${namespace}`;
      parties.set(what, { namespace, name, labels, what });
    }
  }
  return [...parties.values()];
}

/** Every IP block the policies open, as one address of it with the ports opened there. */
function externalParties(policies: readonly NetworkPolicyLike[]): Party[] {
  type Port = { containerPort: number; protocol: "TCP" | "UDP" | "SCTP" };
  const parties = new Map<string, Party & { ports: Port[] }>();
  for (const policy of policies) {
    for (const rule of policy.spec?.egress ?? []) {
      for (const peer of rule.to ?? []) {
        if (!peer.ipBlock) continue;
        const { cidr } = peer.ipBlock;
        const party = parties.get(cidr) ?? { namespace: "", name: cidr, labels: {}, external: true as const, ip: cidr.split("/")[0]!, ports: [], what: `${cidr} (${policy.metadata?.name})` };
        for (const port of rule.ports ?? []) {
          if (typeof port.port === "number" && !party.ports.some((p) => p.containerPort === port.port)) {
            party.ports.push({ containerPort: port.port, protocol: port.protocol ?? "TCP" });
          }
        }
        parties.set(cidr, party);
      }
    }
  }
  return [...parties.values()];
}

function flows(env: RenderedEnvironment): Flows {
  const plain = plainObjects(env);
  const policies = plain.filter((o) => o.kind === "NetworkPolicy") as unknown as NetworkPolicyLike[];
  const namespaces: NamespaceInfo[] = plain
    .filter((o) => o.kind === "Namespace")
    .map((o) => ({ name: o.metadata?.name ?? "", labels: { ...o.metadata?.labels } }));
  const known = new Set([...Object.values(env.environment.common.namespaces), ...env.environment.common.clientNamespaces, "kube-system"]);
  const decide = reachability(policies, namespaces);
  // network.md and topology.md ask about the same pairs of parties: each pair is evaluated once.
  const opened = new Map<Endpoint, Map<Endpoint, NonNullable<Endpoint["ports"]>>>();
  const evaluate = (from: Endpoint, to: Endpoint): NonNullable<Endpoint["ports"]> =>
    // What a pod outside the layer may open outside the cluster is not the layer's policies' to say.
    to.external && (from as Party).kind === undefined
      ? []
      : (to.ports ?? []).filter((p) => decide(from, to, p.containerPort, p.protocol ?? "TCP").allowed);
  return {
    workloads: [
      ...plain.filter((o) => o.kind === "StatefulSet" || o.kind === "Deployment").map(party),
      // A Pooler's pods are its template's (with its instances as their count).
      ...plain.filter((o) => o.kind === "Pooler").map((o) => ({ ...party(o), count: o.spec?.instances ?? 1 })),
      ...plain.flatMap(clusterParties),
    ],
    jobs: plain.filter((o) => o.kind === "Job").map(party),
    clients: env.environment.common.clientNamespaces.map((ns) => ({ namespace: ns, labels: {}, what: `any pod in ${ns}` })),
    outsider: { namespace: "nx-app", labels: {}, what: "any other namespace (e.g. nx-app)" },
    dns: {
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
      ports: [
        { name: "dns", containerPort: 53, protocol: "UDP" },
        { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
      ],
      what: "kube-dns",
    },
    operators: operatorParties(policies, known),
    external: externalParties(policies),
    open: (from, to) => {
      const row = opened.get(from) ?? new Map<Endpoint, NonNullable<Endpoint["ports"]>>();
      opened.set(from, row);
      const ports = row.get(to) ?? evaluate(from, to);
      row.set(to, ports);
      return ports;
    },
  };
}
