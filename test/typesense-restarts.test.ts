// Typesense across restarts: liveness must not kill a node that is still loading its collections
// (its /health answers 503 until then).
import { describe, expect, it } from "vitest";
import { typesense } from "../generator/components/typesense.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { plain } from "./support/config.ts";

const template = (env: Environment = staging) =>
  typesense(env).map((o) => plain<any>(o)).find((o) => o.kind === "StatefulSet").spec.template;
const window = (probe: any) => (probe.initialDelaySeconds ?? 0) + probe.periodSeconds * probe.failureThreshold;

describe("Typesense restarts", () => {
  it("holds liveness back until /health answers 200, for up to 30 minutes of loading", () => {
    const c = template().spec.containers[0];
    expect(c.startupProbe?.httpGet).toEqual({ path: "/health", port: "http" });
    expect(window(c.startupProbe)).toBeGreaterThanOrEqual(30 * 60);
    // Without it, liveness alone would restart a loading node after about two minutes.
    expect(window(c.livenessProbe)).toBeLessThan(5 * 60);
  });
});
