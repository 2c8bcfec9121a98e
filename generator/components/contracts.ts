// What the components offer each other. Each implementation of a component provides its contract;
// other components, the NetworkPolicies between components, the docs and the backend's settings
// use these contracts and never a component's internals, so an environment can run a component
// another way (StatefulSets or an operator) without any of them changing.
import type { Pods } from "../lib/network.ts";
import type { SecretRef } from "../lib/topology.ts";

/** A role a client logs in as, and the Secret key that holds its password. */
export interface Login {
  readonly user: string;
  readonly password: SecretRef;
}

/** What every component declares: the Secrets its objects read, in its namespace. */
export interface Reads {
  readonly namespace: string;
  readonly secrets: readonly SecretRef[];
}

export interface PostgresContract extends Reads {
  /** The read-write endpoint: a Service that always leads to the current primary. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly schemas: readonly string[];
  /** The services' role, the database's owner. */
  readonly app: Login;
  /** Debezium's role, with REPLICATION. */
  readonly debezium: Login;
  /** The primary's max_connections: every pool together must stay below it. */
  readonly maxConnections: number;
  readonly pods: {
    /** The pod that is primary now (a client of `host` lands there). */
    readonly primary: Pods;
    /** Every PostgreSQL server pod, primary and standbys. */
    readonly servers: Pods;
  };
  /**
   * Whether a logical replication slot created on the primary is kept on the standbys that can
   * take over (PostgreSQL 17 failover slots, synchronized by the operator): Debezium then creates
   * its slot for failover, and streaming goes on after a failover.
   */
  readonly failoverSlots: boolean;
  /** The CloudNativePG Cluster's name, when PostgreSQL runs as one: what attaches to it (a Pooler) names it. */
  readonly cluster?: string;
}

export interface PgBouncerContract extends Reads {
  readonly host: string;
  /** The Service port clients connect to. */
  readonly port: number;
  /** The pooler's own port, which NetworkPolicies see once the Service has translated `port`. */
  readonly podPort: number;
  /** The database a service connects to for each schema (docs/postgresql.md). */
  readonly databases: Readonly<Record<string, string>>;
  readonly pods: Pods;
}

export interface RedisContract extends Reads {
  /** `host:port` of every node, as cluster clients want their seed list. */
  readonly nodes: readonly string[];
  readonly mode: "cluster";
  readonly port: number;
  /** The ports only the nodes open on each other (the cluster bus). */
  readonly memberPorts: readonly number[];
  readonly password: SecretRef;
  readonly pods: Pods;
}

export interface KafkaContract extends Reads {
  /** Where clients bootstrap: `host:port` of every broker's client listener, or of the bootstrap Service. */
  readonly bootstrap: readonly string[];
  readonly port: number;
  /** The ports only the brokers (and the layer's own tools) open on each other. */
  readonly memberPorts: readonly number[];
  readonly mechanism: string;
  /** Kafka Connect's group and internal topics, which Debezium's workers use (and Strimzi declares as KafkaTopics). */
  readonly connect: {
    readonly group: string;
    readonly topics: readonly { readonly name: string; readonly partitions: number; readonly storage: "config" | "offset" | "status" }[];
  };
  /** What a topic gets when its creator does not say (brokers do not create topics themselves). */
  readonly topicDefaults: { readonly partitions: string; readonly replicationFactor: string };
  /** The SCRAM user of the backend services. */
  readonly client: Login;
  /** The SCRAM user Debezium's Connect workers log in as (its password Secret is read in Debezium's namespace too). */
  readonly debezium: Login;
  readonly pods: Pods;
}

export interface TypesenseContract extends Reads {
  readonly host: string;
  readonly port: number;
  readonly protocol: "http" | "https";
  readonly apiKey: SecretRef;
  readonly pods: Pods;
}

export interface DebeziumContract extends Reads {
  /** The Kafka Connect workers, which reach PostgreSQL and Kafka. */
  readonly pods: Pods;
}
