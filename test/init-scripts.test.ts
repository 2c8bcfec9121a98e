// The shell scripts the pods run: every one parses, and the one-time init steps are idempotent.
// No cluster runs here, so each script runs under the real sh against small stand-ins for its
// server's CLI (redis-cli, curl ...) that keep state in a folder between runs: running a script
// twice must act once and leave that state as one run does. PostgreSQL's scripts run against real
// servers instead (test/postgres-real.test.ts, test/postgres-replica-real.test.ts).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { debeziumInitJob } from "../generator/components/debezium.ts";
import { kafkaBrokers, kafkaScramInitJob } from "../generator/components/kafka.ts";
import { renderEnvironment } from "../generator/components/render.ts";
import { redisClusterInitJob } from "../generator/components/redis.ts";
import { staging } from "../generator/config/staging.ts";
import { plain } from "./support/config.ts";

interface Container {
  name: string;
  command?: string[];
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: { exec?: { command: string[] } };
}

function shellScripts(): [string, string][] {
  const found: [string, string][] = [];
  for (const { object } of renderEnvironment(staging).objects) {
    const o = plain<any>(object);
    const pod = o.spec?.template?.spec;
    if (!pod) continue;
    for (const c of [...(pod.initContainers ?? []), ...pod.containers] as Container[]) {
      const where = `${o.kind} ${o.metadata.name} ${c.name}`;
      for (const [what, cmd] of [["command", c.command], ["readiness", c.readinessProbe?.exec?.command], ["liveness", c.livenessProbe?.exec?.command]] as const) {
        if (cmd?.[0] === "sh" && cmd[1] === "-c") found.push([`${where} ${what}`, cmd[2]!]);
      }
    }
  }
  return found;
}

describe("Every shell script in the layer", () => {
  const scripts = shellScripts();

  it("is found (commands and probes of every workload and Job)", () => {
    expect(scripts.length).toBeGreaterThanOrEqual(10);
  });

  it.each(scripts)("%s parses as POSIX sh", (_where, script) => {
    const check = spawnSync("sh", ["-n", "-c", script], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});

let work: string | undefined;
afterEach(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  work = undefined;
});

/** A folder with `bin/` stand-ins (sh scripts) and a `state/` folder they share between runs. */
function sandbox(stubs: Record<string, string>): { bin: string; state: string } {
  work = mkdtempSync(join(tmpdir(), "nx-init-"));
  const bin = join(work, "bin");
  const state = join(work, "state");
  mkdirSync(bin);
  mkdirSync(state);
  for (const [name, body] of Object.entries({ sleep: "exit 0", ...stubs })) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { bin, state };
}

function run(script: string, box: { bin: string; state: string }, env: Record<string, string> = {}) {
  return spawnSync("sh", ["-c", script], {
    encoding: "utf8",
    env: { PATH: `${box.bin}:/usr/bin:/bin`, STATE: box.state, ...env },
  });
}

const jobScript = (job: { toJSON(): unknown }) => plain<any>(job).spec.template.spec.containers[0].command[2] as string;
const initScript = (sts: { toJSON(): unknown }) => plain<any>(sts).spec.template.spec.initContainers[0].command[2] as string;
const log = (state: string) => (existsSync(join(state, "log")) ? readFileSync(join(state, "log"), "utf8") : "");

describe("Redis cluster-init Job", () => {
  // A three-node cluster as redis-cli sees it: empty nodes until `--cluster create` has run.
  const redisCli = `
case "$*" in
  *"--cluster create"*) echo "create $*" >> "$STATE/log"; touch "$STATE/created" ;;
  *"--cluster fix"*) echo "fix $*" >> "$STATE/log"; rm -f "$STATE/half"; touch "$STATE/created" ;;
  *" ping") echo PONG ;;
  *"cluster info")
    if [ -f "$STATE/created" ]; then printf 'cluster_state:ok\\r\\ncluster_slots_assigned:16384\\r\\ncluster_known_nodes:3\\r\\n'
    elif [ -f "$STATE/half" ]; then printf 'cluster_state:fail\\r\\ncluster_slots_assigned:5461\\r\\ncluster_known_nodes:3\\r\\n'
    else printf 'cluster_state:fail\\r\\ncluster_slots_assigned:0\\r\\ncluster_known_nodes:1\\r\\n'; fi ;;
  *) echo "unexpected redis-cli $*" >&2; exit 2 ;;
esac`;
  const getent = `n=$(echo "$2" | sed 's/^nx-redis-\\([0-9]*\\)\\..*/\\1/'); echo "10.1.0.$n $2"`;

  it("creates the cluster on the first run and only checks it on the second", () => {
    const box = sandbox({ "redis-cli": redisCli, getent });
    const script = jobScript(redisClusterInitJob(staging));

    const first = run(script, box, { REDIS_PASSWORD: "pw" });
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(log(box.state).trim().split("\n")).toEqual([
      "create --cluster create 10.1.0.0:6379 10.1.0.1:6379 10.1.0.2:6379 --cluster-replicas 0 --cluster-yes",
    ]);

    const second = run(script, box, { REDIS_PASSWORD: "pw" });
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("cluster already created; not creating it again");
    expect(log(box.state).trim().split("\n")).toHaveLength(1);
  });

  it("finishes a create that was interrupted half-way instead of failing forever", () => {
    const box = sandbox({ "redis-cli": redisCli, getent });
    writeFileSync(join(box.state, "half"), "");
    const run1 = run(jobScript(redisClusterInitJob(staging)), box, { REDIS_PASSWORD: "pw" });
    expect(run1.stderr).toBe("");
    expect(run1.status).toBe(0);
    expect(log(box.state).trim().split("\n")).toEqual(["fix --cluster fix 10.1.0.0:6379 --cluster-yes"]);
  });

  it("gives up with an error when a node never answers", () => {
    const box = sandbox({ "redis-cli": 'case "$*" in *" ping") echo LOADING ;; *) exit 2 ;; esac', getent });
    const result = run(jobScript(redisClusterInitJob(staging)), box, { REDIS_PASSWORD: "pw" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("timed out waiting for nx-redis-0.nx-redis-headless.nx-broker.svc.cluster.local");
  });
});

describe("Debezium connector registration Job", () => {
  // Kafka Connect answers 503 while starting, 409 while rebalancing, then accepts the PUT.
  const curl = `
n=$(cat "$STATE/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$STATE/calls"
case "$*" in *"-X PUT"*) echo "PUT" >> "$STATE/log" ;; esac
for a in "$@"; do case "$a" in --data) ;; @*) cp "\${a#@}" "$STATE/sent.json" ;; esac; done
echo '{"name":"nx-postgresql-source"}' > /tmp/response
case "$n" in 1) printf 503 ;; 2) printf 409 ;; *) printf 200 ;; esac`;

  it("retries while Connect starts or rebalances, then registers; a second run only updates", () => {
    const box = sandbox({ curl });
    mkdirSync(join(box.state, "etc"));
    const script = jobScript(debeziumInitJob(staging)).replaceAll("/etc/debezium/", `${box.state}/etc/`);
    writeFileSync(join(box.state, "etc", "connector.json"), '{"tasks.max":"1"}');

    const first = run(script, box);
    expect(first.status).toBe(0);
    expect(readFileSync(join(box.state, "calls"), "utf8").trim()).toBe("3");

    const second = run(script, box);
    expect(second.status).toBe(0);
    expect(log(box.state).trim().split("\n")).toEqual(["PUT", "PUT", "PUT", "PUT"]);
    expect(readFileSync(join(box.state, "sent.json"), "utf8")).toBe('{"tasks.max":"1"}');
  });

  it("keeps retrying while Connect refuses connections (curl prints 000 and fails)", () => {
    const refusing = `
n=$(cat "$STATE/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$STATE/calls"
if [ "$n" -le 2 ]; then printf 000; echo "curl: (7) Failed to connect" >&2; exit 7; fi
echo '{}' > /tmp/response; printf 201`;
    const box = sandbox({ curl: refusing });
    const result = run(jobScript(debeziumInitJob(staging)), box);
    expect(result.status).toBe(0);
    expect(readFileSync(join(box.state, "calls"), "utf8").trim()).toBe("3");
  });

  it("fails with the server's answer when Connect rejects the config", () => {
    const box = sandbox({ curl: "echo 'bad config' > /tmp/response; printf 400" });
    const result = run(jobScript(debeziumInitJob(staging)), box);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("connector registration refused: HTTP 400");
  });
});

describe("Kafka init steps", () => {
  it("creates the SCRAM user once the brokers answer, and upserts the same credential on a second run", () => {
    const box = sandbox({
      "kafka-broker-api-versions.sh": 'n=$(cat "$STATE/tries" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/tries"; [ "$n" -ge 2 ]',
      "kafka-configs.sh": 'echo "kafka-configs $*" >> "$STATE/log"',
    });
    const script = jobScript(kafkaScramInitJob(staging)).replaceAll("/opt/kafka/bin/", `${box.bin}/`);
    expect(run(script, box, { KAFKA_SASL_PASSWORD: "s3cret" }).status).toBe(0);
    expect(run(script, box, { KAFKA_SASL_PASSWORD: "s3cret" }).status).toBe(0);
    const calls = log(box.state).trim().split("\n");
    const alter = calls.filter((c) => c.includes("--alter"));
    expect(alter).toHaveLength(2);
    expect(alter[0]).toBe(alter[1]);
    expect(alter[0]).toContain("--add-config SCRAM-SHA-512=[iterations=8192,password=s3cret] --entity-type users --entity-name nx.staging");
  });

  it("writes the pod's own server.properties, removes lost+found and formats storage only once", () => {
    const box = sandbox({ "kafka-storage.sh": 'echo "format $*" >> "$STATE/log"; touch "$DATA/meta.properties"' });
    for (const dir of ["config", "data/lost+found", "template"]) mkdirSync(join(box.state, dir), { recursive: true });
    writeFileSync(join(box.state, "template", "server.properties"), "process.roles=broker,controller\n");
    const script = initScript(kafkaBrokers(staging))
      .replaceAll("/opt/kafka/bin/", `${box.bin}/`)
      .replaceAll("/var/lib/kafka/data", join(box.state, "data"))
      .replaceAll("/etc/kafka-template", join(box.state, "template"))
      .replaceAll("/config/", `${join(box.state, "config")}/`);
    const env = { POD_NAME: "nx-kafka-2", CLUSTER_ID: staging.kafka.clusterId, DATA: join(box.state, "data") };

    expect(run(script, box, env).status).toBe(0);
    expect(run(script, box, env).status).toBe(0);

    expect(log(box.state).trim().split("\n")).toHaveLength(1);
    expect(log(box.state)).toContain(`format --cluster-id ${staging.kafka.clusterId} --config`);
    expect(existsSync(join(box.state, "data", "lost+found"))).toBe(false);
    const properties = readFileSync(join(box.state, "config", "server.properties"), "utf8");
    expect(properties).toContain("node.id=2\n");
    expect(properties).toContain(
      "advertised.listeners=INTERNAL://nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:29092,CLIENT://nx-kafka-2.nx-kafka-headless.nx-broker.svc.cluster.local:9092",
    );
  });
});
