// The policies per environment: each environment's manifests are judged apart against the flows
// declared for it (policies/flows.ts), production's CloudNativePG flows get through and stay closed
// where they must, and the engine judges a Pooler's pod template and a Cluster's pods instead of
// passing over kinds it does not know.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { environmentOf, type Manifest, runPolicies, type Source } from "../policies/engine.ts";
import { loadExceptions } from "../policies/exceptions.ts";
import { rules } from "../policies/rules/index.ts";
import { loadSources } from "../policies/sources.ts";

const repo = join(import.meta.dirname, "..");
const production = loadSources(repo, ["overlays/production"]);
const staging = loadSources(repo, ["overlays/staging"]);
const family = (name: string) => rules.filter((r) => r.id.startsWith(`${name}/`));
// With the committed exceptions, as `npm run policy` runs: the operators' webhooks admit any source.
const exceptions = loadExceptions(rules);
const findings = (sources: readonly Source[], only = "network") =>
  runPolicies(family(only), sources, exceptions).findings.map((f) => `${f.rule} ${f.object}: ${f.message}`);
const without = (sources: readonly Source[], kind: string, name: string) =>
  sources.filter((s) => !(s.manifest.kind === kind && s.manifest.metadata?.name === name));
const policy = (name: string, spec: Record<string, unknown>): Source => ({
  manifest: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace: "nx-persistent" }, spec } as Manifest,
  file: `overlays/production/nx-persistent/${name}-networkpolicy.yaml`,
  via: "overlays/production",
});

describe("the environment of a manifest", () => {
  it.each([
    [{ file: "base/nx-broker/x.yaml", via: "overlays/production/nx-broker" }, "production"],
    [{ file: "overlays/staging/nx-persistent/x.yaml" }, "staging"],
    [{ file: "argocd/production/apps/x.yaml" }, "production"],
    [{ file: "base/nx-broker/x.yaml" }, undefined],
    [{ file: "t.yaml" }, undefined],
  ])("%j is of %s", (where, environment) => {
    expect(environmentOf({ manifest: { apiVersion: "v1", kind: "ConfigMap" }, ...where })).toBe(environment);
  });
});

describe("each environment judged apart", () => {
  it("passes both overlays checked together, each against its own flows", () => {
    expect(findings([...staging, ...production])).toEqual([]);
  });

  it("cannot judge an environment whose flows are not declared", () => {
    const elsewhere = staging.map((s) => ({ ...s, via: s.via?.replace("overlays/staging", "overlays/qa") }));
    expect(() => findings(elsewhere)).toThrow("policies/flows.ts declares no flows for environment qa");
  });
});

describe("production's CloudNativePG flows", () => {
  it("need the instances' way to the object store", () => {
    expect(findings(without(production, "NetworkPolicy", "allow-postgresql-to-object-storage"))).toContainEqual(
      expect.stringContaining("network/needed-flow Cluster nx-persistent/nx-postgresql: Cluster nx-persistent/nx-postgresql (primary) -> the backup object store:443/TCP is blocked"),
    );
  });

  it("need the operator's way to the instances' status API", () => {
    expect(findings(without(production, "NetworkPolicy", "allow-cnpg-instances"))).toContainEqual(
      expect.stringContaining("network/needed-flow Cluster nx-persistent/nx-postgresql: CloudNativePG operator -> Cluster nx-persistent/nx-postgresql (primary):8000/TCP is blocked"),
    );
  });

  it("need the Pooler's way to the API server", () => {
    expect(findings(without(production, "NetworkPolicy", "allow-pgbouncer-to-kubernetes-api"))).toContainEqual(
      expect.stringContaining("Pooler nx-persistent/nx-pgbouncer -> the Kubernetes API server:443/TCP is blocked"),
    );
  });

  it("keep everything else outside the cluster closed to the instances", () => {
    const anywhere = policy("allow-anywhere", {
      podSelector: { matchLabels: { "cnpg.io/podRole": "instance" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }],
    });
    expect(findings([...production, anywhere])).toContainEqual(
      expect.stringContaining("Cluster nx-persistent/nx-postgresql (primary) -> any other address outside the cluster:443/TCP is open"),
    );
  });

  it("admit the operator's namespace by name, and no other operator's", () => {
    const other = policy("allow-monitoring", {
      podSelector: { matchLabels: { "cnpg.io/podRole": "instance" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }], ports: [{ protocol: "TCP", port: 9187 }] }],
    });
    expect(findings([...production, other])).toEqual([
      "network/ingress-sources NetworkPolicy nx-persistent/allow-monitoring: namespaceSelector admits monitoring, which is neither the layer, a client nor an operator",
    ]);
  });
});

describe("the operators' kinds", () => {
  const pooler = production.find((s) => s.manifest.kind === "Pooler")!;

  it("a Pooler's pod template is judged by the pod rules", () => {
    const manifest = JSON.parse(JSON.stringify(pooler.manifest));
    manifest.spec.template.spec.containers[0].securityContext.privileged = true;
    expect(findings([{ ...pooler, manifest }], "pod-security")).toEqual([
      "pod-security/privileged Pooler nx-persistent/nx-pgbouncer: container \"pgbouncer\" runs privileged",
    ]);
  });

  it("a Cluster's pods are seen by the network rules; a CloudNativePG kind the engine does not know fails", () => {
    expect(findings(production, "kinds")).toEqual([]);
    const backup: Source = { manifest: { apiVersion: "postgresql.cnpg.io/v1", kind: "Backup", metadata: { name: "b", namespace: "nx-persistent" } }, file: "t.yaml" };
    expect(findings([backup], "kinds")).toEqual([
      "kinds/known Backup nx-persistent/b: Backup.postgresql.cnpg.io (postgresql.cnpg.io/v1) is a kind the policies do not know; its pods, if it runs any, would go unchecked",
    ]);
  });
});
