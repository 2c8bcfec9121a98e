// Design document, "Kafka": the KRaft StatefulSet with SASL/SCRAM-SHA-512, its server.properties,
// the SCRAM user's initialization and the backend's connection config, checked on the rendered
// staging overlay. (The Services are in services.test.ts; the flows between brokers and clients,
// policies/flows.ts.)
import { describe, expect, it } from "vitest";
import { containerOf, fieldEnv, initContainerOf, plainEnv, plainEnvVars, podSpec, renderOverlay, replicas, secretEnv } from "../support/rendered.ts";
import { eachRow } from "../support/rows.ts";
import { expandShell, joinContinuations, listenerList, parseProperties, scriptWithEnv, shellAssignments, shellScript } from "../support/text.ts";
import { environment, kafka, runsAs } from "./facts.ts";

const overlay = renderOverlay(environment);
const sts = () => overlay.statefulSet(kafka.namespace, kafka.name);
const broker = () => containerOf(sts(), "kafka");
const init = () => initContainerOf(sts(), kafka.init);
const podHost = (i: number) => `${kafka.name}-${i}.${kafka.serviceName}.${kafka.namespace}.svc.cluster.local`;

/** The server.properties template of the brokers (ConfigMap), found through the pod's volumes. */
function serverProperties(): Map<string, string> {
  const texts = (podSpec(sts()).volumes ?? [])
    .flatMap((v) => (v.configMap?.name ? [overlay.configMap(kafka.namespace, v.configMap.name).data?.["server.properties"]] : []))
    .filter((t): t is string => t !== undefined);
  if (texts.length !== 1) throw new Error(`expected one ConfigMap with server.properties mounted into ${kafka.name}, found ${texts.length}`);
  return parseProperties(texts[0] as string);
}

describe("Kafka › StatefulSet (KRaft, SASL/SCRAM-SHA-512)", () => {
  it(`is governed by ${kafka.serviceName}, podManagementPolicy Parallel, as uid/gid/fsGroup ${runsAs.kafka}`, () => {
    expect(sts().spec?.serviceName).toBe(kafka.serviceName);
    expect(sts().spec?.podManagementPolicy).toBe("Parallel");
    expect(podSpec(sts()).securityContext).toMatchObject({ runAsUser: runsAs.kafka, runAsGroup: runsAs.kafka, fsGroup: runsAs.kafka });
  });

  it(`${kafka.init} writes /config/server.properties with node.id from the pod ordinal, removes lost+found and formats the storage on first boot`, () => {
    const script = joinContinuations(shellScript(init()));
    expect(script).toMatch(/>\s*\/config\/server\.properties/);
    expect(script).toMatch(/node\.id=\$\{POD_NAME##\*-\}/);
    expect(fieldEnv(init(), "POD_NAME")).toBe("metadata.name");
    expect(script).toMatch(/(?:rmdir|rm -r[f]?|rm -fr)\s+\S*\/var\/lib\/kafka\/data\/lost\+found/);
    expect(script).toMatch(/kafka-storage\.sh format\b/);
    expect(script).toMatch(/meta\.properties|--ignore-formatted/);
  });

  it(`the broker runs ${kafka.command.join(" ")} with KAFKA_OPTS loading the JAAS config`, () => {
    expect([...(broker().command ?? []), ...(broker().args ?? [])]).toEqual(kafka.command);
    expect(plainEnv(broker(), "KAFKA_OPTS")).toBe(kafka.kafkaOpts);
  });

  eachRow(kafka.listeners, (l) => `${l.listener} listener: container port ${l.port} named ${l.containerPortName}`, ({ port, containerPortName }) => {
    expect(broker().ports).toContainEqual(expect.objectContaining({ containerPort: port, name: containerPortName }));
  });

  eachRow(kafka.mounts, (m) => `mounts ${m.volume} at ${m.mountPath}${m.readOnly ? " read-only" : ""}`, ({ volume, mountPath, readOnly }) => {
    const mount = (broker().volumeMounts ?? []).find((m) => m.mountPath === mountPath);
    expect([mount?.name, mount?.readOnly ?? false]).toEqual([volume, readOnly]);
  });

  it(`the init container shares /config; config is an emptyDir of at most ${kafka.configSizeLimit}; jaas is Secret ${kafka.jaasSecret}`, () => {
    expect((init().volumeMounts ?? []).find((m) => m.mountPath === "/config")?.name).toBe("config");
    const volumes = podSpec(sts()).volumes ?? [];
    expect(volumes.find((v) => v.name === "config")?.emptyDir).toMatchObject({ sizeLimit: kafka.configSizeLimit });
    expect(volumes.find((v) => v.name === "jaas")?.secret?.secretName).toBe(kafka.jaasSecret);
  });
});

describe("Kafka › Key Configuration (server.properties)", () => {
  eachRow(kafka.keyConfiguration, ([key, value]) => `${key}=${value}`, ([key, value]) => {
    expect(serverProperties().get(key)).toBe(value);
  });

  it("KRaft, no ZooKeeper: every node is broker and controller", () => {
    const props = serverProperties();
    expect([props.get("process.roles"), props.has("zookeeper.connect"), props.get("controller.listener.names")]).toEqual(["broker,controller", false, "CONTROLLER"]);
  });

  it("the controller quorum is every broker on the CONTROLLER port", () => {
    const props = serverProperties();
    // Shared by every broker; the init container writes it into each node's own server.properties.
    const written = /controller\.quorum\.voters=([^"\n]+)/.exec(scriptWithEnv(init()))?.[1];
    const quorum = props.get("controller.quorum.voters") ?? props.get("controller.quorum.bootstrap.servers") ?? written ?? "";
    const controller = kafka.listeners.find((l) => l.listener === "CONTROLLER")?.port;
    for (let i = 0; i < replicas(sts()); i++) expect(quorum).toContain(`${podHost(i)}:${controller}`);
  });

  eachRow(kafka.listeners, (l) => `listener ${l.listener} on port ${l.port} speaks ${l.protocol}`, ({ listener, port, protocol }) => {
    const props = serverProperties();
    expect(listenerList(props.get("listeners") ?? "").get(listener)?.[1]).toBe(port);
    const map = new Map((props.get("listener.security.protocol.map") ?? "").split(",").map((e) => e.split(":") as [string, string]));
    expect(map.get(listener)).toBe(protocol);
  });

  it(`CLIENT authenticates with ${kafka.saslMechanism}; brokers talk on INTERNAL; data on the mounted volume`, () => {
    const props = serverProperties();
    const mechanisms = props.get("listener.name.client.sasl.enabled.mechanisms") ?? props.get("sasl.enabled.mechanisms") ?? "";
    expect(mechanisms.split(",")).toEqual([kafka.saslMechanism]);
    expect(props.get("inter.broker.listener.name")).toBe("INTERNAL");
    expect(props.get("log.dirs")).toBe(kafka.mounts.find((m) => m.volume === "data")?.mountPath);
  });
});

describe("Kafka › SASL/SCRAM user initialization", () => {
  const scram = () => containerOf(overlay.job(kafka.namespace, kafka.scram.job), kafka.scram.container);
  /** The kafka-configs.sh --alter command line, with the script's variables expanded. */
  const alterCommand = () => {
    const script = joinContinuations(shellScript(scram()));
    const line = script.split("\n").find((l) => /kafka-configs\.sh\b.*--alter\b/.test(l));
    if (!line) throw new Error("the scram-init script has no kafka-configs.sh --alter command");
    return expandShell(line, { ...plainEnvVars(scram()), ...shellAssignments(script) });
  };

  it(`creates ${kafka.saslMechanism} user ${kafka.clientUser} (APP_ENV_KAFKA_SASL_USERNAME) with ${kafka.scram.iterations} iterations, the password from its Secret`, () => {
    const command = alterCommand();
    expect(command).toMatch(/\/opt\/kafka\/bin\/kafka-configs\.sh /);
    expect(command).toContain(`--add-config "${kafka.saslMechanism}=[iterations=${kafka.scram.iterations},password=`);
    expect(command).toMatch(/--entity-type users\b/);
    expect(command).toMatch(new RegExp(`--entity-name "?${kafka.clientUser.replace(".", "\\.")}"?(?:\\s|$)`));
    expect(secretEnv(scram(), "KAFKA_SASL_PASSWORD")?.name).toBeTruthy();
  });

  it("talks to the INTERNAL listener (PLAINTEXT, no SASL), starting with the first broker", () => {
    const internal = kafka.listeners.find((l) => l.listener === "INTERNAL")?.port;
    const addresses = (/--bootstrap-server "?([^"\s]+)"?/.exec(alterCommand())?.[1] ?? "").split(",");
    expect(addresses).toContain(`${podHost(0)}:${internal}`);
    for (const a of addresses) expect(a.endsWith(`:${internal}`), a).toBe(true);
    expect(alterCommand()).not.toMatch(/--command-config/);
  });

  it("the Job has no ttlSecondsAfterFinished (fix: under Argo CD a TTL-deleted Job is re-created and re-run)", () => {
    expect(overlay.job(kafka.namespace, kafka.scram.job).spec?.ttlSecondsAfterFinished).toBeUndefined();
  });
});

describe("Kafka › Backend Connection Config", () => {
  it("APP_ENV_KAFKA_BROKERS lists exactly the brokers, each advertising that address for CLIENT", () => {
    const script = shellScript(init());
    const advertised = /advertised\.listeners=([^"\n]+)/.exec(script)?.[1] ?? "";
    const clients = Array.from({ length: replicas(sts()) }, (_, i) => {
      const client = listenerList(expandShell(advertised, { ...shellAssignments(script), POD_NAME: `${kafka.name}-${i}` })).get("CLIENT");
      return client ? `${client[0]}:${client[1]}` : "(no CLIENT listener advertised)";
    });
    expect(clients).toEqual(kafka.brokerAddresses);
  });
});
