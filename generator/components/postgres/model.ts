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

/**
 * Keeps the publication from failing the application's writes: PostgreSQL refuses UPDATE and
 * DELETE on a published table without a usable replica identity (docs/postgresql.md). The function
 * gives every such table the publication covers REPLICA IDENTITY FULL, and the event trigger
 * (`replicaIdentityTrigger`) runs it after every DDL command: a table created without a primary key,
 * a key dropped, a table moved into a published schema, and the publication's own CREATE and ALTER.
 * One statement per element (CloudNativePG runs each on its own); each ends with `;`.
 */
export function replicaIdentityStatements(publicationName: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS nx_cdc;`,
    `-- A usable replica identity is what relcache.c's RelationGetIndexList accepts: a live, valid,
-- unique, immediate, non-partial primary key (DEFAULT) or chosen index (USING INDEX).
CREATE OR REPLACE FUNCTION nx_cdc.ensure_replica_identity() RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  published regclass;
BEGIN
  FOR published IN
    SELECT c.oid::regclass FROM pg_publication_tables p
      JOIN pg_namespace n ON n.nspname = p.schemaname
      JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
    WHERE p.pubname = '${publicationName}' AND c.relreplident <> 'f'
      AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid
        AND i.indislive AND i.indisvalid AND i.indisunique AND i.indimmediate AND i.indpred IS NULL
        AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)))
  LOOP
    RAISE LOG 'nx_cdc: % has no usable replica identity; setting REPLICA IDENTITY FULL', published;
    EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', published);
  END LOOP;
END
$fn$;`,
    `REVOKE ALL ON FUNCTION nx_cdc.ensure_replica_identity() FROM PUBLIC;`,
    `CREATE OR REPLACE FUNCTION nx_cdc.ensure_replica_identity_after_ddl() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
  PERFORM nx_cdc.ensure_replica_identity();
END
$fn$;`,
  ];
}

/** The event trigger that runs nx_cdc.ensure_replica_identity() after every DDL command. */
export const replicaIdentityTrigger = {
  name: "nx_cdc_replica_identity",
  create: "CREATE EVENT TRIGGER nx_cdc_replica_identity ON ddl_command_end EXECUTE FUNCTION nx_cdc.ensure_replica_identity_after_ddl()",
} as const;
