// docs/waves.md: the order in which Argo CD applies each environment, read from the sync-wave
// annotations the delivery stage put on the objects and the argocd stage put on the Applications.
import type { RenderedEnvironment } from "../components/render.ts";
import { syncWaveAnnotation } from "../delivery/waves.ts";
import type { YamlFile } from "../layout/plan.ts";
import { generatedNotice } from "../lib/generated.ts";
import { namespaceOf } from "../lib/identity.ts";

interface Annotated {
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { source?: { path?: string; chart?: string; repoURL?: string; targetRevision?: string }; destination?: { namespace?: string } };
}

/** Where an Application's objects come from: a folder of this repository, or an operator's Helm chart. */
const sourceOf = (app: Annotated) => {
  const s = app.spec?.source ?? {};
  return s.chart ? `Helm chart \`${s.chart}\` ${s.targetRevision} (${s.repoURL})` : `\`${s.path}\``;
};

const waveOf = (o: Annotated) => Number(o.metadata?.annotations?.[syncWaveAnnotation] ?? 0);
const byWave = (a: number, b: number) => a - b;
const tableRow = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;

/** `Kind name` lines of the objects, grouped by kind: `NetworkPolicy: a, b`. */
function listed(objects: readonly Annotated[]): string {
  const kinds = new Map<string, string[]>();
  for (const o of objects) kinds.set(o.kind ?? "", [...(kinds.get(o.kind ?? "") ?? []), o.metadata?.name ?? ""]);
  return [...kinds].map(([kind, names]) => `${kind}: ${names.join(", ")}`).join("<br>");
}

export function wavesDoc(environments: readonly RenderedEnvironment[], argocd: readonly YamlFile[]): string {
  const lines = [
    `<!-- ${generatedNotice} -->`,
    "# Sync waves",
    "",
    "The order in which Argo CD applies each environment. The root Application syncs the child",
    "Applications in waves, one Application per namespace; each child syncs its namespace's objects in",
    "waves. A wave starts once every object of the earlier waves is Healthy (a Job once it has",
    "completed). docs/delivery.md says why the order is what it is.",
    "",
  ];
  for (const { environment, objects } of environments) {
    // The root Application is applied from bootstrap/ by an admin; it syncs the children in apps/.
    const applications = (folder: string) =>
      argocd
        .filter((f) => f.path.startsWith(`argocd/${environment.name}/${folder}/`))
        .flatMap((f) => f.documents as readonly Annotated[])
        .filter((o) => o.kind === "Application");
    const root = applications("bootstrap").map((a) => `\`${a.metadata?.name}\``).join(", ");
    const children = applications("apps");
    lines.push(`## ${environment.name}`, "", `The root Application ${root} syncs:`, "");
    lines.push(tableRow(["wave", "Application", "namespace", "source"]), "|---|---|---|---|");
    for (const app of [...children].sort((a, b) => byWave(waveOf(a), waveOf(b)))) {
      lines.push(tableRow([`\`${waveOf(app)}\``, `\`${app.metadata?.name}\``, app.spec?.destination?.namespace ?? "", sourceOf(app)]));
    }
    const annotated = objects.map(({ json }) => json as Annotated);
    // The layer's own objects, by the Application of their namespace's overlay (a chart's are Helm's).
    const namespaces = children.filter((a) => a.spec?.source?.path).map((a) => a.spec?.destination?.namespace ?? "");
    const waves = [...new Set(annotated.map(waveOf))].sort(byWave);
    lines.push("", "Inside each Application of a namespace overlay:", "", tableRow(["wave", ...namespaces]), `|---|${namespaces.map(() => "---").join("|")}|`);
    for (const wave of waves) {
      const cells = namespaces.map((ns) => listed(annotated.filter((o) => waveOf(o) === wave && namespaceOf(o) === ns)) || "-");
      lines.push(tableRow([`\`${wave}\``, ...cells]));
    }
    lines.push("");
  }
  return lines.join("\n");
}
