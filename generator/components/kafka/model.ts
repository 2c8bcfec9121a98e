// What Kafka is in every environment, however it runs: the broker settings, the SASL mechanism
// clients authenticate with, the backend user's password Secret, and the replication the brokers
// must hold, checked once for both implementations.
import type { Environment } from "../../config/types.ts";
import { InvalidConfig } from "../../lib/errors.ts";

/** The SASL mechanism of the client listener, the one every client (backend, Debezium) uses. */
export const kafkaClientMechanism = "SCRAM-SHA-512";

/** The client listener's port, the only one clients open. */
export const kafkaClientPort = 9092;

/** Password of the backend's SCRAM user: the layer's Job (statefulsets) or Strimzi's User Operator applies it. */
export const clientSecret = {
  name: "nx-kafka-client-secret",
  key: "KAFKA_SASL_PASSWORD",
  holds: "password of the SCRAM user of the backend services",
} as const;

/** A broker setting of the environment (`kafka.serverProperties`), e.g. `default.replication.factor`. */
export function kafkaSetting(env: Environment, key: string): string | undefined {
  return env.kafka.serverProperties.find(([k]) => k === key)?.[1];
}

/** The settings that give partitions their replicas: the brokers must hold each of them. */
export const replicationFactorKeys = ["default.replication.factor", "offsets.topic.replication.factor", "transaction.state.log.replication.factor"] as const;

/** The largest replication factor the settings ask for (Kafka's default for each is given where it is not 1). */
export function largestReplicationFactor(env: Environment): { key: string; factor: number } {
  const byDefault: Record<string, number> = { "offsets.topic.replication.factor": 3, "transaction.state.log.replication.factor": 3 };
  return replicationFactorKeys
    .map((key) => ({ key, factor: Number(kafkaSetting(env, key) ?? byDefault[key] ?? 1) }))
    .reduce((a, b) => (b.factor > a.factor ? b : a));
}

/** Refuses fewer brokers than a replication factor asks for: the topic (or the cluster's own) could not be created. */
export function checkBrokers(env: Environment, brokers: number, object: string, field: string): void {
  for (const key of replicationFactorKeys) {
    const needed = Number(kafkaSetting(env, key) ?? 1);
    if (!Number.isInteger(brokers) || brokers < Math.max(1, needed)) {
      throw new InvalidConfig(object, field, `${brokers} brokers, but ${key}=${needed} needs at least ${Math.max(1, needed)} brokers`);
    }
  }
}

/**
 * Kafka Connect's group and internal topics (Debezium's workers): the connector configs (one
 * partition, as Connect requires), the source offsets and the task statuses, with Connect's
 * default partition counts. Where Kafka declares its topics (Strimzi) they are KafkaTopics.
 */
export const connectStorage = {
  group: "nx-debezium",
  topics: [
    { name: "nx-debezium-configs", partitions: 1, storage: "config" },
    { name: "nx-debezium-offsets", partitions: 25, storage: "offset" },
    { name: "nx-debezium-statuses", partitions: 5, storage: "status" },
  ],
} as const;
