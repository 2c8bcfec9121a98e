// Redis Cluster, run the way the environment's `redis.cluster.kind` says, and its backup when
// `redis.backup` is set. Everything outside this folder uses `redisContract` only.
import type { Environment } from "../../config/types.ts";
import type { KubeObject } from "../../lib/objects.ts";
import type { RedisContract } from "../contracts.ts";
import { implementationOf } from "../kinds.ts";
import { backupSecrets, redisBackup } from "./backup.ts";
import { mastersCluster, mastersContract, mastersShards } from "./masters.ts";
import { replicatedShards, replicatedShardsContract, shardHosts } from "./replicated-shards.ts";

const implementations = {
  masters: { objects: mastersCluster, contract: mastersContract, shards: mastersShards },
  "replicated-shards": { objects: replicatedShards, contract: replicatedShardsContract, shards: shardHosts },
} satisfies Record<Environment["redis"]["cluster"]["kind"], unknown>;

const implementation = (env: Environment) => implementationOf(implementations, env.redis.cluster.kind, "redis.cluster.kind");

export function redis(env: Environment): KubeObject[] {
  const kind = implementation(env);
  const backup = env.redis.backup;
  return [...kind.objects(env), ...(backup ? redisBackup(env, backup, kind.shards(env), kind.contract(env).pods) : [])];
}

export function redisContract(env: Environment): RedisContract {
  const contract = implementation(env).contract(env);
  const { accessKeyId, secretAccessKey } = backupSecrets();
  // The backup's S3 credentials are read in the same namespace, so they are the component's too.
  return env.redis.backup ? { ...contract, secrets: [...contract.secrets, accessKeyId, secretAccessKey] } : contract;
}
