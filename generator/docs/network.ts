// docs/network.md: which pod may open which port on which pod, evaluated from the rendered
// NetworkPolicies with Kubernetes' semantics (egress at the source and ingress at the destination).
import type { RenderedEnvironment } from "../components/render.ts";
import { generatedNotice } from "../lib/generated.ts";
import { decide, type Endpoint, type NamespaceInfo, type NetworkPolicyLike } from "../lib/reachability.ts";
import { ports } from "../lib/topology.ts";

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { ports?: Endpoint["ports"] }[]; initContainers?: { ports?: Endpoint["ports"] }[] };
}

interface Plain {
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: PodTemplate };
}

function endpoints(env: RenderedEnvironment): { pods: Endpoint[]; jobs: Endpoint[] } {
  const plain = env.objects.map(({ object }) => JSON.parse(JSON.stringify(object)) as Plain);
  const endpoint = (o: Plain): Endpoint => {
    const template = o.spec?.template ?? {};
    const containers = [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
    return {
      namespace: o.metadata?.namespace ?? "",
      labels: { ...template.metadata?.labels },
      ports: containers.flatMap((c) => c.ports ?? []),
      what: `${o.metadata?.name?.replace(/-[0-9a-f]{8}$/, "")} (${o.metadata?.namespace})`,
    };
  };
  return {
    pods: plain.filter((o) => o.kind === "StatefulSet" || o.kind === "Deployment").map(endpoint),
    jobs: plain.filter((o) => o.kind === "Job").map(endpoint),
  };
}

export function networkDoc(environments: readonly RenderedEnvironment[]): string {
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Who may talk to whom",
    "",
    "Ports each source may open on each destination pod, as the rendered NetworkPolicies allow it",
    "(egress allowed where the flow starts and ingress allowed where it ends). Service ports are",
    "translated: a client reaching `nx-pgbouncer:5432` opens 6432 on the PgBouncer pod. `npm run",
    "policy` checks the flows the layer needs and those that must stay closed against the same policies.",
    "",
  ];
  for (const env of environments) {
    const json = env.objects.map(({ object }) => JSON.parse(JSON.stringify(object)) as Plain & { metadata?: { labels?: Record<string, string> } });
    const policies = json.filter((o) => o.kind === "NetworkPolicy") as unknown as NetworkPolicyLike[];
    const namespaces: NamespaceInfo[] = json
      .filter((o) => o.kind === "Namespace")
      .map((o) => ({ name: o.metadata?.name ?? "", labels: { ...o.metadata?.labels } }));
    const { pods, jobs } = endpoints(env);
    const clients = env.environment.common.clientNamespaces.map((ns) => ({ namespace: ns, labels: {}, what: `any pod in ${ns}` }));
    const outsider: Endpoint = { namespace: "nx-app", labels: {}, what: "any other namespace (e.g. nx-app)" };
    const dns: Endpoint = {
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
      ports: [
        { name: "dns", containerPort: ports.dns, protocol: "UDP" },
        { name: "dns-tcp", containerPort: ports.dns, protocol: "TCP" },
      ],
      what: "kube-dns",
    };
    const sources = [...clients, ...pods, ...jobs, outsider];
    const destinations = [...pods, dns];
    const cell = (from: Endpoint, to: Endpoint) => {
      const open = (to.ports ?? []).filter((p) => decide(policies, namespaces, from, to, p.containerPort, p.protocol ?? "TCP").allowed);
      // Protocols are named only where a destination listens on more than TCP (DNS).
      const named = (to.ports ?? []).some((p) => (p.protocol ?? "TCP") !== "TCP");
      return open.length ? open.map((p) => (named ? `${p.containerPort}/${p.protocol ?? "TCP"}` : String(p.containerPort))).join(", ") : "-";
    };
    lines.push(`## ${env.environment.name}`, "");
    lines.push(`| from \\ to | ${destinations.map((d) => d.what).join(" | ")} |`);
    lines.push(`|---|${destinations.map(() => "---").join("|")}|`);
    for (const from of sources) lines.push(`| ${from.what} | ${destinations.map((to) => cell(from, to)).join(" | ")} |`);
    lines.push("");
  }
  return lines.join("\n");
}
