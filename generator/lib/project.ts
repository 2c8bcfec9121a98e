// Where the project is on disk: found from the code's own location (the package.json it belongs
// to), never from the current directory, so a command run from generator/ or from any other
// folder still reads and writes the project's own files.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** `name` in the project's package.json: how a folder is recognised as this project. */
export const projectName = "nx-data-layer";

/** True when `dir` holds this project's package.json. */
export function isProjectRoot(dir: string): boolean {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === projectName;
  } catch {
    return false;
  }
}

/**
 * The project folder that holds the module at `moduleUrl` (pass `import.meta.url`): the nearest
 * folder above it whose package.json is this project's. Throws when there is none, e.g. for a
 * copy of generator/ taken out of the project.
 */
export function projectRootOf(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return dir;
    if (dirname(dir) === dir) {
      throw new Error(`${start} is not inside the ${projectName} project: no package.json named "${projectName}" above it`);
    }
  }
}
