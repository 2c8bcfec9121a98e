// The Secrets an object reads, wherever it names them: a pod template's env, envFrom and volumes,
// and the Secret references of the operators' resources (CloudNativePG, its Barman Cloud plugin).
// Found by the shapes those APIs give a Secret reference, so a new field of a known shape is found
// without a list of paths per kind.
import { fieldPath } from "./validation.ts";

export interface SecretReference {
  readonly name: string;
  /** The key read, where the reference names one (a whole Secret otherwise). */
  readonly key?: string;
  /** Where the reference is, e.g. `spec.template.spec.containers[0].env[2].valueFrom.secretKeyRef`. */
  readonly field: string;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): v is string => typeof v === "string" && v.length > 0;

// Field names whose value references a Secret, as the APIs spell them:
// - Kubernetes: env[].valueFrom.secretKeyRef {name, key}, envFrom[].secretRef {name}, volumes[].secret
//   {secretName, items[].key}, projected sources[].secret {name, items[].key}.
// - CloudNativePG (api/v1): bootstrap.*.secret {name}; *Secret {name} (superuserSecret,
//   managed.roles[].passwordSecret, pgbouncer.authQuerySecret), a Secret name as a string
//   (certificates.serverTLSSecret, ...) or [{name, key}] (monitoring.customQueriesSecret);
//   postInit*SQLRefs.secretRefs[] {name, key}; externalClusters[].{password, sslKey, sslCert,
//   sslRootCert} {name, key}.
// - Barman Cloud (barman-cloud api, the plugin's ObjectStore): s3Credentials, azureCredentials and
//   googleCredentials hold {name, key} selectors; endpointCA {name, key}.
const keySelectorFields = new Set(["secretKeyRef", "password", "sslKey", "sslCert", "sslRootCert", "endpointCA"]);

/** A reference where it was found, as a JSON pointer: made a field path only once it is returned. */
type Found = Omit<SecretReference, "field"> & { readonly pointer: string };

function referencesAt(field: string, value: unknown, pointer: string, parent: string): Found[] {
  const selector = (v: unknown, where: string): Found[] =>
    isNode(v) && text(v.name) ? [{ name: v.name, ...(text(v.key) ? { key: v.key } : {}), pointer: where }] : [];
  if (field === "secret" && isNode(value)) {
    const name = text(value.secretName) ? value.secretName : value.name;
    if (!text(name)) return [];
    const items = Array.isArray(value.items) ? value.items.filter(isNode).map((i) => i.key).filter(text) : [];
    return items.length ? items.map((key) => ({ name, key, pointer })) : [{ name, pointer }];
  }
  if (field === "secretRef") return selector(value, pointer);
  if (keySelectorFields.has(field) || /Credentials$/.test(parent)) return selector(value, pointer);
  if (field === "secretRefs" || /Secret$/.test(field)) {
    if (text(value)) return [{ name: value, pointer }];
    if (Array.isArray(value)) return value.flatMap((v, i) => selector(v, `${pointer}/${i}`));
    return selector(value, pointer);
  }
  return [];
}

/** Every Secret (and key) `object` reads. */
export function secretReferences(object: unknown): SecretReference[] {
  const found: Found[] = [];
  const walk = (value: unknown, pointer: string, parent: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${pointer}/${i}`, parent));
      return;
    }
    if (!isNode(value)) return;
    for (const [field, child] of Object.entries(value)) {
      const at = `${pointer}/${field}`;
      const refs = referencesAt(field, child, at, parent);
      if (refs.length) found.push(...refs);
      else walk(child, at, field);
    }
  };
  walk(object, "", "");
  return found.map(({ pointer, ...ref }) => ({ ...ref, field: fieldPath(pointer) }));
}
