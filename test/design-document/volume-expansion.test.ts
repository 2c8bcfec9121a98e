// Design document, "Volume Expansion": the PVCs its example patches are the claims of the Redis
// pods, on the StorageClass it expands.
import { describe, expect } from "vitest";
import { claimTemplate, renderOverlay, replicas } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { environment, expandedClaims, storageClass } from "./facts.ts";

const overlay = renderOverlay(environment);

describe("Volume Expansion", () => {
  eachRow(expandedClaims.claims, (pvc) => `PVC ${pvc} in ${expandedClaims.namespace} is a claim of a ${expandedClaims.statefulSet} pod on ${storageClass}`, (pvc) => {
    const sts = overlay.statefulSet(expandedClaims.namespace, expandedClaims.statefulSet);
    const claim = claimTemplate(sts);
    const claims = Array.from({ length: replicas(sts) }, (_, i) => `${claim.metadata?.name}-${sts.metadata?.name}-${i}`);
    expect(claims).toContain(pvc);
    expect(claim.spec?.storageClassName).toBe(storageClass);
  });
});
