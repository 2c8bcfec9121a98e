// The whole generator as one pure function: environments in, file contents out. Nothing here
// touches disk. config -> components (render) -> delivery (sync waves) -> layout -> argocd -> emit.
// The shared defaults are rendered too, as the layout's environment-neutral base.
import { planArgocd } from "./argocd/applications.ts";
import { backendSettingsFiles } from "./clients/backend.ts";
import { withSyncWaves } from "./delivery/waves.ts";
import { type RenderedEnvironment, renderEnvironment } from "./components/render.ts";
import { neutralBase } from "./config/environments.ts";
import type { Environment } from "./config/types.ts";
import { withFlows } from "./docs/flows.ts";
import { networkDoc } from "./docs/network.ts";
import { resourcesDoc } from "./docs/resources.ts";
import { topologyDoc } from "./docs/topology.ts";
import { wavesDoc } from "./docs/waves.ts";
import { secretsDoc } from "./docs/secrets.ts";
import type { OutputFile } from "./emit/files.ts";
import { toYaml } from "./emit/yaml.ts";
import { planLayout, type YamlFile } from "./layout/plan.ts";
import { GenerationFailed, type Problem } from "./lib/errors.ts";
import { byCodePoint } from "./lib/order.ts";

/** An environment's objects exactly as they are deployed: rendered, with their sync waves. */
export function environmentObjects(env: Environment): RenderedEnvironment {
  return withSyncWaves(renderEnvironment(env));
}

/**
 * Every file of `environments`. `render` is `environmentObjects` but for tests (one that freezes
 * the objects' JSON proves that no later stage changes it).
 */
export function buildOutput(
  environments: readonly Environment[],
  render: (env: Environment) => RenderedEnvironment = environmentObjects,
): OutputFile[] {
  const { deployed, argocd, yaml } = plan(environments, render);
  const files = yaml.map((f) => ({ path: f.path, content: toYaml(f.documents, f.notice) }));
  const allowed = deployed.map(withFlows);
  const docs = [
    { path: "docs/network.md", content: networkDoc(allowed) },
    { path: "docs/resources.md", content: resourcesDoc(deployed) },
    { path: "docs/secrets.md", content: secretsDoc(deployed) },
    { path: "docs/topology.md", content: topologyDoc(allowed) },
    { path: "docs/waves.md", content: wavesDoc(deployed, argocd) },
  ];
  return [...files, ...docs].sort((a, b) => byCodePoint(a.path, b.path));
}

/** The YAML files of `environments` as the documents buildOutput writes into them, for a reader of what they hold. */
export function yamlFiles(environments: readonly Environment[]): YamlFile[] {
  return plan(environments, environmentObjects).yaml;
}

/** Everything of buildOutput but the text: the rendered environments and the YAML files' documents. */
function plan(environments: readonly Environment[], render: (env: Environment) => RenderedEnvironment) {
  const problems: Problem[] = [];
  // Every environment is rendered even when one fails, so a run reports all problems at once.
  const collect = <T>(run: () => T): T[] => {
    try {
      return [run()];
    } catch (err) {
      if (!(err instanceof GenerationFailed)) throw err;
      problems.push(...err.problems);
      return [];
    }
  };
  const deployed = environments.flatMap((env) => collect(() => render(env)));
  const [base] = collect(() => render(neutralBase));
  if (problems.length > 0 || base === undefined) throw new GenerationFailed(problems);
  const layout = planLayout(base, deployed);
  const argocd = collect(() => planArgocd(deployed, layout)).flat();
  const backend = environments.flatMap((env) => collect(() => backendSettingsFiles(env)).flat());
  if (problems.length > 0) throw new GenerationFailed(problems);
  return { deployed, argocd, yaml: [...layout, ...argocd, ...backend] };
}
