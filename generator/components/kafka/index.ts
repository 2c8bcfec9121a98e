// Kafka, run the way the environment's `kafka.cluster.kind` says. Everything outside this folder
// uses `kafkaContract` only.
import type { Environment } from "../../config/types.ts";
import type { KubeObject } from "../../lib/objects.ts";
import type { KafkaContract } from "../contracts.ts";
import { implementationOf } from "../kinds.ts";
import { statefulSetsContract, statefulSetsKafka } from "./statefulsets.ts";
import { strimziContract, strimziKafka } from "./strimzi.ts";

const implementations = {
  statefulsets: { objects: statefulSetsKafka, contract: statefulSetsContract },
  strimzi: { objects: strimziKafka, contract: strimziContract },
} satisfies Record<Environment["kafka"]["cluster"]["kind"], unknown>;

export function kafka(env: Environment): KubeObject[] {
  return implementationOf(implementations, env.kafka.cluster.kind, "kafka.cluster.kind").objects(env);
}

export function kafkaContract(env: Environment): KafkaContract {
  return implementationOf(implementations, env.kafka.cluster.kind, "kafka.cluster.kind").contract(env);
}
