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
import { debezium, debeziumConnectorConfig, debeziumInitJob } from "../generator/components/debezium.ts";
import { kafkaScramInitJob } from "../generator/components/kafka/statefulsets.ts";
import { renderEnvironment } from "../generator/components/render.ts";
import { redisCluster, redisClusterInitJob } from "../generator/components/redis/masters.ts";
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

const quoted = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/** A Job's script, after the env vars its container is given (exported, as the kubelet sets them). */
function jobScript(job: { toJSON(): unknown }): string {
  const container = plain<any>(job).spec.template.spec.containers[0];
  const given = ((container.env ?? []) as { name: string; value?: string }[]).flatMap((e) => (e.value === undefined ? [] : [`export ${e.name}=${quoted(e.value)}`]));
  return [...given, container.command[2] as string].join("\n");
}
const log = (state: string) => (existsSync(join(state, "log")) ? readFileSync(join(state, "log"), "utf8") : "");

describe("Redis start-up step and cluster-init Job", () => {
  // Creating, re-running, finishing an interrupted create and healing after a full restart run
  // against real redis-server processes in redis-real.test.ts. What stays here needs what no
  // server here has: the nodes.conf of a newer Redis, and a node that never answers (which the Job
  // waits for 150 x 2 s; the stand-ins answer LOADING and make the waits instant).
  const getent = `n=$(echo "$2" | sed 's/^nx-redis-\\([0-9]*\\)\\..*/\\1/'); echo "10.1.0.$n $2"`;

  it("re-resolves peers in the nodes.conf of the image's Redis 7.4 too (hostname, then aux fields)", () => {
    // redis-real.test.ts runs Debian's Redis 7.0, whose nodes.conf ends the address at the
    // hostname; 7.2 and later append aux fields (cluster_legacy.c: clusterGenNodeDescription),
    // with an empty hostname kept as ",,".
    const box = sandbox({ getent });
    const conf = join(box.state, "nodes.conf");
    const host0 = "nx-redis-0.nx-redis-headless.nx-broker.svc.cluster.local";
    writeFileSync(conf, [
      `aaa 10.9.9.1:6379@16379,${host0},shard-id=s1 myself,master - 0 0 1 connected 0-5460`,
      "bbb 10.9.9.2:6379@16379,,shard-id=s2 master - 0 0 2 connected 5461-10922",
      "vars currentEpoch 3 lastVoteEpoch 0",
      "",
    ].join("\n"));
    const start = plain<any>(redisCluster(staging)).spec.template.spec.containers[0].command[2] as string;
    const result = run(start.replaceAll("/data/", `${box.state}/`), box);
    expect(result.stderr).toBe("");
    expect(readFileSync(conf, "utf8").split("\n")).toEqual([
      `aaa 10.1.0.0:6379@16379,${host0},shard-id=s1 myself,master - 0 0 1 connected 0-5460`,
      "bbb 10.9.9.2:6379@16379,,shard-id=s2 master - 0 0 2 connected 5461-10922",
      "vars currentEpoch 3 lastVoteEpoch 0",
      "",
    ]);
  });

  it("gives up with an error when a node never answers", () => {
    const box = sandbox({ "redis-cli": 'case "$*" in *" ping") echo LOADING ;; *) exit 2 ;; esac', getent });
    const result = run(jobScript(redisClusterInitJob(staging)), box, { REDIS_PASSWORD: "pw" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("timed out waiting for nx-redis-0.nx-redis-headless.nx-broker.svc.cluster.local");
  });
});

describe("Debezium connector registration Job", () => {
  // The stand-in curl reads the arguments the script gives it: where to write the body (-o), how
  // long it may take (--max-time), the body it sends (--data @file). Each call is counted.
  const curlArgs = `n=$(cat "$STATE/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$STATE/calls"
out=/dev/null; limit=3600; prev=
for a in "$@"; do
  case "$prev" in -o) out=$a ;; --max-time) limit=$a ;; esac
  case "$a" in -X) ;; PUT) [ "$prev" = -X ] && echo "PUT" >> "$STATE/log" ;; @*) [ ! -f "\${a#@}" ] || cp "\${a#@}" "$STATE/sent.json" ;; esac
  prev=$a
done
answer() { cp "$STATE/$1" "$out"; printf "$2"; }`;
  const stub = (body: string) => `${curlArgs}\n${body}`;
  const bodies = (box: { state: string }, answers: Record<string, string>) => {
    for (const [name, text] of Object.entries(answers)) writeFileSync(join(box.state, name), text);
  };
  const calls = (box: { state: string }) => Number(readFileSync(join(box.state, "calls"), "utf8"));
  /** The registration script, reading the connector's ConfigMap (one file a key) from the sandbox. */
  const registration = (box: { state: string }, extra: Record<string, string> = {}) => {
    const connector = debezium(staging).map((o) => plain<any>(o)).find((o) => o.kind === "ConfigMap");
    mkdirSync(join(box.state, "etc"));
    for (const [key, value] of Object.entries<string>({ ...connector.data, ...extra })) writeFileSync(join(box.state, "etc", key), value);
    return jobScript(debeziumInitJob(staging)).replaceAll("/etc/debezium/", `${box.state}/etc/`);
  };

  // What Kafka Connect answers (AbstractHerder.maybeAddConfigErrors) when Debezium's validation
  // (PostgresConnector.validateConnection, 3.6.0.Final) fails with a JDBC error (pgjdbc 42.7.11
  // ConnectionFactoryImpl, or the server's FATAL as ServerErrorMessage prints it), and for a bad config.
  const validationFailed = (error: string) =>
    JSON.stringify({
      error_code: 400,
      message: `Connector configuration is invalid and contains the following 1 error(s):\nError while validating connector config: ${error}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``,
    });
  const databaseDown = validationFailed(
    "Connection to nx-postgresql-primary.nx-persistent.svc.cluster.local:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
  );
  const invalidConfig = JSON.stringify({
    error_code: 400,
    message: "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value x for configuration tasks.max: Not a number of type INT",
  });
  const answers = { registered: '{"name":"nx-postgresql-source"}', "database-down": databaseDown, invalid: invalidConfig };

  // A clock the stand-ins move: sleep and every curl call take their time, `date +%s` reads it.
  const now = 'cat "$STATE/clock" 2>/dev/null || echo 0';
  const advance = (seconds: string) => `echo $(( $(${now}) + ${seconds} )) > "$STATE/clock"`;
  const clock = { date: now, sleep: advance("$1") };
  const { activeDeadlineSeconds } = staging.common.jobs;
  const elapsed = (box: { state: string }) => Number(readFileSync(join(box.state, "clock"), "utf8"));

  it("retries while Connect starts or rebalances, then registers; a second run only updates", () => {
    // 503 while starting, 409 while rebalancing, then the PUT is accepted.
    const box = sandbox({ curl: stub('case "$n" in 1) answer registered 503 ;; 2) answer registered 409 ;; *) answer registered 200 ;; esac') });
    bodies(box, answers);
    const script = registration(box);

    const first = run(script, box);
    expect(first.status).toBe(0);
    expect(calls(box)).toBe(3);

    const second = run(script, box);
    expect(second.status).toBe(0);
    expect(log(box.state).trim().split("\n")).toEqual(["PUT", "PUT", "PUT", "PUT"]);
    // The JSON it assembles from the ConfigMap's keys is the connector's config.
    expect(JSON.parse(readFileSync(join(box.state, "sent.json"), "utf8"))).toEqual(debeziumConnectorConfig(staging));
  });

  it("sends a value with quotes and backslashes as that very string", () => {
    const box = sandbox({ curl: stub("answer registered 201") });
    bodies(box, answers);
    const value = 'a "quoted" \\path\\ and ${env:X}';
    expect(run(registration(box, { "column.exclude.list": value }), box).status).toBe(0);
    expect(JSON.parse(readFileSync(join(box.state, "sent.json"), "utf8"))["column.exclude.list"]).toBe(value);
  });

  it("keeps retrying while Connect refuses connections (curl prints 000 and fails)", () => {
    const box = sandbox({ curl: stub('if [ "$n" -le 2 ]; then printf 000; echo "curl: (7) Failed to connect" >&2; exit 7; fi; answer registered 201') });
    bodies(box, answers);
    const result = run(registration(box), box);
    expect(result.status).toBe(0);
    expect(calls(box)).toBe(3);
  });

  it("retries while PostgreSQL is down (Connect answers 400 to the validation), then registers", () => {
    const box = sandbox({ curl: stub('if [ "$n" -le 2 ]; then answer database-down 400; else answer registered 201; fi') });
    bodies(box, answers);
    const result = run(registration(box), box);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(answers.registered);
    expect(calls(box)).toBe(3);
  });

  it.each([
    ["starting up", "FATAL: the database system is starting up"],
    ["recovering", "FATAL: the database system is not yet accepting connections\n  Detail: Consistent recovery state has not been yet reached."],
    ["unreachable (timeout, no route)", "The connection attempt failed."],
    ["out of connection slots", "FATAL: sorry, too many clients already"],
  ])("retries while PostgreSQL is %s, then registers", (_state, error) => {
    const box = sandbox({ curl: stub('if [ "$n" -le 1 ]; then answer waiting 400; else answer registered 201; fi') });
    bodies(box, { ...answers, waiting: validationFailed(error) });
    const result = run(registration(box), box);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(calls(box)).toBe(2);
  });

  it("retries while the validation's connection hangs (Debezium's own timeout), then registers", () => {
    const box = sandbox({ curl: stub('if [ "$n" -le 1 ]; then answer waiting 400; else answer registered 201; fi') });
    const timedOut = JSON.stringify({
      error_code: 400,
      message: "Connector configuration is invalid and contains the following 1 error(s):\nConnection validation timed out after 60000 ms\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    });
    bodies(box, { ...answers, waiting: timedOut });
    const result = run(registration(box), box);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(calls(box)).toBe(2);
  });

  it.each([
    ["a wrong password", 'FATAL: password authentication failed for user "nx_debezium"'],
    ["a missing database", 'FATAL: database "nx_seller_core" does not exist'],
    ["a login pg_hba.conf refuses", 'FATAL: pg_hba.conf rejects connection for host "10.0.0.7", user "nx_debezium", database "nx_seller_core", no encryption'],
  ])("fails at once on %s, which waiting does not mend", (_what, error) => {
    const box = sandbox({ curl: stub("answer refused 400"), ...clock });
    bodies(box, { ...answers, refused: validationFailed(error) });
    const result = run(registration(box), box);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(error.replaceAll('"', '\\"'));
    expect(result.stderr).toContain("connector registration refused: HTTP 400");
    expect(calls(box)).toBe(1);
  });

  it("fails at once, printing Connect's answer, when Connect rejects the config itself", () => {
    const box = sandbox({ curl: stub("answer invalid 400") });
    bodies(box, answers);
    const result = run(registration(box), box);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Invalid value x for configuration tasks.max");
    expect(result.stderr).toContain("connector registration refused: HTTP 400");
    expect(calls(box)).toBe(1);
  });

  it("gives up on a database that stays down before the Job's deadline, printing Connect's last answer", () => {
    const box = sandbox({ curl: stub(`${advance("10")}; answer database-down 400`), ...clock });
    bodies(box, answers);
    const result = run(registration(box), box);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Error while validating connector config: Connection to nx-postgresql-primary");
    expect(result.stderr).toContain("connector not registered before the Job's deadline (last HTTP 400)");
    // It kept trying for most of the Job's life, and ended a minute before the deadline kills it.
    expect(elapsed(box)).toBeGreaterThan(activeDeadlineSeconds - 200);
    expect(elapsed(box)).toBeLessThanOrEqual(activeDeadlineSeconds - 60);
    expect(calls(box)).toBeGreaterThan(40);
  });

  it("bounds every attempt, so a Connect that never answers still ends before the deadline", () => {
    // The stand-in hangs until curl's own --max-time (an hour without one), then prints 000.
    const box = sandbox({ curl: stub(`${advance("$limit")}; printf 000; exit 28`), ...clock });
    const result = run(registration(box), box);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("(last HTTP 000)");
    expect(elapsed(box)).toBeLessThanOrEqual(activeDeadlineSeconds - 60);
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
});
