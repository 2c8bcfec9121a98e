// docs/secrets.md: every Secret the layer reads, found in the rendered objects themselves (pods'
// env and volumes, operators' resources), so the list cannot drift from what they expect; what each
// key holds comes from the components' contracts. Where the Secrets are made by hand it gives the
// kubectl lines; where the External Secrets Operator writes them, which external key and property
// feeds each key (read from the rendered ExternalSecrets). The backend services' Secret, which goes
// with their settings (clients/backend.ts), is listed with them.
import { backendSecretKeys, backendSecretName, backendSettingsName } from "../clients/backend.ts";
import type { RenderedEnvironment } from "../components/render.ts";
import { generatedNotice } from "../lib/generated.ts";
import { secretsRead } from "../components/index.ts";
import { objectId } from "../lib/identity.ts";
import { byCodePoint } from "../lib/order.ts";
import { secretReferences } from "../lib/secret-references.ts";

interface SecretUse {
  readonly namespace: string;
  readonly name: string;
  readonly keys: Set<string>;
  readonly readers: Set<string>;
}

function secretUses(env: RenderedEnvironment): SecretUse[] {
  const uses = new Map<string, SecretUse>();
  for (const { component, object, json } of env.objects) {
    const namespace = object.metadata?.namespace ?? "";
    const note = (name: string, keys: string[]) => {
      const id = `${namespace}/${name}`;
      const use = uses.get(id) ?? { namespace, name, keys: new Set(), readers: new Set() };
      keys.forEach((k) => use.keys.add(k));
      use.readers.add(`${component}: ${objectId(object)}`);
      uses.set(id, use);
    };
    // An ExternalSecret writes its Secret: it is no reader.
    if (object.kind === "ExternalSecret") continue;
    for (const ref of secretReferences(json)) note(ref.name, ref.key === undefined ? [] : [ref.key]);
  }
  for (const namespace of env.environment.common.clientNamespaces) {
    uses.set(`${namespace}/${backendSecretName}`, {
      namespace,
      name: backendSecretName,
      keys: new Set(backendSecretKeys(env.environment).map((k) => k.key)),
      readers: new Set([`the backend services, with ConfigMap ${namespace}/${backendSettingsName} (backend/${env.environment.name})`]),
    });
  }
  const id = (u: SecretUse) => `${u.namespace}/${u.name}`;
  return [...uses.values()].sort((a, b) => byCodePoint(id(a), id(b)));
}

const sorted = (s: Set<string>) => [...s].sort(byCodePoint);

/** What the components declare of the environment's Secrets, looked up once per environment. */
interface Declared {
  /** What a key holds: its declaration, or, in the backend's Secret, the value it copies. */
  holds(name: string, key: string): string;
  /** The type a Secret's reader requires (CloudNativePG: kubernetes.io/basic-auth), if one is declared. */
  typeOf(namespace: string, name: string): string | undefined;
}

function declared(env: RenderedEnvironment): Declared {
  const reads = secretsRead(env.environment);
  const refs = reads.flatMap((r) => r.secrets);
  const copies = backendSecretKeys(env.environment);
  return {
    holds: (name, key) => {
      const copy = name === backendSecretName ? copies.find((k) => k.key === key) : undefined;
      if (copy) return `the value of \`${copy.sameAs.key}\` in \`${copy.sameAs.name}\` (${copy.namespace}): ${copy.sameAs.holds}`;
      return refs.find((r) => r.name === name && r.key === key)?.holds ?? "(undocumented)";
    },
    typeOf: (namespace, name) =>
      reads.filter((r) => r.namespace === namespace).flatMap((r) => r.secrets).find((r) => r.name === name && r.type)?.type,
  };
}

/** What an ExternalSecret writes: its Secret, the Secret's type, and each key's external key and property. */
interface Written {
  readonly namespace: string;
  readonly name: string;
  readonly type: string | undefined;
  readonly keys: readonly { readonly key: string; readonly remoteKey: string; readonly property: string }[];
}

function written(env: RenderedEnvironment): Written[] {
  return env.objects
    .filter(({ object }) => object.kind === "ExternalSecret")
    .map(({ object, json }) => {
      const spec = (json as { spec: { target: { name: string; template?: { type?: string } }; data: { secretKey: string; remoteRef: { key: string; property: string } }[] } }).spec;
      return {
        namespace: object.metadata?.namespace ?? "",
        name: spec.target.name,
        type: spec.target.template?.type,
        keys: spec.data.map((d) => ({ key: d.secretKey, remoteKey: d.remoteRef.key, property: d.remoteRef.property })),
      };
    })
    .sort((a, b) => byCodePoint(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
}

/** Secrets an operator creates by hand, before the first sync. */
function manualSection(uses: readonly SecretUse[], known: Declared): string[] {
  const lines = [
    "Create each Secret below (with every key listed) in its namespace before the first sync, or the",
    "pods that read it will not start.",
    "",
    "| Namespace | Secret | Key: what it holds | Read by |",
    "|---|---|---|---|",
  ];
  for (const u of uses) {
    const keys = sorted(u.keys).map((k) => `\`${k}\`: ${known.holds(u.name, k)}`).join("<br>");
    lines.push(`| ${u.namespace} | \`${u.name}\` | ${keys} | ${sorted(u.readers).join("<br>")} |`);
  }
  const shared = [...new Set(uses.map((u) => u.name))].filter((name) => uses.filter((u) => u.name === name).length > 1);
  for (const name of shared) {
    const where = uses.filter((u) => u.name === name).map((u) => u.namespace);
    lines.push("", `\`${name}\` is read in ${where.join(" and ")}: create it in each, with the same values.`);
  }
  lines.push("", "Create them with, for example:", "", "```sh");
  for (const u of uses) {
    const literals = sorted(u.keys).map((k) => `--from-literal=${k}=...`).join(" ");
    const type = known.typeOf(u.namespace, u.name);
    lines.push(`kubectl -n ${u.namespace} create secret generic ${u.name}${type ? ` --type=${type}` : ""} ${literals}`);
  }
  lines.push("```");
  return lines;
}

/** Secrets the External Secrets Operator writes: which external key and property feeds each key. */
function externalSecretsSection(env: RenderedEnvironment, uses: readonly SecretUse[], known: Declared): string[] {
  const source = env.environment.secrets;
  if (source.kind !== "external-secrets") throw new Error("docs/secrets.md: the environment's Secrets are not written by the External Secrets Operator");
  const secrets = written(env);
  const readers = (namespace: string, name: string) =>
    sorted(uses.find((u) => u.namespace === namespace && u.name === name)?.readers ?? new Set()).join("<br>") || "(none yet)";
  const lines = [
    `The External Secrets Operator writes every Secret of the layer from ${source.store.kind} \`${source.store.name}\``,
    `and reads the store again every ${source.refreshInterval}. Git holds only the ExternalSecrets (one per Secret, named like`,
    "it, in the Secret's namespace). Before the first sync, put each value into the store under the",
    "external key and property below; a pod whose Secret is not written yet waits for it.",
    "",
    "| Namespace | Secret | Key ← external key, property: what it holds | Read by |",
    "|---|---|---|---|",
  ];
  for (const w of secrets) {
    const keys = w.keys.map((k) => `\`${k.key}\` ← \`${k.remoteKey}\`, \`${k.property}\`: ${known.holds(w.name, k.key)}`).join("<br>");
    lines.push(`| ${w.namespace} | \`${w.name}\`${w.type ? ` (${w.type})` : ""} | ${keys} | ${readers(w.namespace, w.name)} |`);
  }
  const shared = [...new Set(secrets.map((w) => w.name))].filter((name) => secrets.filter((w) => w.name === name).length > 1);
  for (const name of shared) {
    const where = secrets.filter((w) => w.name === name).map((w) => w.namespace);
    lines.push("", `\`${name}\` is written in ${where.join(" and ")} from the same external key.`);
  }
  const backend = env.environment.common.clientNamespaces.flatMap((namespace) => (uses.some((u) => u.namespace === namespace && u.name === backendSecretName) ? [namespace] : []));
  for (const namespace of backend) {
    lines.push(
      "",
      `The backend services' Secret \`${backendSecretName}\` (${namespace}, with ConfigMap ${namespace}/${backendSettingsName}) is not the layer's:`,
      "create it, or have the backend's own ExternalSecret write it, from the external keys of the values it copies:",
      "",
      "| Key | External key, property |",
      "|---|---|",
    );
    for (const k of backendSecretKeys(env.environment)) {
      const from = secrets.find((w) => w.namespace === k.namespace && w.name === k.sameAs.name)?.keys.find((x) => x.key === k.sameAs.key);
      lines.push(`| \`${k.key}\` | ${from ? `\`${from.remoteKey}\`, \`${from.property}\`` : `(no ExternalSecret writes \`${k.sameAs.key}\` of \`${k.sameAs.name}\` in ${k.namespace})`} |`);
    }
  }
  return lines;
}

export function secretsDoc(environments: readonly RenderedEnvironment[]): string {
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Secrets the data layer expects",
    "",
    "Secrets are never committed: Git only references them. Each environment says where its Secrets",
    "come from: created by hand, or written by the External Secrets Operator from a secret store.",
    "",
  ];
  for (const env of environments) {
    const uses = secretUses(env);
    const known = declared(env);
    const section = env.environment.secrets.kind === "external-secrets" ? externalSecretsSection(env, uses, known) : manualSection(uses, known);
    lines.push(`## ${env.environment.name}`, "", ...section, "");
  }
  return lines.join("\n");
}
