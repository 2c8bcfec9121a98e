// PgBouncer, run the way the environment's `pgbouncer.pooler.kind` says. Everything outside this
// folder uses `pgbouncerContract` only.
import type { Environment } from "../../config/types.ts";
import type { KubeObject } from "../../lib/objects.ts";
import type { PgBouncerContract } from "../contracts.ts";
import { implementationOf } from "../kinds.ts";
import { cloudNativePgPooler, cloudNativePgPoolerContract } from "./cloudnative-pg.ts";
import { deploymentContract, deploymentPgBouncer } from "./deployment.ts";

const implementations = {
  deployment: { objects: deploymentPgBouncer, contract: deploymentContract },
  "cloudnative-pg": { objects: cloudNativePgPooler, contract: cloudNativePgPoolerContract },
} satisfies Record<Environment["pgbouncer"]["pooler"]["kind"], unknown>;

export function pgbouncer(env: Environment): KubeObject[] {
  return implementationOf(implementations, env.pgbouncer.pooler.kind, "pgbouncer.pooler.kind").objects(env);
}

export function pgbouncerContract(env: Environment): PgBouncerContract {
  return implementationOf(implementations, env.pgbouncer.pooler.kind, "pgbouncer.pooler.kind").contract(env);
}
