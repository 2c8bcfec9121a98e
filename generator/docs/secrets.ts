// docs/secrets.md: every Secret the layer reads, found in the rendered pods themselves (env
// secretKeyRefs and secret volumes), so the list cannot drift from what the pods expect; what each
// key holds comes from lib/topology.ts. The backend services' Secret, which goes with their
// settings (clients/backend.ts), is listed with them.
import { backendSecretKeys, backendSecretName, backendSettingsName } from "../clients/backend.ts";
import type { RenderedEnvironment } from "../components/render.ts";
import { generatedNotice } from "../lib/generated.ts";
import { secretsRead } from "../components/index.ts";
import { objectId } from "../lib/errors.ts";
import { byCodePoint } from "../lib/order.ts";

interface SecretUse {
  readonly namespace: string;
  readonly name: string;
  readonly keys: Set<string>;
  readonly readers: Set<string>;
}

/** Calls `visit` on every plain object nested anywhere in `value`. */
function walk(value: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === "object") {
    visit(value as Record<string, unknown>);
    Object.values(value).forEach((v) => walk(v, visit));
  }
}

function secretUses(env: RenderedEnvironment): SecretUse[] {
  const uses = new Map<string, SecretUse>();
  for (const { component, object } of env.objects) {
    const namespace = object.metadata?.namespace ?? "";
    const note = (name: string, keys: string[]) => {
      const id = `${namespace}/${name}`;
      const use = uses.get(id) ?? { namespace, name, keys: new Set(), readers: new Set() };
      keys.forEach((k) => use.keys.add(k));
      use.readers.add(`${component}: ${objectId(object)}`);
      uses.set(id, use);
    };
    walk(object.toJSON(), (o) => {
      const ref = o.secretKeyRef as { name?: string; key?: string } | undefined;
      if (ref?.name && ref.key) note(ref.name, [ref.key]);
      const volume = o.secret as { secretName?: string; items?: { key: string }[] } | undefined;
      if (volume?.secretName) note(volume.secretName, (volume.items ?? []).map((i) => i.key));
      // CloudNativePG: a role's password and the initdb owner's are basic-auth Secrets, both keys
      // read; a Barman Cloud store names each S3 credential's Secret and key.
      const login = (o.passwordSecret ?? (o.initdb as { secret?: unknown } | undefined)?.secret) as { name?: string } | undefined;
      if (login?.name) note(login.name, ["username", "password"]);
      for (const credential of Object.values((o.s3Credentials ?? {}) as Record<string, { name?: string; key?: string }>)) {
        if (credential?.name && credential.key) note(credential.name, [credential.key]);
      }
    });
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

const sorted = (s: Set<string>) => [...s].sort();

function holds(env: RenderedEnvironment, name: string, key: string): string {
  const copy = name === backendSecretName ? backendSecretKeys(env.environment).find((k) => k.key === key) : undefined;
  if (copy) return `the value of \`${copy.sameAs.key}\` in \`${copy.sameAs.name}\` (${copy.namespace}): ${copy.sameAs.holds}`;
  const declared = secretsRead(env.environment).flatMap((r) => r.secrets);
  return declared.find((r) => r.name === name && r.key === key)?.holds ?? "(undocumented)";
}

export function secretsDoc(environments: readonly RenderedEnvironment[]): string {
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Secrets the data layer expects",
    "",
    "Secrets are never committed: Git only references them. Create each one below (with every key",
    "listed) in its namespace before the first sync, or the pods that read it will not start.",
    "",
  ];
  for (const env of environments) {
    lines.push(`## ${env.environment.name}`, "", "| Namespace | Secret | Key: what it holds | Read by |", "|---|---|---|---|");
    const uses = secretUses(env);
    for (const u of uses) {
      const keys = sorted(u.keys).map((k) => `\`${k}\`: ${holds(env, u.name, k)}`).join("<br>");
      lines.push(`| ${u.namespace} | \`${u.name}\` | ${keys} | ${sorted(u.readers).join("<br>")} |`);
    }
    const shared = [...new Set(uses.map((u) => u.name))].filter((name) => uses.filter((u) => u.name === name).length > 1);
    for (const name of shared) {
      const where = uses.filter((u) => u.name === name).map((u) => u.namespace);
      lines.push("", `\`${name}\` is read in ${where.join(" and ")}: create it in each, with the same values.`);
    }
    lines.push("", "Create them with, for example:", "", "```sh");
    const declared = secretsRead(env.environment);
    for (const u of uses) {
      const literals = sorted(u.keys).map((k) => `--from-literal=${k}=...`).join(" ");
      // The type its reader requires (CloudNativePG: kubernetes.io/basic-auth), where the Secret's namespace declares one.
      const type = declared.filter((r) => r.namespace === u.namespace).flatMap((r) => r.secrets).find((s) => s.name === u.name && s.type)?.type;
      lines.push(`kubectl -n ${u.namespace} create secret generic ${u.name}${type ? ` --type=${type}` : ""} ${literals}`);
    }
    lines.push("```", "");
  }
  return lines.join("\n");
}
