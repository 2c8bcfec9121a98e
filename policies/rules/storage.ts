// Every volume the layer claims comes from the storage class the platform provides for data.
import { common } from "../../generator/config/common.ts";
import type { Rule } from "../engine.ts";

const expected = common.storageClassName;

export const storageRules: Rule[] = [
  {
    id: "storage/storage-class",
    severity: "error",
    description: `Every PersistentVolumeClaim and claim template uses the storage class ${expected}.`,
    fix: "set storageClassName (generator/config/common.ts: storageClassName)",
    check: (m) => {
      const claims: [Record<string, any> | undefined, string][] =
        m.kind === "PersistentVolumeClaim"
          ? [[m.spec as Record<string, any>, "spec"]]
          : m.kind === "StatefulSet"
            ? ((m.spec as any)?.volumeClaimTemplates ?? []).map((t: any, i: number) => [t.spec, `spec.volumeClaimTemplates[${i}].spec`])
            : [];
      return claims
        .filter(([spec]) => spec?.storageClassName !== expected)
        .map(([spec, path]) => ({
          path: `${path}.storageClassName`,
          message: `claims storage class ${JSON.stringify(spec?.storageClassName ?? null)}, not ${expected}`,
        }));
    },
  },
];
