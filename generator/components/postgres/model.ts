// What PostgreSQL is in every environment, however it runs: the database, its schemas and roles,
// and the publication Debezium streams, checked once for every implementation.
import type { Environment } from "../../config/types.ts";
import { InvalidConfig } from "../../lib/errors.ts";

export const postgresPort = 5432;

const identifier = /^[a-z_][a-z0-9_]*$/;

/** Names that become SQL identifiers, and the published schemas against the database's. */
export function checkPostgres(env: Environment, object: string): void {
  const { users, database, schemas } = env.postgres;
  const pooler = env.pgbouncer.pooler;
  const names: [string, string][] = [
    ...Object.entries(users).map(([k, v]): [string, string] => [`postgres.users.${k}`, v]),
    ...(env.postgres.cluster.kind === "statefulsets"
      ? [
          ["postgres.cluster.superuser", env.postgres.cluster.superuser] as [string, string],
          ["postgres.cluster.replicationUser", env.postgres.cluster.replicationUser] as [string, string],
        ]
      : []),
    ["postgres.database", database],
    ...schemas.map((s, i): [string, string] => [`postgres.schemas[${i}]`, s]),
    ["debezium.slotName", env.debezium.slotName],
    ["debezium.publicationName", env.debezium.publicationName],
    ...(pooler.kind === "deployment" ? [["pgbouncer.pooler.adminUser", pooler.adminUser] as [string, string]] : []),
  ];
  for (const [field, value] of names) {
    if (!identifier.test(value)) {
      throw new InvalidConfig(object, field, `${JSON.stringify(value)} is not a plain SQL identifier (${identifier.source})`);
    }
  }
  const roles = names.filter(([field]) => field.startsWith("postgres.users.") || field.startsWith("postgres.cluster.")).map(([, v]) => v);
  if (pooler.kind === "deployment" && roles.includes(pooler.adminUser)) {
    throw new InvalidConfig(object, "pgbouncer.pooler.adminUser", `${pooler.adminUser} is a PostgreSQL role; PgBouncer's admin must not be one`);
  }
  if (env.debezium.schemas.length === 0) {
    throw new InvalidConfig(object, "debezium.schemas", "lists no schema: the publication would publish nothing");
  }
  env.debezium.schemas.forEach((schema, i) => {
    if (!schemas.includes(schema)) {
      throw new InvalidConfig(object, `debezium.schemas[${i}]`, `${JSON.stringify(schema)} is not one of postgres.schemas`);
    }
  });
}
