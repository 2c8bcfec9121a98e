// Reading what rendered containers run and the configuration files they are given: shell scripts
// (with their variables expanded as the shell would), command-line flags, PostgreSQL `-c`
// settings, Java properties and INI files.
import type { IContainer } from "kubernetes-models/v1/Container";
import { plainEnvVars } from "./rendered.ts";

/** The script of a `sh -c <script>` container. */
export function shellScript(c: IContainer): string {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const dashC = argv.indexOf("-c");
  const script = argv[dashC + 1];
  if (!["sh", "bash", "/bin/sh", "/bin/bash"].includes(argv[0] ?? "") || dashC < 0 || script === undefined) {
    throw new Error(`container ${c.name} does not run a shell script: ${JSON.stringify(argv)}`);
  }
  return script;
}

/** The script with backslash-newline continuations joined, so one command is one line. */
export const joinContinuations = (script: string) => script.replace(/\\\n\s*/g, " ");

/** Shell variables assigned as `name="value"` (or unquoted) in a script. */
export function shellAssignments(script: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of script.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/gm)) {
    vars[m[1] as string] = m[2] ?? m[3] ?? m[4] ?? "";
  }
  return vars;
}

/** Expands `$name` and `${name}` for the variables given (repeatedly: values may refer to others). */
export function expandShell(text: string, vars: Record<string, string>): string {
  let out = text;
  for (let i = 0; i < 5; i++) {
    out = out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => vars[(a ?? b) as string] ?? whole);
  }
  return out;
}

/** A container's shell script with the env vars it is given expanded, as the shell would run it. */
export const scriptWithEnv = (c: IContainer): string => expandShell(shellScript(c), plainEnvVars(c));

/** `-c name=value` server settings of a PostgreSQL container, in order. */
export function postgresSettings(c: IContainer): [string, string][] {
  const args = c.args ?? [];
  const settings: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) {
    const setting = args[i + 1];
    if (args[i] !== "-c" || setting === undefined || !setting.includes("=")) {
      throw new Error(`postgres args are not "-c name=value" pairs at ${i}: ${JSON.stringify(args.slice(i, i + 2))}`);
    }
    const eq = setting.indexOf("=");
    settings.push([setting.slice(0, eq), setting.slice(eq + 1)]);
  }
  return settings;
}

/** `--flag value` pairs after `program` in a container's full command line (command + args). */
export function flagPairs(c: IContainer, program: string): [string, string][] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const start = argv.indexOf(program);
  if (start < 0) throw new Error(`container ${c.name} never runs ${program}: ${JSON.stringify(argv)}`);
  const rest = argv.slice(start + 1);
  const pairs: [string, string][] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i] as string;
    const value = rest[i + 1];
    if (!flag.startsWith("--") || value === undefined) throw new Error(`${program} arguments are not "--flag value" pairs at ${flag}: ${JSON.stringify(rest)}`);
    pairs.push([flag, value]);
  }
  return pairs;
}

/** key=value lines (comments and blank lines skipped). */
export function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    const eq = trimmed.indexOf("=");
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith("!") || eq < 0) continue;
    map.set(trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
  }
  return map;
}

/** An INI file as section -> key -> value. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  sections.set("", current);
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = trimmed.indexOf("=");
    if (eq >= 0) current.set(trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
  }
  return sections;
}

/** Kafka's `NAME://host:port,...` as name -> [host, port]. */
export function listenerList(value: string): Map<string, [string, number]> {
  return new Map(
    value.split(",").map((entry) => {
      const m = /^([A-Za-z_]+):\/\/([^:]*):(\d+)$/.exec(entry.trim());
      if (!m) throw new Error(`not a listener: ${entry}`);
      return [m[1] as string, [m[2] as string, Number(m[3])]];
    }),
  );
}
