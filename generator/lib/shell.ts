// Snippets shared by the init scripts (POSIX sh, so they run on alpine's busybox and on dash).

/**
 * Waits until `condition` (a shell command) succeeds, checking every `seconds`; after `attempts`
 * failures it prints `failure` (already shell-quoted) and exits 1. `indent` fits it into a block.
 */
export function waitUntil(condition: string, o: { attempts: number; seconds: number; failure: string; indent?: number }): string {
  const pad = " ".repeat(o.indent ?? 0);
  return [
    "tries=0",
    `until ${condition}; do`,
    "  tries=$((tries + 1))",
    `  if [ "$tries" -ge ${o.attempts} ]; then echo ${o.failure} >&2; exit 1; fi`,
    `  sleep ${o.seconds}`,
    "done",
  ]
    .map((line, i) => (i === 0 ? line : pad + line))
    .join("\n");
}
