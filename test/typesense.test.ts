import { describe, expect, it } from "vitest";
import { typesense } from "../generator/components/typesense.ts";
import { staging } from "../generator/config/staging.ts";
import { plain, stagingWith } from "./support/config.ts";

const statefulSet = (env = staging) => typesense(env).map((o) => plain<any>(o)).find((o) => o.kind === "StatefulSet");

describe("Typesense", () => {

  it("serves its API on 8108 with the key from its Secret and keeps its data on the volume", () => {
    const c = statefulSet().spec.template.spec.containers[0];
    expect(c.args).toEqual(["--data-dir=/data", "--api-port=8108", "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors"]);
    expect(c.env).toEqual([
      { name: "TYPESENSE_API_KEY", valueFrom: { secretKeyRef: { name: "nx-typesense-secret", key: "TYPESENSE_API_KEY" } } },
    ]);
    expect(c.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health", port: "http" });
  });

  it("takes replicas and volume size from config", () => {
    const sts = statefulSet(stagingWith({ typesense: { replicas: 3, storage: "8Gi" } }));
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("8Gi");
  });
});
