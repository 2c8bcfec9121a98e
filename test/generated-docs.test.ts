// The generated pages a reviewer and an operator read: docs/resources.md (per-environment totals,
// side by side), docs/topology.md (Mermaid), docs/waves.md (sync waves) and docs/config.md (the
// config reference, `npm run docs:config`). Each is checked against the rendered objects it is
// computed from, and against the design document where the document has the figures.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RenderedEnvironment, renderedObject } from "../generator/components/render.ts";
import { environments } from "../generator/config/environments.ts";
import { syncWaveAnnotation } from "../generator/delivery/waves.ts";
import { withFlows } from "../generator/docs/flows.ts";
import { resourceSummary, resourcesDoc, total } from "../generator/docs/resources.ts";
import { topologyDoc } from "../generator/docs/topology.ts";
import type { KubeObject } from "../generator/lib/objects.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { stagingWith } from "./support/config.ts";
import { removeTempDirs, repoRoot, tempDir } from "./support/repo.ts";

afterAll(removeTempDirs);

const doc = (name: string) => readFileSync(join(repoRoot, "docs", name), "utf8");
const deployed = environments.map(environmentObjects);
const staging = environmentObjects(environments.find((e) => e.name === "staging")!);

/** The cells of every table row of a markdown section (`## name` up to the next `## `). */
function tableRows(text: string, section: string): string[][] {
  const start = text.indexOf(`\n## ${section}\n`);
  if (start === -1) throw new Error(`no section ${section}`);
  const end = text.indexOf("\n## ", start + 1);
  return text
    .slice(start, end === -1 ? undefined : end)
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("|---"))
    .map((l) => l.slice(2, -2).split(" | "));
}

describe("docs/resources.md", () => {
  // Design document, "Resource Summary › Staging (stateful node pool)": Pods, CPU req, CPU lim,
  // Mem req, Mem lim, Storage of each workload.
  const documentRows: Record<string, string[]> = {
    "StatefulSet nx-persistent/nx-postgresql-primary": ["1", "500m", "2", "1Gi", "4Gi", "20Gi"],
    "StatefulSet nx-persistent/nx-postgresql-replica": ["1", "250m", "1", "512Mi", "2Gi", "20Gi"],
    "Deployment nx-persistent/nx-pgbouncer": ["1", "100m", "500m", "256Mi", "512Mi", "-"],
    "StatefulSet nx-broker/nx-redis": ["3", "300m", "3", "1.125Gi", "1.5Gi", "15Gi"],
    "StatefulSet nx-broker/nx-kafka": ["3", "1.5", "4.5", "3.75Gi", "6Gi", "30Gi"],
    "StatefulSet nx-search/nx-typesense": ["1", "200m", "1", "512Mi", "2Gi", "5Gi"],
    "Deployment nx-search/nx-debezium": ["1", "250m", "1", "512Mi", "2Gi", "-"],
  };
  // Its Total row, except memory requested: the document prints 7.67Gi, its rows add up to 7.625Gi.
  const documentTotal = ["11", "3.1", "13", "7.625Gi", "18Gi", "90Gi"];

  it("is what the generator writes", () => {
    expect(doc("resources.md")).toBe(resourcesDoc(deployed));
  });

  it("gives staging's workloads the design document's figures, row by row and in total", () => {
    const rows = tableRows(doc("resources.md"), "staging");
    const workloads = rows.slice(1, rows.findIndex((r) => r[0] === "**Total**"));
    expect(Object.fromEntries(workloads.map(([name, , ...figures]) => [name, figures]))).toEqual(documentRows);
    expect(rows.find((r) => r[0] === "**Total**")?.slice(2).map((c) => c.replaceAll("**", ""))).toEqual(documentTotal);
  });

  it("puts every environment's totals side by side, the init Jobs apart", () => {
    const rows = tableRows(doc("resources.md"), "Totals");
    expect(rows[0]?.slice(1)).toEqual(environments.map((e) => e.name));
    expect(rows.find((r) => r[0] === "Pods")?.[1 + environments.indexOf(staging.environment)]).toBe("11");
    expect(rows.find((r) => r[0] === "Jobs while they run")?.[1]).toBe("4 pods: CPU 400m / 2, memory 1Gi / 2Gi");
  });

  it("follows the rendered objects: three more Redis masters add three pods and their volumes", () => {
    const bigger = total(resourceSummary(environmentObjects(stagingWith({ redis: { masters: 6 } }))).workloads);
    const now = total(resourceSummary(staging).workloads);
    expect(bigger.pods - now.pods).toBe(3);
    expect(bigger.storage - now.storage).toBe(3 * 5 * 2 ** 30);
    expect(bigger.cpuLimit! - now.cpuLimit!).toBe(3000);
  });

  it("refuses a kind it does not know to count, rather than leave its pods out", () => {
    const cluster = { apiVersion: "kafka.strimzi.io/v1", kind: "KafkaConnect", metadata: { name: "connect", namespace: "nx-broker" }, spec: { replicas: 3 } };
    const env = { environment: staging.environment, objects: [...staging.objects, renderedObject("x", { ...cluster, validate() {}, toJSON: () => cluster } as KubeObject)] };
    expect(() => resourceSummary(env)).toThrow("KafkaConnect nx-broker/connect may run pods or claim volumes; count it in generator/docs/resources.ts");
  });

  it("counts a pod as the scheduler does: the larger of its containers' sum and its largest init container", () => {
    const container = (name: string, cpu: string, memory: string) => ({ name, resources: { requests: { cpu, memory }, limits: { cpu, memory } } });
    const object = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "x", namespace: "nx-broker" },
      spec: {
        replicas: 2,
        template: { spec: { initContainers: [container("init", "2", "64Mi")], containers: [container("a", "100m", "1Gi"), container("b", "100m", "1Gi")] } },
        volumeClaimTemplates: [{ spec: { resources: { requests: { storage: "1Gi" } } } }],
      },
    };
    const env = { environment: staging.environment, objects: [renderedObject("x", { ...object, validate() {}, toJSON: () => object } as KubeObject)] };
    expect(resourceSummary(env as RenderedEnvironment).workloads[0]).toMatchObject({
      pods: 2,
      cpuRequest: 4000,
      memoryRequest: 4 * 2 ** 30,
      storage: 2 * 2 ** 30,
    });
  });
});

describe("docs/topology.md", () => {
  const text = doc("topology.md");

  it("is what the generator writes, one Mermaid flowchart per environment", () => {
    expect(text).toBe(topologyDoc(deployed.map(withFlows)));
    for (const env of environments) expect(text).toContain(`## ${env.name}\n\n\`\`\`mermaid\nflowchart LR\n`);
  });

  const diagram = text.slice(text.indexOf("```mermaid\n") + 11, text.indexOf("\n```", text.indexOf("```mermaid")));
  const nodes = new Map(
    [...diagram.matchAll(/^ {4}([A-Za-z0-9_]+)(?:\["|\[\/"|\(\[")([^"]*)"/gm)].map((m) => [m[1]!, m[2]!] as const),
  );
  const edges = [...diagram.matchAll(/^ {2}([A-Za-z0-9_]+) (-->|-\.->)\|([^|]+)\| ([A-Za-z0-9_]+)$/gm)].map((m) => ({
    from: m[1]!,
    arrow: m[2]!,
    label: m[3]!,
    to: m[4]!,
  }));
  const node = (label: string) => [...nodes].find(([, l]) => l === label)?.[0];

  it("draws every workload, Job and Service of staging, and only edges between drawn nodes", () => {
    const objects = staging.objects.map(({ object }) => object);
    for (const o of objects.filter((x) => ["StatefulSet", "Deployment", "Job", "Service"].includes(x.kind))) {
      const name = o.kind === "Job" ? o.metadata?.name?.replace(/-[0-9a-f]{8}$/, "") : o.metadata?.name;
      expect([...nodes.values()].some((l) => l.startsWith(`${o.kind} ${name}`) && (o.kind !== "Service" || l.replace(" (headless)", "") === `Service ${name}`)), `${o.kind} ${name}`).toBe(true);
    }
    for (const e of edges) expect(nodes.has(e.from) && nodes.has(e.to), `${e.from} -> ${e.to}`).toBe(true);
    expect(new Set(nodes.keys()).size).toBe(nodes.size);
  });

  it("draws exactly the flows the NetworkPolicies allow (docs/network.md's), DNS aside", () => {
    const { workloads, jobs, clients, open } = withFlows(staging).flows;
    const expected = [...clients, ...workloads, ...jobs].flatMap((from) =>
      workloads
        .map((to) => ({ to, ports: [...new Set(open(from, to).map((p) => p.containerPort))] }))
        .filter(({ ports }) => ports.length > 0)
        .map(({ to, ports }) => `${from.what} -> ${to.what}: ${ports.join(", ")}`),
    );
    const label = (id: string) => {
      const l = nodes.get(id) ?? "";
      const [kind, name] = l.split(" ");
      const ns = [...diagram.matchAll(/^ {2}subgraph \w+\["([^"]+)"\]\n((?: {4}.*\n)*)/gm)].find((m) => m[2]!.includes(`    ${id}[`) || m[2]!.includes(`    ${id}(`))?.[1];
      return kind === "any" ? l : `${name} (${ns})`;
    };
    const drawn = edges.filter((e) => e.arrow === "-->").map((e) => `${label(e.from)} -> ${label(e.to)}: ${e.label}`);
    expect(drawn.sort()).toEqual(expected.sort());
    expect(expected).toContain("any pod in nx-backend -> nx-pgbouncer (nx-persistent): 6432");
  });

  it("ties each Service to the pods it selects, with its port mapping", () => {
    const service = node("Service nx-pgbouncer");
    const pooler = node("Deployment nx-pgbouncer ×1");
    expect(edges).toContainEqual({ from: service, arrow: "-.->", label: "5432 → 6432", to: pooler });
  });
});

describe("docs/waves.md", () => {
  const text = doc("waves.md");

  it("lists every object of every environment in the row of its sync wave and the column of its namespace", () => {
    for (const env of deployed) {
      const all = tableRows(text, env.environment.name);
      // The second table: one column per namespace (the first lists the Applications).
      const start = all.findIndex((r) => r[0] === "wave" && !r.includes("Application"));
      const header = all[start]!;
      const rows = all.slice(start + 1);
      for (const { object } of env.objects) {
        const wave = object.metadata?.annotations?.[syncWaveAnnotation];
        const ns = object.kind === "Namespace" ? object.metadata?.name : object.metadata?.namespace;
        const row = rows.find((r) => r[0] === `\`${wave}\``);
        const cell = row?.[header.indexOf(ns ?? "")] ?? "";
        expect(cell.split("<br>").some((line) => line.startsWith(`${object.kind}: `) && line.slice(object.kind.length + 2).split(", ").includes(object.metadata?.name ?? "")), `${object.kind} ${ns}/${object.metadata?.name} in wave ${wave}`).toBe(true);
      }
    }
  });

  it("orders the Applications by the waves of the Argo CD folder", () => {
    const rows = tableRows(text, "staging").filter((r) => r[1]?.startsWith("`staging-"));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ["`0`", "`staging-nx-persistent`"],
      ["`0`", "`staging-nx-broker`"],
      ["`1`", "`staging-nx-search`"],
    ]);
    for (const [wave, app] of rows.map((r) => [r[0], r[1]?.replaceAll("`", "")])) {
      const file = readFileSync(join(repoRoot, "argocd/staging/apps", `${app}-application.yaml`), "utf8");
      expect(file).toContain(`${syncWaveAnnotation}: "${wave?.replaceAll("`", "")}"`);
    }
  });
});

describe("docs/config.md (npm run docs:config)", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [join(repoRoot, "scripts/config-docs.ts"), ...args], { encoding: "utf8" });
  const copy = () => {
    const root = tempDir("config-docs");
    mkdirSync(join(root, "generator/config"), { recursive: true });
    cpSync(join(repoRoot, "generator/config/types.ts"), join(root, "generator/config/types.ts"));
    cpSync(join(repoRoot, "docs"), join(root, "docs"), { recursive: true });
    return root;
  };

  it("is current: --check passes on the committed tree", () => {
    const result = run(["--check", "--root", repoRoot]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("documents every field of the config with its doc comment, type and links", () => {
    const text = doc("config.md");
    expect(text.split("\n", 1)[0]).toMatch(/^<!-- Generated by `npm run docs:config` .* Do not edit/);
    expect(text).toContain("| `maxUserConnections` | `number` | Server connections of one user across all PgBouncer databases");
    expect(text).toContain("| `poolMode` | `\"session\" \\| \"transaction\" \\| \"statement\"` |");
    expect(text).toContain("| `images` | `Images` | Every image the layer runs, pinned here and nowhere else (Renovate proposes bumps). See [Images](#images). |");
    expect(text.indexOf("## Environment")).toBeLessThan(text.indexOf("## Common"));
  });

  it("fails --check when a doc comment changed, and writes the page anew without it", () => {
    const root = copy();
    const types = join(root, "generator/config/types.ts");
    writeFileSync(types, readFileSync(types, "utf8").replace("/** Cluster masters:", "/** The cluster's masters:"));
    const check = run(["--check", "--root", root]);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain("docs/config.md is out of date. Run `npm run docs:config`");
    expect(run(["--root", root]).status).toBe(0);
    expect(readFileSync(join(root, "docs/config.md"), "utf8")).toContain("The cluster's masters:");
  });

  it("refuses a field without a doc comment, naming it", () => {
    const root = copy();
    const types = join(root, "generator/config/types.ts");
    writeFileSync(types, readFileSync(types, "utf8").replace("  /** Volume size of the search index. */\n", ""));
    const result = run(["--root", root]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("TypesenseConfig.storage");
  });
});
