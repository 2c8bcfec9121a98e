// Which modules a command loads decides much of how long it takes (docs/speed.md): a Node
// `--import` that records them, for tests that say what a command must not load.

/** Loaded before everything else: on exit, writes every module resolved (ES and CommonJS) and Node's own to stderr, as one `LOADED [...]` line. */
export const loadRecorder = `data:text/javascript,${encodeURIComponent(`import { registerHooks } from "node:module";
const urls = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.push(r.url); return r; } });
process.on("exit", () => process.stderr.write("LOADED " + JSON.stringify([...urls, ...process.moduleLoadList]) + "\\n"));`)}`;

/** The modules the recorder listed in a run's stderr, and that stderr without its line. */
export function loadedModules(stderr: string): { loaded: string[]; stderr: string } {
  const lines = stderr.split("\n");
  const line = lines.find((l) => l.startsWith("LOADED "));
  if (line === undefined) throw new Error(`no LOADED line: was the recorder imported?\n${stderr}`);
  return { loaded: JSON.parse(line.slice("LOADED ".length)) as string[], stderr: lines.filter((l) => l !== line).join("\n") };
}
