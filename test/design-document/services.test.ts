// Design document, the Services of each component ("PostgreSQL › Services", "Redis › Services",
// "Kafka › Services", "Typesense › Service", "Debezium › Service") and "Default Connection Path":
// names, DNS, ports, headless or not, and which pods on which container port each one reaches.
// (That every Service of every environment selects pods and targets declared ports is the policy
// rules references/selects-pods and references/service-target-port; that the backend reaches them
// through the NetworkPolicies, the declared flows of policies/flows.ts.)
import type { IService } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { renderOverlay } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { environment, serviceDns, services } from "./facts.ts";

const overlay = renderOverlay(environment);

describe("Services (PostgreSQL, Redis, Kafka, Typesense, Debezium)", () => {
  it("the rendered Services are exactly the document's", () => {
    expect(overlay.ofKind<IService>("Service").map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).sort()).toEqual(
      services.map((s) => `${s.namespace}/${s.name}`).sort(),
    );
  });

  eachRow(services, (r) => `${r.section} › ${r.name} (${r.dns ?? "pod DNS"}) exposes TCP port(s) ${r.ports.join(", ")}`, (row) => {
    const svc = overlay.service(row.namespace, row.name);
    if (row.dns !== null) expect(serviceDns(row.name, row.namespace)).toBe(row.dns);
    expect((svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? "TCP"}`)).toEqual(row.ports.map((p) => `${p}/TCP`));
  });

  eachRow(services, (r) => `${r.section} › ${r.name} is ${r.headless ? "headless (clusterIP None)" : "a ClusterIP Service"}${r.publishNotReadyAddresses ? " publishing not-ready addresses" : ""}`, (row) => {
    const spec = overlay.service(row.namespace, row.name).spec;
    if (row.headless) expect(spec?.clusterIP).toBe("None");
    else expect([spec?.clusterIP === "None", spec?.type ?? "ClusterIP"]).toEqual([false, "ClusterIP"]);
    if (row.publishNotReadyAddresses !== undefined) expect(spec?.publishNotReadyAddresses).toBe(row.publishNotReadyAddresses);
  });

  eachRow(services, (r) => `${r.section} › ${r.name} fronts ${r.backend}: port(s) ${r.ports.join(", ")} reach container port(s) ${r.targetPorts.join(", ")}`, (row) => {
    const svc = overlay.service(row.namespace, row.name);
    expect(row.ports.flatMap((port) => overlay.targetPortOf(svc, port))).toEqual(row.targetPorts.map((containerPort) => ({ workload: row.backend, containerPort })));
  });
});
