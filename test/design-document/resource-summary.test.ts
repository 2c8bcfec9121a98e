// Design document, "Resource Summary › Staging (stateful node pool)": each workload's pods and
// what each pod requests and may use, checked on the rendered staging overlay.
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { describe, expect } from "vitest";
import { quantityValue } from "../../policies/quantity.ts";
import { containerOf, podSpec, renderOverlay, replicas } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { components, environment } from "./facts.ts";

const overlay = renderOverlay(environment);

/** A quantity in thousandths (millicores, milli-bytes), so sums of CPU and memory are exact integers. */
const milli = (q: string | number | undefined) => Math.round((quantityValue(q ?? 0) ?? Number.NaN) * 1000);

describe("Resource Summary › Staging (stateful node pool)", () => {
  eachRow(
    components,
    ({ component, container, perPod: { requests, limits } }) =>
      `${component}: container ${container} requests ${requests.cpu} CPU / ${requests.memory}, limited to ${limits.cpu} CPU / ${limits.memory}`,
    (row) => {
      expect(containerOf(overlay.workload(row.kind, row.namespace, row.name), row.container).resources).toEqual(row.perPod);
    },
  );

  // The table's row is the workload whole: no other container adds to it.
  eachRow(components, (r) => `${r.component}: ${r.replicas} pod(s) of these figures add up to the table's row`, (row) => {
    const w = overlay.workload(row.kind, row.namespace, row.name) as IStatefulSet | IDeployment;
    const sum = (pick: (r: { requests?: Record<string, unknown>; limits?: Record<string, unknown> }) => unknown) =>
      replicas(w) * podSpec(w).containers.reduce((t, c) => t + milli(pick(c.resources ?? {}) as string | undefined), 0);
    const per = (pick: (f: typeof row.perPod) => string) => row.replicas * milli(pick(row.perPod));
    expect([sum((r) => r.requests?.cpu), sum((r) => r.limits?.cpu), sum((r) => r.requests?.memory), sum((r) => r.limits?.memory)]).toEqual([
      per((f) => f.requests.cpu), per((f) => f.limits.cpu), per((f) => f.requests.memory), per((f) => f.limits.memory),
    ]);
  });
});
