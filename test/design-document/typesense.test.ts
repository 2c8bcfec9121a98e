// Design document, "Typesense › Single Instance", checked on the rendered staging overlay. (Its
// Service is in services.test.ts; a Raft cluster, production's, in test/typesense.test.ts.)
import { describe, expect, it } from "vitest";
import { containerOf, podSpec, renderOverlay, secretEnv } from "../support/rendered.ts";
import { environment, runsAs, typesense } from "./facts.ts";

const overlay = renderOverlay(environment);

describe("Typesense › Single Instance", () => {
  const sts = () => overlay.statefulSet(typesense.namespace, typesense.name);
  const c = () => containerOf(sts(), "typesense");

  it(`is governed by ${typesense.serviceName} and runs as uid/gid/fsGroup ${runsAs.typesense}`, () => {
    expect(sts().spec?.serviceName).toBe(typesense.serviceName);
    expect(podSpec(sts()).securityContext).toMatchObject({ runAsUser: runsAs.typesense, runAsGroup: runsAs.typesense, fsGroup: runsAs.typesense });
  });

  it(`runs with exactly ${typesense.args.join(" ")}, the key from Secret ${typesense.secret.name}`, () => {
    expect(c().args).toEqual(typesense.args);
    expect(secretEnv(c(), "TYPESENSE_API_KEY")).toEqual(typesense.secret);
  });

  it(`declares ${typesense.ports.map(([n, p]) => `${n} ${p}`).join(", ")} and keeps --data-dir on the data volume`, () => {
    expect((c().ports ?? []).map((p) => [p.name, p.containerPort])).toEqual(typesense.ports);
    const dataDir = typesense.args.find((a) => a.startsWith("--data-dir="))?.slice("--data-dir=".length);
    expect(c().volumeMounts).toContainEqual(expect.objectContaining({ name: "data", mountPath: dataDir }));
  });
});
