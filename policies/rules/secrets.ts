// Secrets are created in the cluster (docs/secrets.md lists them), never committed with data.
import type { Rule } from "../engine.ts";

export const secretRules: Rule[] = [
  {
    id: "secrets/no-data-in-git",
    severity: "error",
    description: "No Secret carries data in Git.",
    fix: "remove the Secret from Git; reference it by name and create it in the cluster (see docs/secrets.md)",
    check: (m) => {
      if (m.kind !== "Secret") return [];
      return (["data", "stringData"] as const)
        .filter((field) => Object.keys((m[field] as object | undefined) ?? {}).length > 0)
        .map((field) => ({ path: field, message: `Secret ${m.metadata?.name} has ${field} in Git` }));
    },
  },
];
