// docs/topology.md: a Mermaid diagram per environment (GitHub renders it) of the namespaces, the
// workloads and Jobs, the Services in front of them, and the flows the rendered NetworkPolicies
// allow between them (the same evaluation as docs/network.md).
import type { RenderedEnvironment } from "../components/render.ts";
import { generatedNotice } from "../lib/generated.ts";
import { selectsPod } from "../lib/reachability.ts";
import { type EnvironmentFlows, type Party, plainObjects } from "./flows.ts";

interface ServiceSpec {
  clusterIP?: string;
  selector?: Record<string, string>;
  ports?: { port: number; targetPort?: number | string }[];
}

/** A Mermaid node id: letters, digits and underscores only. */
const nodeId = (...parts: string[]) => parts.join("_").replace(/[^A-Za-z0-9_]/g, "_");

const partyId = (p: Party) => nodeId(p.kind ? "pod" : "any", p.namespace, p.name ?? "");

function partyNode(p: Party, replicas: number | undefined): string {
  const label =
    p.kind === undefined ? p.what : p.kind === "Job" ? `Job ${p.name}` : `${p.kind} ${p.name}${replicas === undefined ? "" : ` ×${replicas}`}`;
  // Jobs as parallelograms: they run once and complete.
  return p.kind === "Job" ? `${partyId(p)}[/"${label}"/]` : `${partyId(p)}["${label}"]`;
}

export function topologyDoc(environments: readonly EnvironmentFlows[]): string {
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Topology",
    "",
    "Each environment's namespaces with their workloads (boxes), init Jobs (slanted) and Services",
    "(rounded, dotted to the pods they select, `service port → pod port`), and every connection the",
    "rendered NetworkPolicies allow (solid arrows, labelled with the pod ports that may be opened).",
    "docs/network.md has the same flows as a table.",
    "",
  ];
  for (const { rendered: env, flows } of environments) {
    const { workloads, jobs, clients, outsider, dns, operators, external, open } = flows;
    const plain = plainObjects(env) as (ReturnType<typeof plainObjects>[number] & { spec?: ServiceSpec & { replicas?: number } })[];
    const replicas = (p: Party) => p.count ?? plain.find((o) => o.kind === p.kind && o.metadata?.name === p.name && o.metadata?.namespace === p.namespace)?.spec?.replicas;
    const services = plain.filter((o) => o.kind === "Service");
    const pods = [...workloads, ...jobs];
    const sources = [...clients, ...operators, ...pods];
    const reachesDns = sources.every((p) => open(p, dns).length > 0);
    const outsiderFlows = workloads.some((to) => open(outsider, to).length > 0);
    const parties = [...clients, ...operators, ...pods, ...(outsiderFlows ? [outsider] : []), ...(reachesDns ? [] : [dns])];
    const namespaces = [...new Set(parties.map((p) => p.namespace))];

    lines.push(`## ${env.environment.name}`, "", "```mermaid", "flowchart LR");
    for (const ns of namespaces) {
      lines.push(`  subgraph ${nodeId("ns", ns)}["${ns}"]`);
      for (const p of parties.filter((x) => x.namespace === ns)) lines.push(`    ${partyNode(p, replicas(p))}`);
      for (const svc of services.filter((s) => s.metadata?.namespace === ns)) {
        const headless = svc.spec?.clusterIP === "None" ? " (headless)" : "";
        lines.push(`    ${nodeId("svc", ns, svc.metadata?.name ?? "")}(["Service ${svc.metadata?.name}${headless}"])`);
      }
      lines.push("  end");
    }
    // Addresses outside the cluster stand outside every namespace.
    for (const address of external) lines.push(`  ${partyNode(address, undefined)}`);
    for (const svc of services) {
      const ns = svc.metadata?.namespace ?? "";
      for (const target of workloads.filter((w) => w.namespace === ns && selectsPod({ matchLabels: svc.spec?.selector ?? {} }, w.labels))) {
        const mapped = (svc.spec?.ports ?? []).map((p) => {
          const port = target.ports?.find((c) => c.name === p.targetPort || c.containerPort === (p.targetPort ?? p.port));
          return port?.containerPort === p.port ? String(p.port) : `${p.port} → ${port?.containerPort ?? p.targetPort}`;
        });
        lines.push(`  ${nodeId("svc", ns, svc.metadata?.name ?? "")} -.->|${mapped.join(", ")}| ${partyId(target)}`);
      }
    }
    const destinations = [...workloads, ...(reachesDns ? [] : [dns]), ...external];
    for (const from of [...sources, ...(outsiderFlows ? [outsider] : [])]) {
      for (const to of destinations) {
        const allowed = [...new Set(open(from, to).map((p) => p.containerPort))];
        if (allowed.length > 0) lines.push(`  ${partyId(from)} -->|${allowed.join(", ")}| ${partyId(to)}`);
      }
    }
    lines.push("```", "");
    if (reachesDns) lines.push("Not drawn: every pod may query the cluster DNS (kube-dns, port 53).");
    if (!outsiderFlows) lines.push("No pod of any other namespace may open a connection to the layer.");
    lines.push("");
  }
  return lines.join("\n");
}
