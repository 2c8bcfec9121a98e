// The rules judge pods wherever a manifest runs them. A kind the engine does not know could run
// pods (an operator's resource does) that no rule would ever look at: that is an error, never a
// pass. Kinds are told apart by group too: another group's `Job` is not a batch Job. And a kind
// known to run pods whose pod spec is not where that kind keeps it would pass every pod rule
// unchecked: an error too.
import { groupKind } from "../../generator/lib/identity.ts";
import { operatorPodKinds, type Rule, podKinds, podlessKinds, podSpecOf } from "../engine.ts";

export const kindRules: Rule[] = [
  {
    id: "kinds/known",
    severity: "error",
    description: "Every manifest is of a kind the policies know: one whose pods they find (in a pod template, or as its operator builds them), or one known to run none.",
    fix: "add the kind (Kind.group) to policies/engine.ts: podlessKinds if it runs no pods of its own, otherwise podSpecPaths, where its pod spec is (or generator/lib/operator-pods.ts which pods its operator runs)",
    check: (m) =>
      podKinds.has(groupKind(m)) || podlessKinds.has(groupKind(m)) || operatorPodKinds.has(groupKind(m))
        ? []
        : [{ path: "kind", message: `${groupKind(m)} (${m.apiVersion}) is a kind the policies do not know; its pods, if it runs any, would go unchecked` }],
  },
  {
    id: "kinds/pod-spec",
    severity: "error",
    description: "A manifest of a kind that runs pods has its pod spec where that kind keeps it, so the pod rules check it.",
    fix: "render the pod template where the kind keeps it (e.g. spec.template.spec of a Deployment)",
    check: (m) =>
      podKinds.has(groupKind(m)) && podSpecOf(m) === undefined
        ? [{ path: "spec", message: `${groupKind(m)} runs pods, but its pod spec is missing: no pod rule could check them` }]
        : [],
  },
];
