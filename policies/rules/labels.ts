// The recommended labels make every object traceable to its app, role, version and owner.
import type { Rule } from "../engine.ts";

export const recommendedLabels = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
];

export const labelRules: Rule[] = [
  {
    id: "labels/recommended",
    severity: "error",
    description: "Every object carries the recommended app.kubernetes.io/* labels.",
    fix: "build the object with generator/lib/labels.ts (recommendedLabels)",
    check: (m) => {
      const missing = recommendedLabels.filter((l) => !m.metadata?.labels?.[l]);
      return missing.length ? [{ path: "metadata.labels", message: `missing ${missing.join(", ")}` }] : [];
    },
  },
];
