// The flows the operators need, and those that must stay closed, per environment: written from the
// operators' charts and documentation (docs/operators.md cites them), not from the generator's code.
// Which operators an environment runs is read from its config here (CloudNativePG for a
// `cloudnative-pg` PostgreSQL or pooler, with its Barman Cloud plugin and cert-manager for the
// backups; External Secrets for `secrets.kind: external-secrets`; Strimzi for a `strimzi` Kafka),
// independently of how the
// generator derives it. The operators' pods are not rendered (Argo CD installs them from their
// charts), so each stands in as one pod with the labels its chart gives it; the API server and the
// secret store stand in as addresses outside the cluster, from the environment's config.
import type { Environment } from "../generator/config/types.ts";
import type { Flow, Pods } from "./flows.ts";

export interface OperatorFlows {
  readonly needed: readonly Flow[];
  readonly closed: readonly Flow[];
}

/** A chart's pod: `app.kubernetes.io/name` and `/instance: <release>`, as its Deployment selects it. */
const chartPod = (namespace: string, name: string, release: string, what: string): Pods => ({
  namespace,
  labels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release },
  what,
  standIn: true,
});

/** The first address of a CIDR block: a concrete address inside it. */
const addressIn = (cidr: string) => cidr.split("/")[0]!;

/** Operators' pods, by namespace, with the ports their admission webhook listens on. */
function operatorPods(env: Environment) {
  const ns = env.common.operatorNamespaces;
  const cnpg = env.postgres.cluster.kind === "cloudnative-pg" || env.pgbouncer.pooler.kind === "cloudnative-pg";
  const backups = env.postgres.cluster.kind === "cloudnative-pg";
  const eso = env.secrets.kind === "external-secrets";
  const strimzi = env.kafka.cluster.kind === "strimzi";
  const certManager = (name: string, what: string) => chartPod(ns.certManager, name, "cert-manager", `cert-manager ${what}`);
  const externalSecrets = (name: string, what: string) => chartPod(ns.externalSecrets, name, "external-secrets", `External Secrets ${what}`);
  return {
    certManager: backups
      ? {
          controller: certManager("cert-manager", "controller"),
          webhook: certManager("webhook", "webhook"),
          others: [certManager("cainjector", "CA injector"), certManager("startupapicheck", "start-up check Job")],
        }
      : undefined,
    cnpg: cnpg ? chartPod(ns.cloudnativePg, "cloudnative-pg", "cloudnative-pg", "CloudNativePG operator") : undefined,
    plugin: backups ? chartPod(ns.cloudnativePg, "plugin-barman-cloud", "plugin-barman-cloud", "Barman Cloud plugin") : undefined,
    // Strimzi's chart labels its operator `name` and `strimzi.io/kind` (060-Deployment), not app.kubernetes.io/*.
    strimzi: strimzi
      ? { namespace: ns.strimzi, labels: { name: "strimzi-cluster-operator", "strimzi.io/kind": "cluster-operator" }, what: "the Strimzi cluster operator", standIn: true }
      : undefined,
    eso: eso
      ? {
          controller: externalSecrets("external-secrets", "controller"),
          webhook: externalSecrets("external-secrets-webhook", "webhook"),
          certController: externalSecrets("external-secrets-cert-controller", "cert controller"),
        }
      : undefined,
  };
}

// CloudNativePG's instance pods: the operator labels them by Cluster and role (labels_annotations.md).
// The layer renders their Cluster, so they are matched against its pods, and a missing Cluster fails.
const instance = (env: Environment, role: "primary" | "replica"): Pods => ({
  namespace: env.common.namespaces.persistent,
  labels: { "cnpg.io/cluster": "nx-postgresql", "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": role },
  what: `CloudNativePG ${role} instance`,
});

// A Strimzi Kafka's pods (KafkaPool.java, CruiseControl.java, 1.2.0): matched against the rendered Kafka and pools.
const kafkaPod = (labels: Record<string, string>, what: string): Pods => ({ namespace: "nx-broker", labels: { "strimzi.io/cluster": "nx-kafka", ...labels }, what });
const kafkaController = kafkaPod({ "strimzi.io/controller-role": "true" }, "Kafka controller (Strimzi)");
const kafkaBroker = kafkaPod({ "strimzi.io/broker-role": "true" }, "Kafka broker (Strimzi)");
const cruiseControl = kafkaPod({ "strimzi.io/name": "nx-kafka-cruise-control" }, "Cruise Control");

export function operatorFlows(env: Environment): OperatorFlows {
  const pods = operatorPods(env);
  const store = env.secrets.kind === "external-secrets" ? env.secrets.endpoint : undefined;
  const apiServer: Pods[] = env.apiServer.cidrs.map((cidr) => ({ namespace: "", what: `the API server (${cidr})`, external: { ip: addressIn(cidr) } }));
  const internet: Pods = { namespace: "", what: "an address on the internet", external: {} };
  const backend: Pods = { namespace: "nx-backend", what: "a backend service (nx-backend)" };
  const outsider: Pods = { namespace: "nx-app", what: "a pod in nx-app" };
  const all = [
    ...(pods.certManager ? [pods.certManager.controller, pods.certManager.webhook, ...pods.certManager.others] : []),
    ...(pods.cnpg ? [pods.cnpg] : []),
    ...(pods.plugin ? [pods.plugin] : []),
    ...(pods.eso ? [pods.eso.controller, pods.eso.webhook, pods.eso.certController] : []),
    ...(pods.strimzi ? [pods.strimzi] : []),
  ];
  const webhooks: [Pods, number][] = [
    ...(pods.certManager ? [[pods.certManager.webhook, 10250] as [Pods, number]] : []),
    ...(pods.cnpg ? [[pods.cnpg, 9443] as [Pods, number]] : []),
    ...(pods.eso ? [[pods.eso.webhook, 10250] as [Pods, number]] : []),
  ];
  const dns = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, what: "kube-dns" };
  const needed: Flow[] = [
    ...all.flatMap((from) => [
      ...apiServer.flatMap((to) => env.apiServer.ports.map((port) => ({ from, to, port, why: "an operator watches and writes through the API server" }))),
      { from, to: dns, port: 53, protocol: "UDP" as const, why: "DNS" },
      { from, to: dns, port: 53, protocol: "TCP" as const, why: "DNS (large answers)" },
    ]),
    ...apiServer.flatMap((from) => webhooks.map(([to, port]) => ({ from, to, port, why: "the API server calls the admission webhook" }))),
    ...(pods.cnpg
      ? (["primary", "replica"] as const).flatMap((role) => [
          { from: pods.cnpg!, to: instance(env, role), port: 8000, why: "the operator drives each instance through its instance manager (status, TLS)" },
          { from: pods.cnpg!, to: instance(env, role), port: 5432, why: "the operator connects to each instance's PostgreSQL" },
        ])
      : []),
    ...(pods.cnpg && pods.plugin ? [{ from: pods.cnpg, to: pods.plugin, port: 9090, why: "the operator calls the plugin over CNPG-I (gRPC, mTLS)" }] : []),
    ...(pods.strimzi
      ? [
          { from: pods.strimzi, to: kafkaController, port: 9090, why: "the operator checks the KRaft quorum before it rolls a controller" },
          { from: pods.strimzi, to: kafkaController, port: 8443, why: "the operator reads a node's state from its Kafka agent" },
          { from: pods.strimzi, to: kafkaBroker, port: 9091, why: "the operator's admin client (mTLS): topics, configs, rolling" },
          { from: pods.strimzi, to: kafkaBroker, port: 8443, why: "the operator reads a broker's state from its Kafka agent" },
          { from: pods.strimzi, to: cruiseControl, port: 9090, why: "the operator drives rebalances through Cruise Control's API" },
        ]
      : []),
    ...(pods.eso && store
      ? store.cidrs.map((cidr) => ({
          from: pods.eso!.controller,
          to: { namespace: "", what: `the secret store (${cidr})`, external: { ip: addressIn(cidr) } },
          port: store.port,
          why: "the operator reads the secret store",
        }))
      : []),
  ];
  const closed: Flow[] = [
    ...(pods.plugin
      ? [
          { from: backend, to: pods.plugin, port: 9090, why: "only the CloudNativePG operator calls the plugin" },
          { from: outsider, to: pods.plugin, port: 9090, why: "only the CloudNativePG operator calls the plugin" },
          { from: pods.plugin, to: internet, port: 443, why: "the instances' sidecars reach the object store, never the plugin's own pod" },
        ]
      : []),
    ...(pods.cnpg ? [{ from: pods.cnpg, to: { namespace: "nx-broker", labels: { "app.kubernetes.io/name": "redis" }, what: "Redis node" }, port: 6379, why: "the operator reaches PostgreSQL only" }] : []),
    ...(pods.certManager ? [{ from: pods.certManager.controller, to: internet, port: 443, why: "cert-manager only issues the plugin's self-signed certificates: no ACME" }] : []),
    ...(pods.eso ? [{ from: pods.eso.controller, to: internet, port: 443, why: "the External Secrets Operator reaches its secret store only" }] : []),
    ...(pods.strimzi
      ? [
          { from: pods.strimzi, to: { namespace: "nx-broker", labels: { "app.kubernetes.io/name": "redis" }, what: "Redis node" }, port: 6379, why: "the operator reaches its Kafka only" },
          { from: pods.strimzi, to: kafkaBroker, port: 9092, why: "the operator uses the replication listener (mTLS), never the clients'" },
          { from: pods.strimzi, to: internet, port: 443, why: "the operator reaches the API server and its Kafka only" },
          { from: backend, to: kafkaBroker, port: 8443, why: "the Kafka agent answers the operator only" },
        ]
      : []),
  ];
  return { needed, closed };
}
