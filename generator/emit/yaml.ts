// Stage 4: byte-stable YAML. Keys are sorted (apiVersion, kind, metadata, name and namespace
// first), lists keep their order, strings YAML 1.1 would read as something else are quoted
// (`"yes"`, `"on"`, `"5000"`), long strings are never folded, and multi-line text (scripts,
// config files) is a literal block.
import { Document } from "yaml";
import type { Json } from "../layout/json-patch.ts";
import { generatedNotice } from "../lib/generated.ts";
import { byCodePoint } from "../lib/order.ts";

const leading = ["apiVersion", "kind", "metadata", "name", "namespace"];

function rank(key: string): number {
  const i = leading.indexOf(key);
  return i === -1 ? leading.length : i;
}

function compareKeys(a: string, b: string): number {
  return rank(a) - rank(b) || byCodePoint(a, b);
}

/** The documents, under the generated-file header (`origin`) and `notice` as comment lines. */
export function toYaml(documents: readonly Json[], notice?: string, origin = generatedNotice): string {
  const header = `# ${origin}\n`;
  const body = documents
    .map((doc) =>
      new Document(doc, { version: "1.1", sortMapEntries: (a, b) => compareKeys(String(a.key), String(b.key)) }).toString({
        lineWidth: 0,
        minContentWidth: 0,
        blockQuote: "literal",
        indentSeq: false,
      }),
    )
    .join("---\n");
  const comment = notice === undefined ? "" : notice.split("\n").map((line) => `# ${line}`.trimEnd() + "\n").join("");
  return header + comment + body;
}
