// The whole generator as one pure function: environments in, file contents out.
// config -> components (render) -> layout (plan) -> emit (YAML text). Nothing here touches disk.
import { renderEnvironment } from "./components/render.ts";
import type { Environment } from "./config/types.ts";
import { secretsDoc } from "./docs/secrets.ts";
import type { OutputFile } from "./emit/files.ts";
import { toYaml } from "./emit/yaml.ts";
import { planLayout } from "./layout/plan.ts";
import { GenerationFailed, type Problem } from "./lib/errors.ts";

export function buildOutput(environments: readonly Environment[]): OutputFile[] {
  const problems: Problem[] = [];
  const rendered = environments.flatMap((env) => {
    try {
      return [renderEnvironment(env)];
    } catch (err) {
      if (!(err instanceof GenerationFailed)) throw err;
      problems.push(...err.problems);
      return [];
    }
  });
  if (problems.length > 0) throw new GenerationFailed(problems);
  const files = planLayout(rendered).map((f) => ({ path: f.path, content: toYaml(f.documents) }));
  return [...files, { path: "docs/secrets.md", content: secretsDoc(rendered) }].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
}
