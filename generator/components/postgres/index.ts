// PostgreSQL, run the way the environment's `postgres.cluster.kind` says. Everything outside this
// folder uses `postgresContract` only.
import type { Environment } from "../../config/types.ts";
import type { KubeObject } from "../../lib/objects.ts";
import type { PostgresContract } from "../contracts.ts";
import { implementationOf } from "../kinds.ts";
import { cloudNativePgContract, cloudNativePgPostgres } from "./cloudnative-pg.ts";
import { statefulSetsContract, statefulSetsPostgres } from "./statefulsets.ts";

const implementations = {
  statefulsets: { objects: statefulSetsPostgres, contract: statefulSetsContract },
  "cloudnative-pg": { objects: cloudNativePgPostgres, contract: cloudNativePgContract },
} satisfies Record<Environment["postgres"]["cluster"]["kind"], unknown>;

export function postgres(env: Environment): KubeObject[] {
  return implementationOf(implementations, env.postgres.cluster.kind, "postgres.cluster.kind").objects(env);
}

export function postgresContract(env: Environment): PostgresContract {
  return implementationOf(implementations, env.postgres.cluster.kind, "postgres.cluster.kind").contract(env);
}
