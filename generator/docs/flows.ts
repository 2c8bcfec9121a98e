// The allowed flows of one environment, evaluated from its rendered NetworkPolicies with Kubernetes'
// semantics (egress at the source and ingress at the destination): what docs/network.md tabulates
// and docs/topology.md draws.
import type { RenderedEnvironment } from "../components/render.ts";
import { decide, type Endpoint, type NamespaceInfo, type NetworkPolicyLike } from "../lib/reachability.ts";

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { ports?: Endpoint["ports"] }[]; initContainers?: { ports?: Endpoint["ports"] }[] };
}

/** The plain JSON of a rendered object, as far as the flows need it. */
export interface PlainObject {
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: PodTemplate };
}

/** A party to the flows: pods of one workload or Job, a client namespace, or a stand-in. */
export interface Party extends Endpoint {
  /** `StatefulSet`, `Deployment` or `Job` for the layer's pods; absent for stand-ins. */
  readonly kind?: string;
  /** The workload's name (a Job's without its hash suffix). */
  readonly name?: string;
}

export interface Flows {
  /** Pods of the layer's StatefulSets and Deployments. */
  readonly workloads: Party[];
  /** Pods of the init Jobs. */
  readonly jobs: Party[];
  /** Any pod of each client namespace (nx-backend). */
  readonly clients: Party[];
  /** Any pod of a namespace the layer does not know. */
  readonly outsider: Party;
  /** The cluster DNS, which every pod must reach. */
  readonly dns: Party;
  /** The destination's ports that `from` may open. */
  open(from: Endpoint, to: Endpoint): NonNullable<Endpoint["ports"]>;
}

export const plainObjects = (env: RenderedEnvironment): PlainObject[] =>
  env.objects.map(({ object }) => JSON.parse(JSON.stringify(object)) as PlainObject);

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

function flows(env: RenderedEnvironment): Flows {
  const plain = plainObjects(env);
  const policies = plain.filter((o) => o.kind === "NetworkPolicy") as unknown as NetworkPolicyLike[];
  const namespaces: NamespaceInfo[] = plain
    .filter((o) => o.kind === "Namespace")
    .map((o) => ({ name: o.metadata?.name ?? "", labels: { ...o.metadata?.labels } }));
  return {
    workloads: plain.filter((o) => o.kind === "StatefulSet" || o.kind === "Deployment").map(party),
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
    open: (from, to) =>
      (to.ports ?? []).filter((p) => decide(policies, namespaces, from, to, p.containerPort, p.protocol ?? "TCP").allowed),
  };
}
