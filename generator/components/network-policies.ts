// Default-deny in every namespace of the layer, DNS, and the flows between components and from
// the clients, each built from the components' contracts. A component's flows among its own pods
// are its own policies. The rows of the design document keep their names; where they would block a
// needed flow or open a forbidden one the rule is corrected (see docs/design-document-fixes.md).
import type { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { Environment } from "../config/types.ts";
import { networkPolicy, type Peer, type PolicySpec } from "../lib/network.ts";
import { debeziumContract } from "./debezium.ts";
import { kafkaContract } from "./kafka/index.ts";
import { pgbouncerContract } from "./pgbouncer/index.ts";
import { postgresContract } from "./postgres/index.ts";
import { redisContract } from "./redis/index.ts";
import { typesenseContract } from "./typesense.ts";

const dnsPort = 53;

/** Default-deny, and DNS for every pod: what every namespace of the layer (an operator's too) starts from. */
export function layerWide(namespace: string): PolicySpec[] {
  return [
    { name: "default-deny-all", namespace, ingress: [], egress: [] },
    {
      name: "allow-dns",
      namespace,
      egress: [{ peers: [{ namespace: "kube-system" }], ports: [dnsPort], protocols: ["UDP", "TCP"] }],
    },
  ];
}

/** The allowed flows between the layer's components and from its clients, as NetworkPolicy specs. */
function networkPolicySpecs(env: Environment): PolicySpec[] {
  const { persistent, broker, search } = env.common.namespaces;
  const clients: Peer[] = env.common.clientNamespaces.map((namespace) => ({ namespace }));
  const postgres = postgresContract(env);
  const pgbouncer = pgbouncerContract(env);
  const redis = redisContract(env);
  const kafka = kafkaContract(env);
  const typesense = typesenseContract(env);
  const debezium = { namespace: search, pods: debeziumContract(env).pods };
  return [
    ...layerWide(persistent),
    {
      name: "allow-pgbouncer-to-primary",
      namespace: persistent,
      pods: pgbouncer.pods,
      egress: [{ peers: [{ namespace: persistent, pods: postgres.pods.primary }], ports: [postgres.port] }],
    },
    {
      // Fix: the document allows PgBouncer's egress but not the primary's ingress from it.
      name: "allow-primary-from-pgbouncer",
      namespace: persistent,
      pods: postgres.pods.primary,
      ingress: [{ peers: [{ namespace: persistent, pods: pgbouncer.pods }], ports: [postgres.port] }],
    },
    {
      name: "allow-pgbouncer-from-backend",
      namespace: persistent,
      pods: pgbouncer.pods,
      ingress: [{ peers: clients, ports: [pgbouncer.podPort] }],
    },
    {
      name: "allow-from-backend",
      namespace: persistent,
      ingress: [{ peers: clients, ports: [...new Set([postgres.port, pgbouncer.podPort])] }],
    },
    {
      // Fix: Debezium (nx-search) reads the primary's logical replication stream.
      name: "allow-primary-from-debezium",
      namespace: persistent,
      pods: postgres.pods.primary,
      ingress: [{ peers: [debezium], ports: [postgres.port] }],
    },

    ...layerWide(broker),
    {
      // Fix: clients get the Redis and Kafka CLIENT ports only; the cluster bus, INTERNAL and
      // CONTROLLER listeners are for the servers themselves.
      name: "allow-from-backend",
      namespace: broker,
      ingress: [{ peers: clients, ports: [redis.port, kafka.port] }],
    },
    {
      name: "allow-broker-internal",
      namespace: broker,
      egress: [{ peers: [{ namespace: broker }], ports: [redis.port, ...redis.memberPorts, kafka.port, ...kafka.memberPorts] }],
    },
    {
      // Fix: Debezium (nx-search) produces change events to Kafka.
      name: "allow-kafka-from-debezium",
      namespace: broker,
      pods: kafka.pods,
      ingress: [{ peers: [debezium], ports: [kafka.port] }],
    },

    ...layerWide(search),
    {
      name: "allow-from-backend",
      namespace: search,
      ingress: [{ peers: clients, ports: [typesense.port] }],
    },
    {
      // Fix: Kafka Connect's REST API is not open to the namespace: it resolves `${env:...}` in any
      // config it is sent and echoes it back (the Debezium component admits its own Job only).
      name: "allow-search-internal",
      namespace: search,
      ingress: [{ peers: [{ namespace: search }], ports: [typesense.port] }],
      egress: [{ peers: [{ namespace: search }], ports: [typesense.port] }],
    },
    {
      name: "egress-nx-search",
      namespace: search,
      pods: debezium.pods,
      egress: [
        { peers: [{ namespace: persistent, pods: postgres.pods.primary }], ports: [postgres.port] },
        { peers: [{ namespace: broker, pods: kafka.pods }], ports: [kafka.port] },
      ],
    },
  ];
}

export function networkPolicies(env: Environment): NetworkPolicy[] {
  return networkPolicySpecs(env).map((spec) => networkPolicy(env, spec));
}
