// Design document, "Redis": the StatefulSet in cluster mode and its Cluster Initialization Job,
// checked on the rendered staging overlay. What they do when run (a second run of the Job creates
// nothing, the cluster heals on new pod IPs, clients follow redirects by pod hostname) is proven on
// real servers by test/redis-real.test.ts and test/init-scripts.test.ts.
import { describe, expect, it } from "vitest";
import { containerOf, fieldEnv, podSpec, renderOverlay, replicas, secretEnv } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { flagPairs, scriptWithEnv, shellScript } from "../support/text.ts";
import { environment, redis, runsAs } from "./facts.ts";
import { kubeletExpand } from "../support/local-pods.ts";

const overlay = renderOverlay(environment);
const hostOf = (address: string) => address.replace(/:\d+$/, "");

describe("Redis › StatefulSet (cluster mode)", () => {
  const sts = () => overlay.statefulSet(redis.namespace, redis.name);
  const server = () => containerOf(sts(), "redis");
  const documented = new Set<string>(redis.flags.map(([f]) => f));

  it(`is governed by ${redis.serviceName} and runs as uid/gid/fsGroup ${runsAs.redis}`, () => {
    expect(sts().spec?.serviceName).toBe(redis.serviceName);
    expect(podSpec(sts()).securityContext).toMatchObject({ runAsUser: runsAs.redis, runAsGroup: runsAs.redis, fsGroup: runsAs.redis });
  });

  it("runs redis-server with every flag of the document, in order, as flag/value pairs", () => {
    expect(flagPairs(server(), "redis-server").filter(([f]) => documented.has(f))).toEqual(redis.flags.map(([f, v]) => [f, v]));
  });

  it(`reads ${redis.secret.key} from Secret ${redis.secret.name}`, () => {
    expect(secretEnv(server(), "REDIS_PASSWORD")).toEqual(redis.secret);
  });

  it("adds only the announce flags: each node announces its pod hostname (fix: nodes.conf keeps peer IPs that change on restart)", () => {
    const extra = Object.fromEntries(flagPairs(server(), "redis-server").filter(([f]) => !documented.has(f)));
    expect(Object.keys(extra).sort()).toEqual([...Object.keys(redis.announce), "--cluster-announce-ip"].sort());
    expect(extra).toMatchObject(redis.announce);
    expect([fieldEnv(server(), "POD_NAME"), fieldEnv(server(), "POD_IP")]).toEqual(["metadata.name", "status.podIP"]);
  });

  it("the backend's node list (APP_ENV_CACHE_REDIS_CLUSTER_NODES) is exactly what the nodes announce", () => {
    const announce = Object.fromEntries(flagPairs(server(), "redis-server"))["--cluster-announce-hostname"] ?? "";
    const port = redis.ports[0][1];
    const announced = Array.from({ length: replicas(sts()) }, (_, i) => `${kubeletExpand(announce, { POD_NAME: `${redis.name}-${i}` })}:${port}`);
    expect(announced).toEqual(redis.podAddresses);
  });

  it(`declares ports ${redis.ports.map(([n, p]) => `${n} ${p}`).join(", ")}`, () => {
    expect((server().ports ?? []).map((p) => [p.name, p.containerPort])).toEqual(redis.ports);
  });

  it(`nodes.conf and the AOF live on the data volume at ${redis.dataPath} (Backup & Recovery: restart from AOF)`, () => {
    expect(server().volumeMounts).toContainEqual(expect.objectContaining({ name: "data", mountPath: redis.dataPath }));
  });
});

describe("Redis › Cluster Initialization", () => {
  const initJob = () => overlay.job(redis.namespace, redis.init.name);
  const c = () => containerOf(initJob(), redis.init.container);

  it(`is Job ${redis.init.name} with backoffLimit ${redis.init.backoffLimit} and restartPolicy ${redis.init.restartPolicy}, as uid/gid ${runsAs.redis}`, () => {
    expect(initJob().spec?.backoffLimit).toBe(redis.init.backoffLimit);
    expect(podSpec(initJob()).restartPolicy).toBe(redis.init.restartPolicy);
    expect(podSpec(initJob()).securityContext).toMatchObject({ runAsUser: runsAs.redis, runAsGroup: runsAs.redis });
  });

  it("has no ttlSecondsAfterFinished (fix: the document's 600 s TTL makes Argo CD re-create and re-run the finished Job)", () => {
    expect(initJob().spec?.ttlSecondsAfterFinished).toBeUndefined();
  });

  it("authenticates with the Redis password (REDISCLI_AUTH)", () => {
    expect(secretEnv(c(), "REDIS_PASSWORD")).toEqual(redis.secret);
    expect(shellScript(c())).toMatch(/export REDISCLI_AUTH="\$REDIS_PASSWORD"/);
  });

  it(`runs \`redis-cli --cluster create\` with --cluster-replicas ${redis.init.clusterReplicas} over the pods' hostnames, non-interactively`, () => {
    const script = scriptWithEnv(c());
    expect(script).toMatch(new RegExp(`redis-cli --cluster create \\S+[^\\n]*--cluster-replicas ${redis.init.clusterReplicas}\\b`));
    expect(script).toMatch(/--cluster-yes|echo\s+"?yes"?\s*\|\s*redis-cli --cluster create/);
    // The node list is built from the hostnames (resolved to the IPs redis-cli requires).
    expect(/for \w+ in ([^;\n]+)/.exec(script)?.[1]?.trim().split(/\s+/)).toEqual(redis.podAddresses.map(hostOf));
  });
});
