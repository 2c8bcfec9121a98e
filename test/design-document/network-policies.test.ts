// Design document, "Network Policies": the Deny Defaults and the Allow Rules of the layer's three
// namespaces, row by row, checked on the rendered staging overlay; where the layer corrects a row
// (a "Fix:" in generator/components/network-policies.ts) the fixed row is checked and the fix
// named. That the flows the document describes get through and the closed ones stay closed, for
// every pod and environment, is the policy rules network/needed-flow and network/closed-flow over
// policies/flows.ts (`npm run policy`, test/policy-environments.test.ts).
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import type { INetworkPolicyPort } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort";
import { describe, expect, it } from "vitest";
import { type NetworkPolicyLike, policyTypes, selectsPod } from "../../generator/lib/reachability.ts";
import { id, podLabels, renderOverlay } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { allowRules, dns, environment, fixPolicies, layerNamespaces } from "./facts.ts";

const overlay = renderOverlay(environment);
type Direction = "Ingress" | "Egress";
type PolicyRule = { peers: INetworkPolicyPeer[] | undefined; ports: INetworkPolicyPort[] | undefined };

const knownNamespaces = [...layerNamespaces, "nx-backend", "nx-app", "nx-internal", dns.namespace];
const typesOf = (p: INetworkPolicy) => [...policyTypes(p as unknown as NetworkPolicyLike)].sort();

/** Namespaces a peer list reaches (a peer without namespaceSelector is the policy's own namespace). */
function peerNamespacesOf(policyNamespace: string, peers: readonly INetworkPolicyPeer[] | undefined): string[] {
  if (!peers || peers.length === 0) return ["(any)"];
  const names = new Set<string>();
  for (const peer of peers) {
    if (peer.ipBlock) names.add(`ipBlock ${peer.ipBlock.cidr}`);
    else if (!peer.namespaceSelector) names.add(policyNamespace);
    else for (const ns of knownNamespaces) if (selectsPod(peer.namespaceSelector, overlay.namespaceLabels(ns))) names.add(ns);
  }
  return [...names].sort();
}

const rulesOf = (p: INetworkPolicy, direction: Direction): PolicyRule[] =>
  direction === "Ingress"
    ? (p.spec?.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
    : (p.spec?.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));

const numeric = (a: number, b: number) => a - b;
/** Every TCP port the rules open, sorted (named ports become NaN, so they never match). */
const tcpPorts = (rules: PolicyRule[]): number[] =>
  [...new Set(rules.flatMap((r) => (r.ports ?? []).filter((p) => (p.protocol ?? "TCP") === "TCP").map((p) => Number(p.port))))].sort(numeric);
const peersReached = (namespace: string, rules: PolicyRule[]) => [...new Set(rules.flatMap((r) => peerNamespacesOf(namespace, r.peers)))].sort();

/** The long-running workloads of `namespace` whose pods `selector` selects. */
const workloadsSelected = (namespace: string, selector: ILabelSelector | undefined): string[] =>
  overlay.workloads
    .filter((w) => w.kind !== "Job" && w.metadata?.namespace === namespace && (selector === undefined || selectsPod(selector, podLabels(w))))
    .map(id)
    .sort();

describe("Network Policies › Deny Defaults", () => {
  eachRow(layerNamespaces, (ns) => `default-deny-all in ${ns} denies all Ingress and Egress of every pod`, (namespace) => {
    const p = overlay.networkPolicy(namespace, "default-deny-all");
    expect(p.spec?.podSelector).toEqual({});
    expect(p.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    expect([p.spec?.ingress ?? [], p.spec?.egress ?? []]).toEqual([[], []]);
  });

  eachRow(layerNamespaces, (ns) => `allow-dns in ${ns}: Egress of every pod to ${dns.namespace} on ${dns.ports.join(", ")}`, (namespace) => {
    const p = overlay.networkPolicy(namespace, "allow-dns");
    expect(typesOf(p)).toEqual(["Egress"]);
    expect(p.spec?.podSelector).toEqual({});
    const rules = rulesOf(p, "Egress");
    expect(peersReached(namespace, rules)).toEqual([dns.namespace]);
    expect(rules.flatMap((r) => (r.ports ?? []).map((x) => `${x.port}/${x.protocol ?? "TCP"}`)).sort()).toEqual(dns.ports);
  });
});

describe("Network Policies › Allow Rules", () => {
  it("the policies of the layer are exactly the document's rows plus the named fixes", () => {
    const documented = [
      ...layerNamespaces.flatMap((ns) => [`${ns}/default-deny-all`, `${ns}/allow-dns`]),
      ...allowRules.map((r) => `${r.namespace}/${r.policy}`),
      ...fixPolicies.map((f) => `${f.namespace}/${f.policy}`),
    ].sort();
    expect(overlay.ofKind<INetworkPolicy>("NetworkPolicy").map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort()).toEqual(documented);
  });

  eachRow(
    allowRules,
    (r) => `${r.policy} in ${r.namespace}: ${r.direction}, ${r.fromTo}, ports ${r.ports.join(", ")}${r.fixed ? ` (fix: ${r.fixed.why})` : ""}`,
    (row) => {
      const p = overlay.networkPolicy(row.namespace, row.policy);
      const expected = row.fixed ?? row;
      const directions: Direction[] = row.direction === "Both" ? ["Egress", "Ingress"] : [row.direction];
      expect(typesOf(p)).toEqual(directions);
      for (const direction of directions) {
        const rules = rulesOf(p, direction);
        expect(rules.length, `${direction} rules`).toBeGreaterThan(0);
        expect(peersReached(row.namespace, rules), `${direction} peers' namespaces`).toEqual([...expected.peerNamespaces].sort());
        expect(tcpPorts(rules), `${direction} ports`).toEqual([...expected.ports].sort(numeric));
        for (const r of row.peers ? rules : []) {
          const selected = (r.peers ?? []).flatMap((peer) => workloadsSelected(row.namespace, peer.podSelector));
          expect([...new Set(selected)].sort(), `${direction} peers`).toEqual([...(row.peers ?? [])].sort());
        }
      }
      if (expected.appliesTo) expect(workloadsSelected(row.namespace, p.spec?.podSelector)).toEqual([...expected.appliesTo].sort());
    },
  );

  eachRow(fixPolicies, (f) => `${f.policy} in ${f.namespace} exists (fix: ${f.fix})`, ({ policy, namespace }) => {
    expect(overlay.networkPolicy(namespace, policy).metadata?.name).toBe(policy);
  });
});
