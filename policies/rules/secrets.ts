// Secrets are created in the cluster (docs/secrets.md lists them), never committed: not as a
// Secret with data, and not as a literal in an env var, a URL, a ConfigMap, a command or its
// arguments. A reference that is expanded at run time ($(VAR), $VAR, ${VAR}, ${env:VAR}, psql's
// :'var') is not a literal: the layer's scripts pass credentials that way. Findings never repeat
// the value they found.
import { containersOfManifest, type Manifest, type Rule, type Violation } from "../engine.ts";

// A name that holds a credential ends with one of these words: REDIS_PASSWORD, database.password,
// --api-key, REDISCLI_AUTH; not password_encryption (a setting) or POSTGRES_PASSWORD_FILE (a path).
const credentialEnd = String.raw`(?:password|passwd|passphrase|secret|secret[_.-]?key|token|api[ _.-]?key|apikey|access[_.-]?key|credentials?|private[_.-]?key|requirepass|masterauth|[_.-]auth)`;
const credentialName = new RegExp(`^-{0,2}[\\w.-]*${credentialEnd}$`, "i");
// `key=value`, `key: value`, `"key": "value"` (a colon only counts when a space follows it).
const assignment = new RegExp(String.raw`(?<![\w.-])([\w.-]*${credentialEnd})["']?\s*(?:=|:(?=\s))\s*("[^"]*"|'[^']*'|[^\s"';,&)]+)`, "gi");
// SQL: PASSWORD 'literal'
const sqlPassword = /\bpassword\s+'(?:[^']|'')*'/gi;
const urlPassword = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"']*:([^\s@/"']+)@/gi;

/** True when the value is a literal credential: not empty, a reference, a placeholder, a number or a switch. */
function literal(raw: string): boolean {
  const value = raw.replace(/^(["'])(.*)\1$/s, "$2").trim();
  if (value === "" || value.startsWith("$") || /^:['"]?\w+['"]?$/.test(value)) return false;
  if (/^<.*>$|^\.\.\.$|^\*+$/.test(value)) return false;
  return !/^(\d+(\.\d+)?|true|false|yes|no|on|off|none|null)$/i.test(value);
}

/** Every string in `value`, with its field path (`data["server.properties"]`, `spec...args[3]`). */
function strings(value: unknown, path: string): { text: string; path: string }[] {
  if (typeof value === "string") return [{ text: value, path }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => strings(v, path ? (/^[\w]+$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`) : k));
  }
  return [];
}

/** The manifest's strings, Secrets aside (secrets/no-data-in-git judges those). */
const textOf = (m: Manifest) => (m.kind === "Secret" ? [] : strings(m, ""));

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;
const where = (text: string, index: number) => (text.includes("\n") ? ` (line ${lineOf(text, index)})` : "");

export const secretRules: Rule[] = [
  {
    id: "secrets/no-data-in-git",
    severity: "error",
    description: "No Secret carries data in Git.",
    fix: "remove the Secret from Git; reference it by name and create it in the cluster (see docs/secrets.md)",
    check: (m) => {
      if (m.kind !== "Secret") return [];
      return (["data", "stringData"] as const)
        .filter((field) => Object.keys((m[field] as object | undefined) ?? {}).length > 0)
        .map((field) => ({ path: field, message: `Secret ${m.metadata?.name} has ${field} in Git` }));
    },
  },
  {
    id: "secrets/env-literal",
    severity: "error",
    description: "An env var named like a credential (…PASSWORD, …TOKEN, …API_KEY, …SECRET) takes its value from a Secret, not a literal.",
    fix: "read it with valueFrom.secretKeyRef (lib/pod.ts secretEnv) from a Secret documented in lib/topology.ts",
    check: (m) =>
      containersOfManifest(m).flatMap(({ container, path }) =>
        ((container.env as { name?: string; value?: string }[] | undefined) ?? []).flatMap((e, i): Violation[] =>
          e.name && credentialName.test(e.name) && typeof e.value === "string" && literal(e.value)
            ? [{ path: `${path}.env[${i}].value`, message: `container ${container.name} sets ${e.name} to a literal value` }]
            : [],
        ),
      ),
  },
  {
    id: "secrets/url-password",
    severity: "error",
    description: "No URL carries a password (scheme://user:password@host).",
    fix: "leave the password out of the URL and pass it from a Secret (an env var the program reads, or $(VAR) expanded by Kubernetes)",
    check: (m) =>
      textOf(m).flatMap(({ text, path }) =>
        [...text.matchAll(urlPassword)].filter((u) => literal(u[1]!)).map((u) => ({ path, message: `a URL with a literal password${where(text, u.index)}` })),
      ),
  },
  {
    id: "secrets/literal-in-text",
    severity: "error",
    description: "No password, secret, token or API key is written as a literal in a ConfigMap, a command, its arguments or any other field.",
    fix: "pass the credential from a Secret: an env var (secretEnv) referenced as $(VAR) in args, $VAR in scripts, ${env:VAR} in Kafka Connect config",
    check: (m) => {
      const assigned = textOf(m).flatMap(({ text, path }) => [
        ...[...text.matchAll(assignment)].filter((a) => literal(a[2]!)).map((a) => ({ path, message: `${a[1]} is given a literal value${where(text, a.index)}` })),
        ...[...text.matchAll(sqlPassword)].map((a) => ({ path, message: `a SQL PASSWORD literal${where(text, a.index)}` })),
      ]);
      // `--requirepass VALUE`: a credential flag followed by its value as the next argument.
      const flagged = containersOfManifest(m).flatMap(({ container, path }) =>
        (["command", "args"] as const).flatMap((field) => {
          const list = (container[field] as unknown[] | undefined) ?? [];
          return list.flatMap((arg, i): Violation[] => {
            const next = list[i + 1];
            return typeof arg === "string" && /^--?\w/.test(arg) && credentialName.test(arg) && typeof next === "string" && literal(next)
              ? [{ path: `${path}.${field}[${i + 1}]`, message: `container ${container.name} passes ${arg} a literal value` }]
              : [];
          });
        }),
      );
      return [...assigned, ...flagged];
    },
  },
];
