// The real kustomize (v5 or newer): a `kustomize` binary on the PATH, else `kubectl kustomize`.
// Argo CD runs kustomize 5 too; an older one renders differently, so it is refused, not used.
import { $, which } from "zx";
import { keepOutput, keptOutput, outputFile } from "./kustomize-cache.ts";

export interface Kustomize {
  /** e.g. `kustomize v5.7.1` or `kubectl kustomize v5.5.0` */
  readonly description: string;
  /** The build command without its folder (`kustomize build`), for callers that run builds in parallel (and keep their outputs with kustomize-cache.ts). */
  readonly command: readonly string[];
  build(dir: string): string;
}

function majorOf(version: string | undefined): number {
  return Number(version?.match(/v?(\d+)\./)?.[1] ?? 0);
}

let found: Kustomize | undefined;

/** Finds kustomize once per process; throws, saying what it tried, when there is none usable. */
export function kustomize(): Kustomize {
  if (found) return found;
  const quiet = $.sync({ quiet: true, nothrow: true });
  const tried: string[] = [];
  if (which.sync("kustomize", { nothrow: true })) {
    const version = quiet`kustomize version`.stdout.trim().match(/v\d+\.\d+\.\d+/)?.[0];
    if (majorOf(version) >= 5) {
      found = using(`kustomize ${version}`, ["kustomize", "build"]);
      return found;
    }
    tried.push(`kustomize ${version ?? "(unknown version)"} is older than v5`);
  } else {
    tried.push("no kustomize on the PATH");
  }
  if (which.sync("kubectl", { nothrow: true })) {
    const version = quiet`kubectl version --client`.stdout.match(/Kustomize Version: (v[\d.]+)/)?.[1];
    if (majorOf(version) >= 5) {
      found = using(`kubectl kustomize ${version}`, ["kubectl", "kustomize"]);
      return found;
    }
    tried.push(`kubectl bundles kustomize ${version ?? "(unknown version)"}, older than v5`);
  } else {
    tried.push("no kubectl on the PATH");
  }
  throw new Error(`kustomize v5 or newer is needed (a kustomize binary, or kubectl 1.27+): ${tried.join("; ")}`);
}

function using(description: string, command: readonly string[]): Kustomize {
  return {
    description,
    command,
    build: (dir) => {
      const file = outputFile(dir, description);
      const kept = keptOutput(file);
      if (kept !== undefined) return kept;
      const output = run([...command, dir]);
      keepOutput(file, output);
      return output;
    },
  };
}

function run(command: string[]): string {
  const result = $.sync({ quiet: true, nothrow: true })`${command}`;
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed:\n${result.stderr.trim()}`);
  return result.stdout;
}
