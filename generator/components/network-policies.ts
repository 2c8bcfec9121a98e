// Default-deny in every namespace of the layer, then one policy per allowed flow. A flow needs
// both halves: egress allowed where it starts and ingress allowed where it ends. The rows of the
// design document keep their names; where they would block a needed flow or open a forbidden one
// the rule is corrected (see README "Fixes to the design document").
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { Environment } from "../config/types.ts";
import { recommendedLabels, selectorLabels } from "../lib/labels.ts";
import { type PodRole, podRoles, ports } from "../lib/topology.ts";

/** Pods of one role, or the pods of several roles of one app. */
type Pods = PodRole | readonly PodRole[];

function podSelector(pods: Pods): ILabelSelector {
  if ("app" in pods) return { matchLabels: selectorLabels(pods) };
  return {
    matchLabels: { "app.kubernetes.io/name": pods[0]!.app },
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: pods.map((p) => p.component) }],
  };
}

/** Who is on the other side of a flow: pods of a role, or any pod, in a namespace. */
interface Peer {
  readonly namespace: string;
  readonly pods?: Pods;
}

interface Rule {
  readonly peers: readonly Peer[];
  readonly ports: readonly number[];
  readonly protocols?: readonly ("TCP" | "UDP")[];
}

interface PolicySpec {
  readonly name: string;
  readonly namespace: string;
  /** The pods the policy applies to; all pods of the namespace when absent. */
  readonly pods?: Pods;
  readonly ingress?: readonly Rule[];
  readonly egress?: readonly Rule[];
}

function peer(policyNamespace: string, p: Peer): INetworkPolicyPeer {
  const pods = p.pods ? { podSelector: podSelector(p.pods) } : {};
  // A peer without namespaceSelector means "this namespace"; other namespaces are matched by the
  // name label Kubernetes sets on every namespace.
  if (p.namespace === policyNamespace) return p.pods ? pods : { podSelector: {} };
  return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } }, ...pods };
}

function rule(namespace: string, r: Rule) {
  return {
    peers: r.peers.map((p) => peer(namespace, p)),
    ports: r.ports.flatMap((port) => (r.protocols ?? ["TCP"]).map((protocol) => ({ protocol, port }))),
  };
}

function networkPolicy(env: Environment, spec: PolicySpec): NetworkPolicy {
  const types: ("Ingress" | "Egress")[] = [...(spec.ingress ? ["Ingress" as const] : []), ...(spec.egress ? ["Egress" as const] : [])];
  return new NetworkPolicy({
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: recommendedLabels(env, { app: env.common.partOf, component: "network-policy", instance: spec.name }),
    },
    spec: {
      podSelector: spec.pods ? podSelector(spec.pods) : {},
      policyTypes: types,
      // A policy type with no rules denies that direction (default-deny).
      ...(spec.ingress?.length
        ? { ingress: spec.ingress.map((r) => rule(spec.namespace, r)).map(({ peers, ports }) => ({ from: peers, ports })) }
        : {}),
      ...(spec.egress?.length
        ? { egress: spec.egress.map((r) => rule(spec.namespace, r)).map(({ peers, ports }) => ({ to: peers, ports })) }
        : {}),
    },
  });
}

/** The allowed flows of the layer, as NetworkPolicy specs. */
function networkPolicySpecs(env: Environment): PolicySpec[] {
  const { persistent, broker, search } = env.common.namespaces;
  const clients: Peer[] = env.common.clientNamespaces.map((namespace) => ({ namespace }));
  // The PostgreSQL servers, and the restore pod of the promotion runbook; not the setup Job, which
  // reaches the primary alone (allow-setup-to-primary).
  const postgresServers = [podRoles.postgresPrimary, podRoles.postgresReplica, podRoles.postgresRestore];
  const within = (namespace: string, pods?: Pods): Peer => (pods ? { namespace, pods } : { namespace });
  const layerWide = (namespace: string): PolicySpec[] => [
    { name: "default-deny-all", namespace, ingress: [], egress: [] },
    {
      name: "allow-dns",
      namespace,
      egress: [{ peers: [{ namespace: "kube-system" }], ports: [ports.dns], protocols: ["UDP", "TCP"] }],
    },
  ];
  return [
    ...layerWide(persistent),
    {
      name: "allow-pg-replication",
      namespace: persistent,
      pods: postgresServers,
      ingress: [{ peers: [within(persistent, postgresServers)], ports: [ports.postgres] }],
      egress: [{ peers: [within(persistent, postgresServers)], ports: [ports.postgres] }],
    },
    {
      // Fix: the setup Job (a superuser session) reaches the primary's 5432 and nothing else.
      name: "allow-setup-to-primary",
      namespace: persistent,
      pods: podRoles.postgresSetup,
      egress: [{ peers: [within(persistent, podRoles.postgresPrimary)], ports: [ports.postgres] }],
    },
    {
      name: "allow-primary-from-setup",
      namespace: persistent,
      pods: podRoles.postgresPrimary,
      ingress: [{ peers: [within(persistent, podRoles.postgresSetup)], ports: [ports.postgres] }],
    },
    {
      name: "allow-pgbouncer-to-primary",
      namespace: persistent,
      pods: podRoles.pgbouncer,
      egress: [{ peers: [within(persistent, podRoles.postgresPrimary)], ports: [ports.postgres] }],
    },
    {
      // Fix: the document allows PgBouncer's egress but not the primary's ingress from it.
      name: "allow-primary-from-pgbouncer",
      namespace: persistent,
      pods: podRoles.postgresPrimary,
      ingress: [{ peers: [within(persistent, podRoles.pgbouncer)], ports: [ports.postgres] }],
    },
    {
      name: "allow-pgbouncer-from-backend",
      namespace: persistent,
      pods: podRoles.pgbouncer,
      ingress: [{ peers: clients, ports: [ports.pgbouncer] }],
    },
    {
      name: "allow-from-backend",
      namespace: persistent,
      ingress: [{ peers: clients, ports: [ports.postgres, ports.pgbouncer] }],
    },
    {
      // Fix: Debezium (nx-search) reads the primary's logical replication stream.
      name: "allow-primary-from-debezium",
      namespace: persistent,
      pods: podRoles.postgresPrimary,
      ingress: [{ peers: [{ namespace: search, pods: podRoles.debezium }], ports: [ports.postgres] }],
    },

    ...layerWide(broker),
    {
      // Fix: clients get the Redis and Kafka CLIENT ports only; the cluster bus, INTERNAL and
      // CONTROLLER listeners are for the servers themselves.
      name: "allow-from-backend",
      namespace: broker,
      ingress: [{ peers: clients, ports: [ports.redis, ports.kafkaClient] }],
    },
    {
      name: "allow-broker-internal",
      namespace: broker,
      egress: [
        {
          peers: [within(broker)],
          ports: [ports.redis, ports.redisBus, ports.kafkaClient, ports.kafkaInternal, ports.kafkaController],
        },
      ],
    },
    {
      // Fix: the document's namespace-wide rule let any pod reach the cluster bus.
      name: "allow-redis-cluster",
      namespace: broker,
      pods: podRoles.redis,
      ingress: [
        { peers: [within(broker, podRoles.redis)], ports: [ports.redis, ports.redisBus] },
        { peers: [within(broker, podRoles.redisClusterInit)], ports: [ports.redis] },
      ],
    },
    {
      // Fix: INTERNAL and CONTROLLER are PLAINTEXT: only the brokers and the SCRAM init Job reach them.
      name: "allow-kafka-cluster",
      namespace: broker,
      pods: podRoles.kafka,
      ingress: [
        { peers: [within(broker, podRoles.kafka)], ports: [ports.kafkaInternal, ports.kafkaController] },
        { peers: [within(broker, podRoles.kafkaScramInit)], ports: [ports.kafkaInternal] },
      ],
    },
    {
      // Fix: Debezium (nx-search) produces change events to Kafka.
      name: "allow-kafka-from-debezium",
      namespace: broker,
      pods: podRoles.kafka,
      ingress: [{ peers: [{ namespace: search, pods: podRoles.debezium }], ports: [ports.kafkaClient] }],
    },

    ...layerWide(search),
    {
      name: "allow-from-backend",
      namespace: search,
      ingress: [{ peers: clients, ports: [ports.typesense] }],
    },
    {
      // Fix: Kafka Connect's REST API (8083) is no longer open to the namespace: it resolves
      // `${env:...}` in any config it is sent and echoes it back (see allow-connect-rest).
      name: "allow-search-internal",
      namespace: search,
      ingress: [{ peers: [within(search)], ports: [ports.typesense] }],
      egress: [{ peers: [within(search)], ports: [ports.typesense] }],
    },
    {
      // The REST API admits the registration Job, and the workers themselves: a worker forwards
      // a request it cannot serve to the group's leader.
      name: "allow-connect-rest",
      namespace: search,
      pods: podRoles.debezium,
      ingress: [{ peers: [within(search, podRoles.debeziumInit), within(search, podRoles.debezium)], ports: [ports.debezium] }],
      egress: [{ peers: [within(search, podRoles.debezium)], ports: [ports.debezium] }],
    },
    {
      name: "allow-connector-registration",
      namespace: search,
      pods: podRoles.debeziumInit,
      egress: [{ peers: [within(search, podRoles.debezium)], ports: [ports.debezium] }],
    },
    {
      name: "egress-nx-search",
      namespace: search,
      pods: podRoles.debezium,
      egress: [
        { peers: [{ namespace: persistent, pods: podRoles.postgresPrimary }], ports: [ports.postgres] },
        { peers: [{ namespace: broker, pods: podRoles.kafka }], ports: [ports.kafkaClient] },
      ],
    },
  ];
}

export function networkPolicies(env: Environment): NetworkPolicy[] {
  return networkPolicySpecs(env).map((spec) => networkPolicy(env, spec));
}
