// Typesense per size: one node is the single server staging runs; an odd number of at least 3 is a
// Raft cluster (nodes file, peering, Services, probes, disruption budget, placement); an even
// number, or one the stateful pool or Typesense's host names cannot hold, is refused.
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { typesense } from "../generator/components/typesense.ts";
import { production } from "../generator/config/production.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { plain, problems, productionWith, stagingWith } from "./support/config.ts";
import { copyProject, kustomizeBuild, type PlainObject, readTree, removeTempDirs } from "./support/repo.ts";
import { type Manifest, runPolicies, type Source } from "../policies/engine.ts";
import { loadExceptions } from "../policies/exceptions.ts";
import { rules } from "../policies/rules/index.ts";
import { loadSources } from "../policies/sources.ts";

afterAll(removeTempDirs);

const objects = (env: Environment) => typesense(env).map((o) => plain<any>(o));
const one = (env: Environment, kind: string, name?: string) =>
  objects(env).find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const statefulSet = (env: Environment = staging) => one(env, "StatefulSet");
const container = (env: Environment) => statefulSet(env).spec.template.spec.containers[0];
const withNodes = (replicas: number, hosts = replicas) => stagingWith({ typesense: { replicas }, statefulNodes: { hosts } });
const typesenseSelector = { "app.kubernetes.io/name": "typesense", "app.kubernetes.io/component": "search" };

describe("Typesense, one node", () => {
  it("serves its API on 8108 with the key from its Secret and keeps its data on the volume", () => {
    const c = container(staging);
    expect(c.args).toEqual(["--data-dir=/data", "--api-port=8108", "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors"]);
    expect(c.env).toEqual([
      { name: "TYPESENSE_API_KEY", valueFrom: { secretKeyRef: { name: "nx-typesense-secret", key: "TYPESENSE_API_KEY" } } },
    ]);
    expect(c.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: "http" });
  });

  it("is a StatefulSet and its Service, with no peers, nodes file or budget", () => {
    expect(objects(staging).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(["Service nx-typesense", "StatefulSet nx-typesense"]);
    expect(statefulSet().spec.serviceName).toBe("nx-typesense");
    expect(statefulSet().spec.podManagementPolicy).toBeUndefined();
  });

  it("takes its volume size from config", () => {
    expect(statefulSet(stagingWith({ typesense: { storage: "8Gi" } })).spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("8Gi");
  });
});

describe("Typesense, a 3-node Raft cluster", () => {
  const env = withNodes(3);

  it("lists every node in the nodes file by its pod DNS name under the headless Service", () => {
    expect(one(env, "ConfigMap", "nx-typesense-nodes").data).toEqual({
      nodes: [0, 1, 2].map((i) => `nx-typesense-${i}.nx-typesense-headless.nx-search.svc.cluster.local:8107:8108`).join(","),
    });
  });

  it("peers on its pod IP, reads the nodes file from the mounted folder, and resets its peers after a full restart", () => {
    const c = container(env);
    expect(c.args).toEqual([
      "--data-dir=/data", "--api-port=8108", "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors",
      "--peering-address=$(POD_IP)", "--peering-port=8107", "--nodes=/etc/typesense/nodes", "--reset-peers-on-error",
    ]);
    expect(c.env).toContainEqual({ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });
    expect(c.ports).toEqual([{ containerPort: 8108, name: "http" }, { containerPort: 8107, name: "peering" }]);
    // A folder, not a subPath: the kubelet only updates a ConfigMap mounted whole.
    expect(c.volumeMounts).toContainEqual({ name: "nodes", mountPath: "/etc/typesense", readOnly: true });
    expect(c.volumeMounts.every((m: any) => m.subPath === undefined)).toBe(true);
    expect(statefulSet(env).spec.template.spec.volumes).toEqual([{ name: "nodes", configMap: { name: "nx-typesense-nodes" } }]);
  });

  it("is governed by a headless Service that publishes peers before they are ready; clients keep nx-typesense", () => {
    const sts = statefulSet(env);
    expect(sts.spec.serviceName).toBe("nx-typesense-headless");
    expect(sts.spec.podManagementPolicy).toBe("Parallel");
    const headless = one(env, "Service", "nx-typesense-headless").spec;
    expect(headless).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true, selector: typesenseSelector });
    expect(headless.ports.map((p: any) => [p.port, p.targetPort])).toEqual([[8107, "peering"], [8108, "http"]]);
    const clients = one(env, "Service", "nx-typesense").spec;
    expect(clients.clusterIP).toBeUndefined();
    expect(clients.publishNotReadyAddresses).toBeUndefined();
    expect(clients.ports.map((p: any) => p.port)).toEqual([8108]);
  });

  it("is Ready only with a leader (/health), and restarted only when its process is dead", () => {
    const c = container(env);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(c.startupProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(c.livenessProbe.httpGet).toBeUndefined();
    expect(c.livenessProbe.tcpSocket).toEqual({ port: "http" });
  });

  it("loses one node at a time to a drain, never two on one host, and spreads over zones", () => {
    expect(one(env, "PodDisruptionBudget").spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: typesenseSelector } });
    const pod = statefulSet(env).spec.template.spec;
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: typesenseSelector }, topologyKey: "kubernetes.io/hostname" },
    ]);
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", nodeTaintsPolicy: "Honor", labelSelector: { matchLabels: typesenseSelector } },
    ]);
  });

  it("spreads hard over zones where the pool has several (production)", () => {
    expect(statefulSet(production).spec.template.spec.topologySpreadConstraints[0].whenUnsatisfiable).toBe("DoNotSchedule");
  });

  it("opens 8107 and 8108 between its own pods only", () => {
    const policy = one(env, "NetworkPolicy", "allow-typesense-peers").spec;
    const peers = [{ podSelector: { matchLabels: typesenseSelector } }];
    const both = [{ port: 8107, protocol: "TCP" }, { port: 8108, protocol: "TCP" }];
    expect(policy).toEqual({
      podSelector: { matchLabels: typesenseSelector },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: peers, ports: both }],
      egress: [{ to: peers, ports: both }],
    });
  });
});

describe("Typesense, other sizes", () => {
  it("builds 5 nodes as one cluster of 5", () => {
    const env = withNodes(5);
    expect(statefulSet(env).spec.replicas).toBe(5);
    expect(one(env, "ConfigMap").data.nodes.split(",")).toHaveLength(5);
    // The whole environment generates.
    expect(() => problems(env)).toThrow("expected generation to fail");
  });

  it.each([
    [2, "2 nodes: a Raft majority of 2 is 2, so they survive 0 failed nodes, no more than 1 would, and a split into halves elects no leader; use 1 or an odd number of at least 3"],
    [4, "4 nodes: a Raft majority of 4 is 3, so they survive 1 failed node, no more than 3 would, and a split into halves elects no leader; use 1 or an odd number of at least 3"],
  ])("refuses %i nodes, located", (replicas, message) => {
    expect(problems(withNodes(replicas))).toEqual([`staging / typesense / StatefulSet nx-search/nx-typesense / typesense.replicas: ${message}`]);
  });

  it("refuses more nodes than the pool has hosts (one node per host is required)", () => {
    expect(problems(withNodes(5, 3))).toEqual([
      "staging / typesense / StatefulSet nx-search/nx-typesense / typesense.replicas: 5 Raft nodes need 5 hosts (one node per host, required anti-affinity), but statefulNodes.hosts is 3: the rest would never be scheduled",
    ]);
  });

  it("refuses a node host longer than Typesense reads (64 characters)", () => {
    // nx-typesense-10.nx-typesense-headless.nx-search.svc.cluster.local: 65 characters.
    expect(problems(withNodes(11))).toEqual([
      "staging / typesense / StatefulSet nx-search/nx-typesense / typesense.replicas: node host nx-typesense-10.nx-typesense-headless.nx-search.svc.cluster.local is 65 characters; Typesense drops a nodes-file host longer than 64, so that node would never join",
    ]);
  });

  it("writes nothing when an environment file asks for 2 nodes", () => {
    const project = copyProject();
    const file = join(project, "generator/config/production.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace(/typesense: \{\n    replicas: 3,/, "typesense: {\n    replicas: 2,"));
    const before = readTree(project);
    const run = spawnSync(process.execPath, [join(project, "generator/cli.ts"), "generate"], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("production / typesense / StatefulSet nx-search/nx-typesense / typesense.replicas: 2 nodes:");
    expect(run.stderr).toContain("nothing written");
    expect(readTree(project)).toEqual(before);
  });
});

// What a node sees in production's rendered overlay, read as Typesense reads its nodes file
// (raft_server.cpp resolve_node_hosts: `host:peering_port:api_port`, comma-separated) and as the
// cluster DNS names StatefulSet pods (`<pod>.<serviceName>.<namespace>.svc.<domain>`).
describe("production's rendered Typesense cluster (stand-in for the cluster DNS and Typesense)", () => {
  const rendered = kustomizeBuild(join(import.meta.dirname, "..", "overlays/production/nx-search"));
  const find = (kind: string, name: string) => rendered.find((o) => o.kind === kind && o.metadata?.name === name) as PlainObject & Record<string, any>;
  const sts = find("StatefulSet", "nx-typesense");
  const c = sts.spec.template.spec.containers[0];
  const arg = (name: string) => c.args.find((a: string) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

  it("names in the mounted nodes file exactly the pods of the StatefulSet under its headless Service", () => {
    const nodesPath: string = arg("nodes");
    const mount = c.volumeMounts.find((m: any) => nodesPath.startsWith(`${m.mountPath}/`));
    const volume = sts.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    const file = find("ConfigMap", volume.configMap.name).data[nodesPath.slice(mount.mountPath.length + 1)];
    const entries = file.split(",").map((node: string) => node.split(":"));
    const podNames = Array.from({ length: sts.spec.replicas }, (_, i) => `${sts.metadata!.name}-${i}.${sts.spec.serviceName}.nx-search.svc.cluster.local`);
    expect(entries.map(([host]: string[]) => host)).toEqual(podNames);
    expect(entries.every((e: string[]) => e.length === 3 && e[0]!.length <= 64)).toBe(true);
    const containerPort = (name: string) => String(c.ports.find((p: any) => p.name === name).containerPort);
    expect(entries.every(([, peering, api]: string[]) => peering === containerPort("peering") && api === containerPort("http"))).toBe(true);
    expect([arg("peering-port"), arg("api-port")]).toEqual([containerPort("peering"), containerPort("http")]);
  });

  it("governs the pods by a headless Service that selects them, publishes them unready and carries the peering port", () => {
    const governing = find("Service", sts.spec.serviceName).spec;
    expect(governing.clusterIP).toBe("None");
    expect(governing.publishNotReadyAddresses).toBe(true);
    expect(Object.entries(governing.selector).every(([k, v]) => sts.spec.template.metadata.labels[k] === v)).toBe(true);
    expect(governing.ports.map((p: any) => p.targetPort)).toContain("peering");
  });
});

// `npm run policy`'s network family on production's overlay: the peers' flows get through, and
// nobody else reaches the Raft port.
describe("production's Typesense flows (npm run policy)", () => {
  const repo = join(import.meta.dirname, "..");
  const sources = loadSources(repo, ["overlays/production"]);
  const network = rules.filter((r) => r.id.startsWith("network/"));
  const findings = (set: readonly Source[]) => runPolicies(network, set, loadExceptions(rules)).findings.map((f) => `${f.rule} ${f.object}: ${f.message}`);
  const openPeering: Source = {
    manifest: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-peering-to-all", namespace: "nx-search" },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: 8107 }] }],
        egress: [{ to: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: 8107 }] }],
      },
    } as Manifest,
    file: "overlays/production/nx-search/allow-peering-to-all-networkpolicy.yaml",
    via: "overlays/production",
  };

  it("pass as rendered", () => {
    expect(findings(sources)).toEqual([]);
  });

  it("need the peers' policy for Raft between the nodes", () => {
    const without = sources.filter((s) => s.manifest.metadata?.name !== "allow-typesense-peers");
    expect(findings(without)).toEqual([
      expect.stringContaining("StatefulSet nx-search/nx-typesense -> StatefulSet nx-search/nx-typesense:8107/TCP is blocked (Raft: votes, log replication, snapshots)"),
    ]);
  });

  it("keep the peering port closed to every other pod", () => {
    const found = findings([...sources, openPeering]);
    expect(found).toEqual([
      expect.stringContaining("Deployment nx-search/nx-debezium -> StatefulSet nx-search/nx-typesense:8107/TCP is open"),
      expect.stringContaining("any other pod in nx-search -> StatefulSet nx-search/nx-typesense:8107/TCP is open"),
    ]);
  });
});
