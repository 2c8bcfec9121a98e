// The Barman Cloud plugin's `barmancloud.cnpg.io/v1` ObjectStore as a typed kind. The npm models
// have none (@kubernetes-models/cloudnative-pg covers postgresql.cnpg.io only), but they type and
// validate the store's configuration, which the plugin's CRD embeds unchanged: this class checks
// that part with the npm model and adds the CRD's own rules around it. Like the generated models it
// validates itself (`validate()` throws with JSON-pointer errors) and serializes with `toJSON()`.
import type { IObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import {
  BarmanObjectStoreConfiguration,
  type IBarmanObjectStoreConfiguration,
} from "@kubernetes-models/cloudnative-pg/github.com/cloudnative-pg/barman-cloud/pkg/api/BarmanObjectStoreConfiguration";
import type { KubeObject } from "../../lib/objects.ts";

export interface IObjectStoreSpec {
  /** Where and how the WAL and base backups are stored (`serverName` must stay empty). */
  readonly configuration: IBarmanObjectStoreConfiguration;
  /** Recovery window: a number and d, w or m (`30d`); older backups are deleted after the next one. */
  readonly retentionPolicy?: string;
}

export interface IObjectStore {
  readonly metadata: IObjectMeta;
  readonly spec: IObjectStoreSpec;
}

/** One schema error, shaped like ajv's (what lib/validation.ts reads). */
interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message: string;
}

class ObjectStoreInvalid extends Error {
  readonly errors: readonly SchemaError[];
  constructor(errors: readonly SchemaError[]) {
    super(errors.map((e) => `data${e.instancePath} ${e.message}`).join(", "));
    this.errors = errors;
  }
}

// The CRD's pattern (plugin-barman-cloud v0.14.0, api/v1/objectstore_types.go).
const retentionPattern = /^[1-9][0-9]*[dwm]$/;

export class ObjectStore implements KubeObject {
  static readonly apiVersion = "barmancloud.cnpg.io/v1";
  static readonly kind = "ObjectStore";
  readonly apiVersion = ObjectStore.apiVersion;
  readonly kind = ObjectStore.kind;
  metadata: IObjectMeta;
  readonly spec: IObjectStoreSpec;

  // Also takes an object's own JSON (apiVersion and kind included), as the delivery stage copies objects.
  constructor(data: IObjectStore) {
    this.metadata = data.metadata;
    this.spec = data.spec;
  }

  validate(): void {
    const errors: SchemaError[] = [];
    if (!this.metadata.name) errors.push({ instancePath: "/metadata/name", keyword: "required", message: "must have a name" });
    const { retentionPolicy, configuration } = this.spec;
    if (retentionPolicy !== undefined && !retentionPattern.test(retentionPolicy)) {
      errors.push({ instancePath: "/spec/retentionPolicy", keyword: "pattern", message: `must match pattern "${retentionPattern.source}"` });
    }
    // A CEL rule of the CRD, which no JSON schema validator evaluates: the plugin names the folder
    // after the Cluster (or its `serverName` plugin parameter), never after the store.
    if (configuration.serverName !== undefined) {
      errors.push({ instancePath: "/spec/configuration/serverName", keyword: "cel", message: "must be left empty (name the server in the Cluster's plugin parameters)" });
    }
    try {
      new BarmanObjectStoreConfiguration(configuration).validate();
    } catch (err) {
      const nested = (err as { errors?: SchemaError[] }).errors;
      if (!nested) throw err;
      errors.push(...nested.map((e) => ({ ...e, instancePath: `/spec/configuration${e.instancePath}` })));
    }
    if (errors.length > 0) throw new ObjectStoreInvalid(errors);
  }

  toJSON(): unknown {
    return { apiVersion: this.apiVersion, kind: this.kind, metadata: this.metadata, spec: this.spec };
  }
}
