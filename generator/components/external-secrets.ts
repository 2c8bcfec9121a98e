// Where `secrets.kind` is `external-secrets`, the External Secrets Operator writes every Secret the
// components declare (their contracts' `secrets`) from the secret store named in config: one
// ExternalSecret per Secret, one entry per key. Git holds only the references; remote key
// `<remoteKeyPrefix>/<Secret name>`, property = the Secret's key, so a Secret read in two
// namespaces is one remote key.
//
// An ExternalSecret holds no data: its Secret is a copy of the store's value. Deleting it deletes
// the Secret it owns (creationPolicy Owner), and the next sync writes the same values again, so
// it is safe to prune like a ConfigMap; the value itself is never deleted (deletionPolicy Retain
// keeps the Secret when the remote key disappears). docs/operators.md has the reasoning.
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret";
import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { recommendedLabels } from "../lib/labels.ts";
import type { Reads } from "./contracts.ts";

interface DeclaredSecret {
  readonly namespace: string;
  readonly name: string;
  readonly keys: string[];
  readonly type: string | undefined;
}

/** The declared Secrets, each once per namespace with all its keys; one Secret declared with two types is bad config. */
function declaredSecrets(reads: readonly Reads[]): DeclaredSecret[] {
  const secrets = new Map<string, DeclaredSecret>();
  for (const { namespace, secrets: refs } of reads) {
    for (const ref of refs) {
      const id = `${namespace}/${ref.name}`;
      const seen = secrets.get(id) ?? { namespace, name: ref.name, keys: [], type: ref.type };
      if (seen.type !== ref.type) {
        throw new InvalidConfig(`ExternalSecret ${id}`, "spec.target.template.type", `Secret ${ref.name} is declared both as ${seen.type ?? "Opaque"} and as ${ref.type ?? "Opaque"}`);
      }
      if (!seen.keys.includes(ref.key)) seen.keys.push(ref.key);
      secrets.set(id, seen);
    }
  }
  return [...secrets.values()];
}

/** The remote key every key of Secret `name` is read from. */
export function remoteKey(prefix: string, name: string): string {
  return `${prefix}/${name}`;
}

/** One ExternalSecret per declared Secret, or none where the Secrets are made by hand. */
export function externalSecrets(env: Environment, reads: readonly Reads[]): ExternalSecret[] {
  const source = env.secrets;
  if (source.kind !== "external-secrets") return [];
  return declaredSecrets(reads).map(
    ({ namespace, name, keys, type }) =>
      new ExternalSecret({
        metadata: {
          name,
          namespace,
          labels: recommendedLabels(env, { app: env.common.partOf, component: "external-secret", instance: name }),
        },
        spec: {
          refreshInterval: source.refreshInterval,
          secretStoreRef: { kind: source.store.kind, name: source.store.name },
          target: {
            name,
            creationPolicy: "Owner",
            deletionPolicy: "Retain",
            // What the operator or the API server would default is written out, so the live object
            // equals Git's and Argo CD shows no drift.
            ...(type ? { template: { type, engineVersion: "v2", mergePolicy: "Replace" } } : {}),
          },
          data: keys.map((key) => ({
            secretKey: key,
            remoteRef: {
              key: remoteKey(source.remoteKeyPrefix, name),
              property: key,
              conversionStrategy: "Default",
              decodingStrategy: "None",
              metadataPolicy: "None",
            },
          })),
        },
      }),
  );
}
