// docs/network.md: which pod may open which port on which pod, evaluated from the rendered
// NetworkPolicies with Kubernetes' semantics (egress at the source and ingress at the destination).
import type { RenderedEnvironment } from "../components/render.ts";
import { generatedNotice } from "../lib/generated.ts";
import type { Endpoint } from "../lib/reachability.ts";
import type { EnvironmentFlows } from "./flows.ts";

export function networkDoc(environments: readonly EnvironmentFlows[]): string {
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Who may talk to whom",
    "",
    "Ports each source may open on each destination pod, as the rendered NetworkPolicies allow it",
    "(egress allowed where the flow starts and ingress allowed where it ends). Service ports are",
    "translated: a client reaching `nx-pgbouncer:5432` opens 6432 on the PgBouncer pod. An operator's",
    "pods (a namespace the policies admit by name) are sources; addresses outside the cluster (an IP",
    "block a policy opens, named with that policy) are destinations. `npm run policy` checks the flows",
    "the layer needs and those that must stay closed against the same policies.",
    "",
  ];
  for (const { rendered: env, flows } of environments) {
    const { workloads, jobs, clients, outsider, dns, operators, external, open } = flows;
    const sources = [...clients, ...operators, ...workloads, ...jobs, outsider];
    const destinations = [...workloads, dns, ...external];
    const cell = (from: Endpoint, to: Endpoint) => {
      const allowed = open(from, to);
      // Protocols are named only where a destination listens on more than TCP (DNS).
      const named = (to.ports ?? []).some((p) => (p.protocol ?? "TCP") !== "TCP");
      return allowed.length ? allowed.map((p) => (named ? `${p.containerPort}/${p.protocol ?? "TCP"}` : String(p.containerPort))).join(", ") : "-";
    };
    lines.push(`## ${env.environment.name}`, "");
    lines.push(`| from \\ to | ${destinations.map((d) => d.what).join(" | ")} |`);
    lines.push(`|---|${destinations.map(() => "---").join("|")}|`);
    for (const from of sources) lines.push(`| ${from.what} | ${destinations.map((to) => cell(from, to)).join(" | ")} |`);
    lines.push("");
  }
  return lines.join("\n");
}
