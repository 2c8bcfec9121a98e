// The rules judge pods wherever a manifest runs them. A kind the engine does not know could run
// pods (an operator's resource does) that no rule would ever look at: that is an error, never a pass.
import { operatorPodKinds, type Rule, podKinds, podlessKinds } from "../engine.ts";

export const kindRules: Rule[] = [
  {
    id: "kinds/known",
    severity: "error",
    description: "Every manifest is of a kind the policies know: one whose pods they find (in a pod template, or as its operator builds them), or one known to run none.",
    fix: "add the kind to policies/engine.ts: podlessKinds if it runs no pods of its own, otherwise teach podSpecOf where its pod template is (or generator/lib/operator-pods.ts which pods its operator runs)",
    check: (m) =>
      podKinds.has(m.kind) || podlessKinds.has(m.kind) || operatorPodKinds.has(m.kind)
        ? []
        : [{ path: "kind", message: `${m.apiVersion} ${m.kind} is a kind the policies do not know; its pods, if it runs any, would go unchecked` }],
  },
];
