// NetworkPolicies from flow specs: a policy names the pods it applies to and, per direction, the
// peers and ports it allows. A flow needs both halves: egress allowed where it starts and ingress
// allowed where it ends. Components write the policies of their own flows with this; the
// network-policies component adds default-deny, DNS and the flows between components.
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { Environment, ExternalAddresses } from "../config/types.ts";
import { recommendedLabels, selectorLabels } from "./labels.ts";
import type { PodRole } from "./topology.ts";

/** Pods, by the labels they carry (a contract's pods, or a selector built from pod roles). */
export type Pods = ILabelSelector;

/** The pods of one role, or of several roles of one app. */
export function podsOf(...roles: readonly PodRole[]): Pods {
  if (roles.length === 1) return { matchLabels: selectorLabels(roles[0]!) };
  return {
    matchLabels: { "app.kubernetes.io/name": roles[0]!.app },
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: roles.map((p) => p.component) }],
  };
}

/** Who is on the other side of a flow: some pods, or any pod, of a namespace. */
export interface PodPeer {
  readonly namespace: string;
  readonly pods?: Pods;
}

/** Addresses outside the cluster's pods (an object store, the API server), by IP block. */
export interface AddressPeer {
  readonly cidr: string;
}

export type Peer = PodPeer | AddressPeer;

export interface Rule {
  /**
   * `anywhere`: any source or destination, for what no selector can name (the API server calling
   * a webhook is not a pod); the ports alone limit the rule.
   */
  readonly peers: readonly Peer[] | "anywhere";
  readonly ports: readonly number[];
  readonly protocols?: readonly ("TCP" | "UDP")[];
}

export interface PolicySpec {
  readonly name: string;
  readonly namespace: string;
  /** The pods the policy applies to; all pods of the namespace when absent. */
  readonly pods?: Pods;
  readonly ingress?: readonly Rule[];
  readonly egress?: readonly Rule[];
}

function peer(policyNamespace: string, p: Peer): INetworkPolicyPeer {
  if ("cidr" in p) return { ipBlock: { cidr: p.cidr } };
  const pods = p.pods ? { podSelector: p.pods } : {};
  // A peer without namespaceSelector means "this namespace"; other namespaces are matched by the
  // name label Kubernetes sets on every namespace.
  if (p.namespace === policyNamespace) return p.pods ? pods : { podSelector: {} };
  return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } }, ...pods };
}

function rule(namespace: string, r: Rule) {
  return {
    // No peers at all: the rule admits every source (or destination) on its ports.
    peers: r.peers === "anywhere" ? undefined : r.peers.map((p) => peer(namespace, p)),
    ports: r.ports.flatMap((port) => (r.protocols ?? ["TCP"]).map((protocol) => ({ protocol, port }))),
  };
}

/** The API server as `apiServer` in config gives it: what an operator's pods call. */
export function apiServerAddresses(env: Environment): ExternalAddresses {
  return { name: "kubernetes-api", ...env.apiServer, reason: "the API server's endpoints (apiServer in the environment's config)" };
}

/** Egress to addresses outside the cluster's pods, on their ports. */
export function toAddresses(addresses: ExternalAddresses): Rule {
  return { peers: addresses.cidrs.map((cidr) => ({ cidr })), ports: addresses.ports };
}

export function networkPolicy(env: Environment, spec: PolicySpec): NetworkPolicy {
  const types: ("Ingress" | "Egress")[] = [...(spec.ingress ? ["Ingress" as const] : []), ...(spec.egress ? ["Egress" as const] : [])];
  return new NetworkPolicy({
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: recommendedLabels(env, { app: env.common.partOf, component: "network-policy", instance: spec.name }),
    },
    spec: {
      podSelector: spec.pods ?? {},
      policyTypes: types,
      // A policy type with no rules denies that direction (default-deny).
      ...(spec.ingress?.length
        ? { ingress: spec.ingress.map((r) => rule(spec.namespace, r)).map(({ peers, ports }) => ({ ...(peers ? { from: peers } : {}), ports })) }
        : {}),
      ...(spec.egress?.length
        ? { egress: spec.egress.map((r) => rule(spec.namespace, r)).map(({ peers, ports }) => ({ ...(peers ? { to: peers } : {}), ports })) }
        : {}),
    },
  });
}
