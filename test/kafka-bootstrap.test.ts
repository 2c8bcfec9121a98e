// The brokers' init container under the real sh, against stand-ins of kafka-storage.sh and
// kafka-metadata-quorum.sh (no Kafka server runs here). The stand-ins keep the quorum's state in a
// folder; `sleep` runs a hook between two checks, so a test can let a voter catch up or an operator
// approve while the script waits. Every path of the decision about an empty disk is run.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { kafkaBrokers, kafkaFormatApproval, statefulSetsOf } from "../generator/components/kafka/statefulsets.ts";
import { staging } from "../generator/config/staging.ts";
import type { Environment } from "../generator/config/types.ts";
import { plain, stagingWith } from "./support/config.ts";

const clusterId = statefulSetsOf(staging).clusterId;
const controller = (i: number) => `nx-kafka-${i}.nx-kafka-headless.nx-broker.svc.cluster.local:9093`;

// kafka-metadata-quorum.sh answers from $STATE: `status` and `replication` hold what the quorum's
// leader would print; without `status` no leader answers (the tool times out and exits 1).
const quorumTool = `echo "quorum $*" >> "$STATE/log"
case "$*" in
  *"describe --status") [ -f "$STATE/status" ] && cat "$STATE/status" ;;
  *"describe --replication") [ -f "$STATE/replication" ] && cat "$STATE/replication" ;;
  *) echo "unexpected kafka-metadata-quorum.sh $*" >&2; exit 2 ;;
esac`;
const storageTool = `echo "storage $*" >> "$STATE/log"
[ -f "$BOX/config/server.properties" ] || { echo "format before server.properties" >&2; exit 2; }
echo "cluster.id=$3" > "$BOX/data/meta.properties"`;
const sleepTool = `n=$(($(cat "$STATE/sleeps" 2>/dev/null || echo 0) + 1)); echo "$n" > "$STATE/sleeps"
if [ -f "$STATE/on-sleep" ]; then . "$STATE/on-sleep"; fi
exit 0`;

let box: string | undefined;
afterEach(() => {
  if (box) rmSync(box, { recursive: true, force: true });
  box = undefined;
});

/** A node's folders (data volume, config emptyDir, template ConfigMap) and the stand-ins. */
function node(): { dir: string; state: string } {
  box = mkdtempSync(join(tmpdir(), "nx-kafka-init-"));
  const dir = box;
  for (const sub of ["bin", "state", "data/lost+found", "config", "template"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "template", "server.properties"), "process.roles=broker,controller\n");
  for (const [name, body] of Object.entries({ "kafka-metadata-quorum.sh": quorumTool, "kafka-storage.sh": storageTool, sleep: sleepTool })) {
    writeFileSync(join(dir, "bin", name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, "bin", name), 0o755);
  }
  return { dir, state: join(dir, "state") };
}

function initScript(env: Environment, dir: string): string {
  const script: string = plain<any>(kafkaBrokers(env)).spec.template.spec.initContainers[0].command[2];
  return script
    .replaceAll("/opt/kafka/bin/", `${dir}/bin/`)
    .replaceAll("/var/lib/kafka/data", join(dir, "data"))
    .replaceAll("/etc/kafka-template", join(dir, "template"))
    .replaceAll("/config/", `${dir}/config/`);
}

/** The init container's env vars with values of their own (CLUSTER_ID, the voters, the cluster state ...). */
function initEnv(env: Environment): Record<string, string> {
  const vars: { name: string; value?: string }[] = plain<any>(kafkaBrokers(env)).spec.template.spec.initContainers[0].env;
  return Object.fromEntries(vars.flatMap((v) => (v.value === undefined ? [] : [[v.name, v.value]])));
}

function runInit(env: Environment, dir: string, pod = "nx-kafka-2") {
  return spawnSync("sh", ["-c", initScript(env, dir)], {
    encoding: "utf8",
    env: { ...initEnv(env), PATH: `${dir}/bin:/usr/bin:/bin`, STATE: join(dir, "state"), BOX: dir, POD_NAME: pod },
  });
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
const calls = (state: string) => read(join(state, "log")).split("\n").filter(Boolean);
const formats = (state: string) => calls(state).filter((c) => c.startsWith("storage "));
const approval = (dir: string) => join(dir, "config", kafkaFormatApproval.replace("/config/", ""));

// What kafka-metadata-quorum.sh prints (MetadataQuorumCommand: describe --status, and
// describe --replication as ToolsUtils.prettyPrintTable lays it out: padded, tab-separated).
function status(highWatermark: number): string {
  return [
    `ClusterId:              ${clusterId}`,
    "LeaderId:               0",
    "LeaderEpoch:            4",
    `HighWatermark:          ${highWatermark}`,
    "MaxFollowerLag:         0",
    "MaxFollowerLagTimeMs:   0",
    `CurrentVoters:          [{"id": 0, "directoryId": null}, {"id": 1, "directoryId": null}, {"id": 2, "directoryId": null}]`,
    "CurrentObservers:       []",
  ].join("\n");
}
function replication(logEndOffsets: Record<number, number>): string {
  const leaderEnd = logEndOffsets[0]!;
  const rows = [
    ["NodeId", "DirectoryId", "LogEndOffset", "Lag", "LastFetchTimestamp", "LastCaughtUpTimestamp", "Status"],
    ...Object.entries(logEndOffsets).map(([id, end]) => [
      id, "AAAAAAAAAAAAAAAAAAAAAA", String(end), String(leaderEnd - end),
      end < 0 ? "-1" : "1764633600000", end < 0 ? "-1" : "1764633600000", id === "0" ? "Leader" : "Follower",
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => `${v.padEnd(widths[c]!)}\t`).join("")).join("\n");
}
/** A formed quorum led by node 0, as node 2 (empty) sees it: 2 never fetched from this leader. */
function quorumFormed(state: string, o: { highWatermark: number; node1End: number }) {
  writeFileSync(join(state, "status"), status(o.highWatermark));
  writeFileSync(join(state, "replication"), replication({ 0: o.highWatermark + 3, 1: o.node1End, 2: -1 }));
}

const newCluster = stagingWith({ kafka: { cluster: { initialClusterState: "new" } } });
const existingCluster = stagingWith({ kafka: { cluster: { initialClusterState: "existing" } } });

describe("Kafka init container: the pod's own server.properties", () => {
  it("derives node.id and advertised listeners from the pod name and removes lost+found", () => {
    const { dir } = node();
    expect(runInit(newCluster, dir).status).toBe(0);
    const properties = read(join(dir, "config", "server.properties"));
    expect(properties).toContain("process.roles=broker,controller\n");
    expect(properties).toContain("node.id=2\n");
    expect(properties).toContain(
      "advertised.listeners=INTERNAL://nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:29092,CLIENT://nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
    );
    expect(existsSync(join(dir, "data", "lost+found"))).toBe(false);
  });
});

describe("Kafka init container: an empty disk at the first bootstrap (initialClusterState new)", () => {
  it("formats when no leader exists yet, asking only the other voters, and a restart uses the disk as it is", () => {
    const { dir, state } = node();
    const first = runInit(newCluster, dir);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(calls(state)[0]).toBe(
      `quorum --bootstrap-controller ${controller(0)},${controller(1)} --command-config ${dir}/config/quorum-client.properties describe --status`,
    );
    expect(formats(state)).toEqual([`storage format --cluster-id ${clusterId} --config ${dir}/config/server.properties`]);
    expect(read(join(dir, "config", "quorum-client.properties"))).toBe("request.timeout.ms=5000\ndefault.api.timeout.ms=15000\n");

    const before = calls(state).length;
    expect(runInit(newCluster, dir).status).toBe(0);
    expect(calls(state)).toHaveLength(before); // a restart with data asks nothing and formats nothing
  });

  it("lets a slow pod join a quorum the others formed once every other voter holds every committed record", () => {
    const { dir, state } = node();
    quorumFormed(state, { highWatermark: 1200, node1End: 1200 });
    const result = runInit(newCluster, dir);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(formats(state)).toHaveLength(1);
    expect(read(join(state, "sleeps"))).toBe(""); // no wait
  });

  it("waits while another voter lacks committed records, then joins once it caught up", () => {
    const { dir, state } = node();
    quorumFormed(state, { highWatermark: 1200, node1End: 1100 });
    writeFileSync(join(state, "on-sleep"), `[ "$n" -ge 2 ] && cp "$STATE/caught-up" "$STATE/replication"\n`);
    writeFileSync(join(state, "caught-up"), replication({ 0: 1203, 1: 1201, 2: -1 }));
    const result = runInit(newCluster, dir);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("empty disk; the quorum has a leader, but voters 1 may not hold every committed record yet");
    expect(read(join(state, "sleeps")).trim()).toBe("2");
    expect(formats(state)).toHaveLength(1);
  });
});

describe("Kafka init container: an empty disk in an existing cluster", () => {
  it("restarts with data without asking the quorum anything", () => {
    const { dir, state } = node();
    writeFileSync(join(dir, "data", "meta.properties"), `cluster.id=${clusterId}\n`);
    const result = runInit(existingCluster, dir);
    expect(result.status).toBe(0);
    expect(calls(state)).toEqual([]);
  });

  it("never formats on its own: it waits for an operator, says how to approve, and gives up (to be restarted)", () => {
    const { dir, state } = node();
    quorumFormed(state, { highWatermark: 1200, node1End: 1200 });
    const result = runInit(existingCluster, dir);
    expect(result.status).toBe(1);
    expect(formats(state)).toEqual([]);
    expect(result.stderr).toContain("empty disk in an existing cluster; the other voters hold every committed record, so node 2 may rejoin");
    expect(result.stderr).toContain(`then approve: kubectl -n nx-broker exec nx-kafka-2 -c kafka-init-config -- touch ${approval(dir)}`);
    expect(result.stderr).toContain("docs/kafka.md, 'A node lost its disk'");
    expect(read(join(state, "sleeps")).trim()).toBe("59"); // 60 checks, bounded
  });

  it("formats once an operator approves, consumes the approval, and does not format again", () => {
    const { dir, state } = node();
    quorumFormed(state, { highWatermark: 1200, node1End: 1200 });
    writeFileSync(join(state, "on-sleep"), `touch "${approval(dir)}"\n`);
    expect(runInit(existingCluster, dir).status).toBe(0);
    expect(formats(state)).toHaveLength(1);
    expect(existsSync(approval(dir))).toBe(false);
    expect(runInit(existingCluster, dir).status).toBe(0);
    expect(formats(state)).toHaveLength(1);
  });

  it("does not format on an approval while another voter may lack committed records", () => {
    const { dir, state } = node();
    quorumFormed(state, { highWatermark: 1200, node1End: 1199 });
    writeFileSync(approval(dir), "");
    const result = runInit(existingCluster, dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("voters 1 may not hold every committed record yet");
    expect(formats(state)).toEqual([]);
  });

  it("counts every voter as behind while the leader does not know its high watermark", () => {
    const { dir, state } = node();
    quorumFormed(state, { highWatermark: -1, node1End: 5 });
    writeFileSync(approval(dir), "");
    const result = runInit(existingCluster, dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("voters 0 1 may not hold every committed record yet");
    expect(formats(state)).toEqual([]);
  });

  it("does not take a leader that answered once and then not again for no leader at all", () => {
    const { dir, state } = node();
    writeFileSync(join(state, "status"), status(1200));
    writeFileSync(approval(dir), "");
    const result = runInit(existingCluster, dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("the quorum leader answered once, then not again");
    expect(formats(state)).toEqual([]);
  });

  it("waits when no leader answers (peers down, or up but not yet elected) and says what a new cluster needs", () => {
    const { dir, state } = node();
    const result = runInit(existingCluster, dir);
    expect(result.status).toBe(1);
    expect(formats(state)).toEqual([]);
    expect(result.stderr).toContain(
      `empty disk and no quorum leader answers at ${controller(0)},${controller(1)}; if this is the first start of a new cluster, set kafka.initialClusterState to new`,
    );
  });

  it("formats without a leader only on an operator's approval (the runbook for more than one lost disk)", () => {
    const { dir, state } = node();
    writeFileSync(approval(dir), "");
    expect(runInit(existingCluster, dir).status).toBe(0);
    expect(formats(state)).toHaveLength(1);
    expect(existsSync(approval(dir))).toBe(false);
  });

  it("refuses to format over a data directory that holds files but no meta.properties", () => {
    const { dir, state } = node();
    writeFileSync(join(dir, "data", "bootstrap.checkpoint"), "");
    const result = runInit(newCluster, dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("holds files but no meta.properties; not formatting over them");
    expect(calls(state)).toEqual([]);
  });
});
