// The backend services' connection settings: the keys of the design document's
// `shared-config.yaml`, rendered per environment from the hosts, ports and users the components
// export, as a ConfigMap in each client namespace (nx-backend). They are written to
// backend/<env>/, a kustomization the backend's own deployment includes. They are not part of the
// layer's overlays or Argo CD Applications: nx-backend and what runs there belong to the backend,
// and the layer's AppProject may not deploy there. Passwords stay out: the backend's Secret
// (`backendSecret`) holds them, and docs/secrets.md lists its keys.
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { kafkaContract } from "../components/kafka/index.ts";
import { pgbouncerContract } from "../components/pgbouncer/index.ts";
import { postgresContract } from "../components/postgres/index.ts";
import { redisContract } from "../components/redis/index.ts";
import { typesenseContract } from "../components/typesense.ts";
import type { Environment } from "../config/types.ts";
import type { Json } from "../lib/objects.ts";
import type { YamlFile } from "../layout/plan.ts";
import { GenerationFailed } from "../lib/errors.ts";
import { objectId } from "../lib/identity.ts";
import { objectMeta, role } from "../lib/labels.ts";
import type { SecretRef } from "../lib/topology.ts";
import { schemaProblems } from "../lib/validation.ts";
import { plain } from "../lib/objects.ts";

/** The ConfigMap's name in each client namespace. */
export const backendSettingsName = "nx-data-layer-settings";

/** The backend services' Secret, named by the design document ("Password in nx-shared-secret"). */
export const backendSecretName = "nx-shared-secret";

// The backend uses the Redis Cluster for three purposes, each configured on its own.
const redisUses = ["CACHE", "BULLMQ", "WEBSOCKET"] as const;

/** A key of the backend's Secret: it holds the same value as one of the layer's Secrets. */
export interface BackendSecretKey {
  readonly key: string;
  /** The layer's Secret and key whose value it copies, and that Secret's namespace. */
  readonly sameAs: SecretRef;
  readonly namespace: string;
}

/** The keys the backend's Secret must hold next to the settings: the passwords the settings leave out. */
export function backendSecretKeys(env: Environment): BackendSecretKey[] {
  const postgres = postgresContract(env);
  const redis = redisContract(env);
  const kafka = kafkaContract(env);
  const typesense = typesenseContract(env);
  return [
    { key: "APP_ENV_POSTGRES_PASSWORD", sameAs: postgres.app.password, namespace: postgres.namespace },
    ...redisUses.map((use) => ({ key: `APP_ENV_${use}_REDIS_PASSWORD`, sameAs: redis.password, namespace: redis.namespace })),
    { key: "APP_ENV_KAFKA_SASL_PASSWORD", sameAs: kafka.client.password, namespace: kafka.namespace },
    { key: "APP_ENV_TYPESENSE_API_KEY", sameAs: typesense.apiKey, namespace: typesense.namespace },
  ];
}

/**
 * The settings, key by key. Services connect through PgBouncer; one whose tables live in a schema
 * other than `public` connects to that schema's PgBouncer database, `APP_ENV_POSTGRES_DATABASE_<SCHEMA>`
 * (docs/postgresql.md: a client may not send its own search_path).
 */
export function backendSettings(env: Environment): Record<string, string> {
  const postgres = postgresContract(env);
  const pgbouncer = pgbouncerContract(env);
  const redis = redisContract(env);
  const kafka = kafkaContract(env);
  const typesense = typesenseContract(env);
  return {
    APP_ENV_POSTGRES_HOST: pgbouncer.host,
    APP_ENV_POSTGRES_PORT: String(pgbouncer.port),
    APP_ENV_POSTGRES_DATABASE: postgres.database,
    APP_ENV_POSTGRES_USERNAME: postgres.app.user,
    ...Object.fromEntries(postgres.schemas.map((s) => [`APP_ENV_POSTGRES_DATABASE_${s.toUpperCase()}`, pgbouncer.databases[s] ?? postgres.database])),
    ...Object.fromEntries(
      redisUses.flatMap((use) => [
        [`APP_ENV_${use}_REDIS_MODE`, redis.mode],
        [`APP_ENV_${use}_REDIS_CLUSTER_NODES`, redis.nodes.join(",")],
      ]),
    ),
    APP_ENV_KAFKA_BROKERS: kafka.bootstrap.join(","),
    APP_ENV_KAFKA_SASL_ENABLE: "true",
    APP_ENV_KAFKA_SASL_MECHANISM: kafka.mechanism,
    APP_ENV_KAFKA_SASL_USERNAME: kafka.client.user,
    APP_ENV_TYPESENSE_HOST: typesense.host,
    APP_ENV_TYPESENSE_PORT: String(typesense.port),
    APP_ENV_TYPESENSE_PROTOCOL: typesense.protocol,
  };
}

/** The settings ConfigMap of every client namespace; throws GenerationFailed if one is invalid. */
export function backendSettingsConfigMaps(env: Environment): ConfigMap[] {
  const data = backendSettings(env);
  const settings = role({ app: env.common.partOf, component: "client-settings" }, backendSettingsName);
  const configMaps = env.common.clientNamespaces.map(
    (namespace) => new ConfigMap({ metadata: objectMeta(env, settings, backendSettingsName, namespace), data }),
  );
  const at = { environment: env.name, component: "backend-settings" };
  const layer = new Set(Object.values(env.common.namespaces));
  const problems = [
    ...(configMaps.length === 0
      ? [{ ...at, object: `ConfigMap ${backendSettingsName}`, field: "common.clientNamespaces", message: "lists no namespace: the settings would go nowhere" }]
      : []),
    // In a layer namespace the settings would be the layer's object, synced and pruned by its Application.
    ...configMaps
      .filter((cm) => layer.has(cm.metadata?.namespace ?? ""))
      .map((cm) => ({ ...at, object: objectId(cm), field: "common.clientNamespaces", message: `${cm.metadata?.namespace} is one of the layer's namespaces, not a client's` })),
    ...configMaps.flatMap((cm) => schemaProblems(cm).map((p) => ({ ...at, object: objectId(cm), ...p }))),
  ];
  if (problems.length > 0) throw new GenerationFailed(problems);
  return configMaps;
}

const settingsFile = `${backendSettingsName}.yaml`;

/** backend/<env>/: the settings and the kustomization the backend includes. */
export function backendSettingsFiles(env: Environment): YamlFile[] {
  const dir = `backend/${env.name}`;
  const { repoURL, targetRevision } = env.common.delivery.source;
  const notice = [
    `The data layer's connection settings for the backend services of ${env.name}. Include this folder`,
    `from the backend's kustomization (resources: ${repoURL.replace(/\.git$/, "")}//${dir}?ref=${targetRevision})`,
    `and create the Secret ${backendSecretName} next to it (docs/secrets.md, docs/backend.md).`,
  ].join("\n");
  return [
    { path: `${dir}/${settingsFile}`, documents: backendSettingsConfigMaps(env).map((cm) => plain<Json>(cm)), notice },
    {
      path: `${dir}/kustomization.yaml`,
      documents: [{ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: [settingsFile] }],
      notice,
    },
  ];
}
