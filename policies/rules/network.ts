// Who may talk to whom, judged on the rendered NetworkPolicies with Kubernetes' semantics (a flow
// needs egress allowed where it starts and ingress allowed where it ends): every namespace
// denies by default, every needed flow gets through, every closed flow stays closed.
import { common } from "../../generator/config/common.ts";
import { environments } from "../../generator/config/environments.ts";
import { operatorPodsOf } from "../../generator/lib/operator-pods.ts";
import { decide, type Endpoint, type NetworkPolicyLike } from "../../generator/lib/reachability.ts";
import { containersOf, type Manifest, objectName, podSpecOf, type Rule, type RuleContext, type Source } from "../engine.ts";
import { environmentFlows, everyPodNeeds, type Flow, outsiders, type Pods } from "../flows.ts";
import { operatorFlows } from "../operator-flows.ts";
import { namespaceOf } from "../../generator/lib/identity.ts";

interface Pod {
  readonly endpoint: Endpoint;
  readonly source: Source;
}


/** The pods the manifests run: one per pod template, or per kind of pod an operator runs for it, with labels and container ports. */
function podsOf(context: RuleContext): Pod[] {
  return context.all.flatMap((source): Pod[] => {
    const pod = podSpecOf(source.manifest);
    if (!pod) {
      return operatorPodsOf(source.manifest).map((p) => ({
        source,
        endpoint: { namespace: namespaceOf(source.manifest), labels: { ...p.labels }, ports: p.ports, what: `${objectName(source.manifest)} (${p.role})` },
      }));
    }
    const ports = containersOf(pod).flatMap(({ container }) => (container.ports as Endpoint["ports"]) ?? []);
    return [
      {
        source,
        endpoint: {
          namespace: namespaceOf(source.manifest),
          labels: { ...pod.metadata?.labels },
          ports,
          what: objectName(source.manifest),
        },
      },
    ];
  });
}

function world(context: RuleContext) {
  const policies = context.all.filter((s) => s.manifest.kind === "NetworkPolicy").map((s) => s.manifest as unknown as NetworkPolicyLike);
  const namespaces = context.all
    .filter((s) => s.manifest.kind === "Namespace")
    .map((s) => ({ name: s.manifest.metadata?.name ?? "", labels: { ...s.manifest.metadata?.labels } }));
  const rendered = new Set(context.all.map((s) => namespaceOf(s.manifest)));
  return { policies, namespaces, rendered, pods: podsOf(context) };
}

type World = ReturnType<typeof world>;

const layerNamespaces = new Set(Object.values(common.namespaces));
const operatorNamespaces = new Set(Object.values(common.operatorNamespaces));
// The operators' flows of each environment, judged with that environment's manifests.
const operators = new Map(environments.map((env) => [env.name, operatorFlows(env)]));

/**
 * The endpoints a declared `Pods` stands for: the rendered pods it selects, or a stand-in for a
 * namespace outside the layer or a pod the layer does not run. Undefined when it is in a layer namespace this run does not check
 * (one namespace overlay alone): such a flow cannot be judged from the manifests at hand.
 */
function endpointsOf(w: World, pods: Pods): Pod[] | Endpoint[] | undefined {
  if (pods.external) {
    return [{ namespace: "", labels: {}, external: true, ...(pods.external.ip ? { ip: pods.external.ip } : {}), what: pods.what }];
  }
  if (!w.rendered.has(pods.namespace) && (layerNamespaces.has(pods.namespace) || operatorNamespaces.has(pods.namespace))) return undefined;
  if (!w.rendered.has(pods.namespace) || pods.standIn) {
    const ports = pods.labels?.["k8s-app"] === "kube-dns"
      ? [{ name: "dns", containerPort: 53, protocol: "UDP" as const }, { name: "dns-tcp", containerPort: 53, protocol: "TCP" as const }]
      : [];
    return [{ namespace: pods.namespace, labels: { ...pods.labels }, ports, what: pods.what }];
  }
  return w.pods.filter(
    (p) => p.endpoint.namespace === pods.namespace && Object.entries(pods.labels ?? {}).every(([k, v]) => p.endpoint.labels[k] === v),
  );
}

const endpoint = (e: Pod | Endpoint): Endpoint => ("endpoint" in e ? e.endpoint : e);

function explain(w: World, from: Endpoint, to: Endpoint, port: number, protocol: "TCP" | "UDP"): string {
  const d = decide(w.policies, w.namespaces, from, to, port, protocol);
  const side = (name: string, s: { isolated: boolean; allowedBy: string[] }) =>
    !s.isolated ? `${name}: not isolated` : s.allowedBy.length ? `${name} allowed by ${s.allowedBy.join(", ")}` : `${name}: no policy allows it`;
  return `${side("egress", d.egress)}; ${side("ingress", d.ingress)}`;
}

/** Where a finding about a flow is filed: the rendered pod at either end, else any object of the set. */
function blame(context: RuleContext, ...ends: (Pod | Endpoint)[]): Source {
  for (const e of ends) if ("source" in e) return e.source;
  const first = context.all[0];
  if (!first) throw new Error("no manifests to check");
  return first;
}

function flowViolations(context: RuleContext, flows: readonly Flow[], wantAllowed: boolean) {
  const w = world(context);
  return flows.flatMap((flow) => {
    const protocol = flow.protocol ?? "TCP";
    const froms = endpointsOf(w, flow.from);
    const tos = endpointsOf(w, flow.to);
    if (!froms || !tos) return [];
    const label = `${flow.from.what} -> ${flow.to.what}:${flow.port}/${protocol}`;
    if (wantAllowed && (froms.length === 0 || tos.length === 0)) {
      const missing = froms.length === 0 ? flow.from : flow.to;
      return [{ source: blame(context, ...froms, ...tos), path: "(flow)", message: `${label} (${flow.why}): no pod in ${missing.namespace} matches ${JSON.stringify(missing.labels)}` }];
    }
    return froms.flatMap((f) =>
      tos.flatMap((t) => {
        const allowed = decide(w.policies, w.namespaces, endpoint(f), endpoint(t), flow.port, protocol).allowed;
        if (allowed === wantAllowed) return [];
        const state = wantAllowed ? "is blocked" : "is open";
        return [
          {
            source: blame(context, t, f),
            path: "(flow)",
            message: `${endpoint(f).what} -> ${endpoint(t).what}:${flow.port}/${protocol} ${state} (${flow.why}); ${explain(w, endpoint(f), endpoint(t), flow.port, protocol)}`,
          },
        ];
      }),
    );
  });
}

const trusted = new Set([...layerNamespaces, ...common.clientNamespaces, ...operatorNamespaces]);
const nameLabel = "kubernetes.io/metadata.name";

/** Why an ingress peer may admit pods of namespaces outside the layer and its clients, if it may. */
function untrustedPeer(peer: NonNullable<NonNullable<NonNullable<NetworkPolicyLike["spec"]>["ingress"]>[number]["from"]>[number]): string | undefined {
  if (peer.ipBlock) return `ipBlock ${peer.ipBlock.cidr} admits addresses from anywhere`;
  const selector = peer.namespaceSelector;
  if (!selector) return undefined; // a podSelector alone: the policy's own namespace
  const pinned = selector.matchLabels?.[nameLabel];
  const listed = selector.matchExpressions?.find((e) => e.key === nameLabel && e.operator === "In")?.values;
  const names = pinned !== undefined ? [pinned] : listed;
  if (!names) return `namespaceSelector ${JSON.stringify(selector)} does not pin ${nameLabel}, so it can match any namespace`;
  const outside = names.filter((n) => !trusted.has(n));
  return outside.length ? `namespaceSelector admits ${outside.join(", ")}, which is neither the layer, a client nor an operator` : undefined;
}

const isDefaultDeny = (p: NetworkPolicyLike, type: "Ingress" | "Egress") => {
  const spec = p.spec ?? {};
  const selectsAll = Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 && (spec.podSelector?.matchExpressions ?? []).length === 0;
  const rules = type === "Ingress" ? spec.ingress : spec.egress;
  return selectsAll && (spec.policyTypes ?? []).includes(type) && (rules ?? []).length === 0;
};

/**
 * The declared flows of the manifests' environment. Manifests of no environment (loose files) are
 * judged on what holds everywhere only (default-deny, outsiders, DNS); an environment the flows do
 * not declare fails, so a new environment cannot pass unjudged.
 */
function flowsOf(context: RuleContext): { needed: readonly Flow[]; closed: readonly Flow[] } {
  if (context.environment === undefined) return { needed: [], closed: [] };
  const declared = environmentFlows[context.environment];
  if (!declared) throw new Error(`policies/flows.ts declares no flows for environment ${context.environment}: add them (environmentFlows)`);
  const ofOperators = operators.get(context.environment) ?? { needed: [], closed: [] };
  return { needed: [...declared.needed, ...ofOperators.needed], closed: [...declared.closed, ...ofOperators.closed] };
}

export const networkRules: Rule[] = [
  {
    id: "network/default-deny",
    severity: "error",
    description: "Every namespace denies ingress and egress by default (a policy selecting all pods, with no rules).",
    fix: "keep default-deny-all (policyTypes Ingress and Egress, podSelector {}) in generator/components/network-policies.ts",
    // Judged for the namespaces the checked manifests create (not, say, argocd, which they only use).
    checkAll: (context) => {
      const w = world(context);
      return context.all
        .filter((s) => s.manifest.kind === "Namespace")
        .flatMap((source) => {
          const ns = source.manifest.metadata?.name ?? "";
          const inNamespace = w.policies.filter((p) => p.metadata?.namespace === ns);
          const missing = (["Ingress", "Egress"] as const).filter((type) => !inNamespace.some((p) => isDefaultDeny(p, type)));
          return missing.length ? [{ source, path: "(namespace)", message: `namespace ${ns} has no default-deny for ${missing.join(" and ")}` }] : [];
        });
    },
  },
  {
    id: "network/needed-flow",
    severity: "error",
    description: "Every flow the data layer needs is allowed at both ends.",
    fix: "allow it in generator/components/network-policies.ts: egress where the flow starts and ingress where it ends",
    checkAll: (context) => {
      const w = world(context);
      const dns = w.pods.flatMap((pod) =>
        everyPodNeeds.map((need) => ({ ...need, from: { namespace: pod.endpoint.namespace, labels: pod.endpoint.labels, what: pod.endpoint.what } })),
      );
      return flowViolations(context, [...flowsOf(context).needed, ...dns], true);
    },
  },
  {
    id: "network/closed-flow",
    severity: "error",
    description: "Flows that must stay closed are not allowed: internal listeners, and the layer from namespaces that are not its clients.",
    fix: "narrow the NetworkPolicy in generator/components/network-policies.ts that opens it (its name is in the message)",
    checkAll: (context) => {
      const w = world(context);
      const fromOutside: Flow[] = outsiders.flatMap((from) =>
        w.pods.flatMap((pod) =>
          (pod.endpoint.ports ?? []).map((p) => ({
            from,
            to: { namespace: pod.endpoint.namespace, labels: pod.endpoint.labels, what: pod.endpoint.what },
            port: p.containerPort,
            protocol: (p.protocol ?? "TCP") as "TCP" | "UDP",
            why: "not a client of the data layer",
          })),
        ),
      );
      return flowViolations(context, [...flowsOf(context).closed, ...fromOutside], false);
    },
  },
  {
    id: "network/ingress-sources",
    severity: "error",
    description: `Pods of the layer and of its operators admit traffic only from the layer's namespaces, its clients (${[...common.clientNamespaces].join(", ")}) and its operators' namespaces (${[...operatorNamespaces].join(", ")}).`,
    fix: "pin every ingress peer's namespaceSelector to kubernetes.io/metadata.name of a layer, client or operator namespace; no ipBlock, no rule without from",
    // Symbolic, for every namespace at once: the sample outsiders of closed-flow cannot cover them all.
    checkAll: (context) =>
      context.all.flatMap((source) => {
        const p = source.manifest as unknown as NetworkPolicyLike;
        const namespace = p.metadata?.namespace ?? "";
        if (source.manifest.kind !== "NetworkPolicy" || !(layerNamespaces.has(namespace) || operatorNamespaces.has(namespace))) return [];
        return (p.spec?.ingress ?? []).flatMap((rule, i) => {
          if (!rule.from || rule.from.length === 0) {
            return [{ source, path: `spec.ingress[${i}].from`, message: "admits every source, in any namespace" }];
          }
          return rule.from.flatMap((peer, j) => {
            const why = untrustedPeer(peer);
            return why ? [{ source, path: `spec.ingress[${i}].from[${j}]`, message: why }] : [];
          });
        });
      }),
  },
];
