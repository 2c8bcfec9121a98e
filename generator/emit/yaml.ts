// Stage 4: byte-stable YAML. Keys are sorted (apiVersion, kind, metadata, name and namespace
// first), lists keep their order, strings YAML 1.1 would read as something else are quoted
// (`"yes"`, `"on"`, `"5000"`), long strings are never folded, and multi-line text (scripts,
// config files) is a literal block.
//
// Written directly rather than through the `yaml` library's Document (its loading, a node tree and
// a tag lookup for every scalar: about a fifth of a run's CPU): the documents are plain JSON
// values, and the text is what `yaml` 2.x prints for them as YAML 1.1 with lineWidth 0, literal
// blocks and indentSeq false, except for the few strings `yaml` prints in a way that does not read
// back as them (test/yaml.test.ts holds both). Each function below follows the `yaml` function of
// the same role, with those options fixed; `indent` is yaml's context indent: the one of a block
// scalar's lines, a map's keys and a nested value's lines.
import type { Json } from "../lib/objects.ts";
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

const step = "  ";

/**
 * The plain scalars YAML 1.1 reads as something other than a string (the tests of yaml's 1.1
 * schema): null, booleans, integers in base 2, 8, 10, 16 and 60, floats, infinities and NaN, the
 * merge key and timestamps. `yaml` itself prints the string `<<` bare, which reads back as a merge
 * key; here it is quoted.
 */
const nonStrings = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:Y|y|[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/,
  /^(?:N|n|[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
  /^[-+]?0b[0-1_]+$/,
  /^[-+]?0[0-7_]+$/,
  /^[-+]?[0-9][0-9_]*$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/,
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/,
  /^<<$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/,
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:t|T|[ \t]+)([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2}(\.[0-9]+)?)(?:[ \t]*(Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?$/,
];
// All of them as one expression (each is anchored at both ends): one match per scalar instead of
// fourteen (~35 -> ~21 ms CPU for all the files of a run).
const nonString = new RegExp(`^(?:${nonStrings.map((test) => test.source.slice(1, -1)).join("|")})$`);
/** Control characters and unpaired surrogates: only a double-quoted string can hold them. */
const needsEscapes = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
/** Text a plain scalar cannot start with, contain or end with (indicators, `: `, ` #`, edge spaces). */
const notPlain = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** A line a YAML 1.1 reader takes for a directive or a document marker. */
const documentMarker = /^(%|---|\.\.\.)/m;
/** The line breaks inside a block scalar's trailing whitespace, after which its indent goes. */
const blockEndNewlines = /(^|(?<!\n))\n+(?!\n|$)/g;

/** yaml's `stringifyNumber`. */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? ".nan" : n < 0 ? "-.inf" : ".inf";
  return Object.is(n, -0) ? "-0" : String(n);
}

/** yaml's `doubleQuotedString`: JSON escapes, YAML's short ones, and long values' line breaks as real ones. */
function doubleQuoted(value: string, indent: string, key: boolean): string {
  const json = JSON.stringify(value);
  const lineIndent = indent || (documentMarker.test(value) ? step : "");
  let str = "";
  let start = 0;
  for (let i = 0, ch = json[i]; ch; ch = json[++i]) {
    if (ch === " " && json[i + 1] === "\\" && json[i + 2] === "n") {
      // a space before a line break is escaped, or the reader would fold it away
      str += json.slice(start, i) + "\\ ";
      i += 1;
      start = i;
      ch = "\\";
    }
    if (ch !== "\\") continue;
    if (json[i + 1] === "u") {
      str += json.slice(start, i);
      const code = json.substr(i + 2, 4);
      str += shortEscapes[code] ?? (code.startsWith("00") ? `\\x${code.substring(2)}` : json.substr(i, 6));
      i += 5;
      start = i + 1;
    } else if (json[i + 1] === "n" && !key && json[i + 2] !== '"' && json.length >= 40) {
      // a line break as two real ones (one is folded away), the next line's leading space escaped
      str += json.slice(start, i) + "\n\n";
      while (json[i + 2] === "\\" && json[i + 3] === "n" && json[i + 4] !== '"') {
        str += "\n";
        i += 2;
      }
      str += lineIndent;
      if (json[i + 2] === " ") str += "\\";
      i += 1;
      start = i + 1;
    } else {
      i += 1;
    }
  }
  return start ? str + json.slice(start) : json;
}

/** YAML's short escapes for the characters JSON escapes as `\\u00XX` (the rest become `\\xXX`). */
const shortEscapes: Record<string, string> = { "0000": "\\0", "0007": "\\a", "000b": "\\v", "001b": "\\e" };

/** yaml's `singleQuotedString`, which leaves to double quotes what single ones cannot hold. */
function singleQuoted(value: string, indent: string, key: boolean): string {
  if ((key && value.includes("\n")) || /[ \t]\n|\n[ \t]/.test(value)) return doubleQuoted(value, indent, key);
  const lineIndent = indent || (documentMarker.test(value) ? step : "");
  return `'${value.replace(/'/g, "''").replace(/\n+/g, `$&\n${lineIndent}`)}'`;
}

/** yaml's `quotedString`: single quotes only for a value with double quotes and no single ones. */
function quoted(value: string, indent: string, key: boolean): string {
  return value.includes('"') && !value.includes("'") ? singleQuoted(value, indent, key) : doubleQuoted(value, indent, key);
}

/** yaml's `blockString` as a literal: chomping from the trailing line breaks, an indentation indicator for a leading space. */
function literal(text: string, indent: string): string {
  // Only a quoted string keeps whitespace after the last line break, or text of whitespace alone
  // whose first line starts with a space (`yaml` writes that as a literal block without an
  // indentation indicator, and a reader takes the spaces for indentation).
  if (/\n[\t ]+$|^\n* [\t\n ]*$/.test(text)) return quoted(text, indent, false);
  // An indentation indicator when the first line starts with a space, which would otherwise be
  // read as indentation; a document's own block is indented then, as when a line of it could end
  // the document (`yaml` reads an indicator at column 0 wrongly).
  const leadingSpace = /^\n* /.test(text);
  const lineIndent = indent || (leadingSpace || documentMarker.test(text) ? step : "");
  let endStart = text.length;
  while (endStart > 0 && " \t\n".includes(text[endStart - 1]!)) endStart -= 1;
  // Chomping: strip without a final line break, keep with more than one (or text of line breaks alone).
  let end = text.substring(endStart);
  const endBreak = end.indexOf("\n");
  const chomp = endBreak === -1 ? "-" : endStart === 0 || endBreak !== end.length - 1 ? "+" : "";
  if (end.endsWith("\n")) end = end.slice(0, -1);
  const lines = text.substring(0, endStart).replace(/\n+/g, `$&${lineIndent}`);
  return `|${leadingSpace ? "2" : ""}${chomp}\n${lineIndent}${lines}${end.replace(blockEndNewlines, `$&${lineIndent}`)}`;
}

/** yaml's `plainString`: bare when a YAML 1.1 reader reads it back as this string, else quoted or a literal block. */
function stringText(value: string, indent: string, key: boolean): string {
  if (needsEscapes.test(value)) return doubleQuoted(value, indent, key);
  const multiLine = value.includes("\n");
  if (key && multiLine) return quoted(value, indent, key);
  if (notPlain.test(value)) return key || !multiLine ? quoted(value, indent, key) : literal(value, indent);
  if (multiLine) return literal(value, indent);
  if (documentMarker.test(value)) {
    if (indent === "") return literal(value, indent);
    if (key && indent === step) return quoted(value, indent, key);
  }
  return nonString.test(value) ? quoted(value, indent, key) : value;
}

function isEmpty(collection: Json[] | { [key: string]: Json }): boolean {
  return Array.isArray(collection) ? collection.length === 0 : Object.keys(collection).length === 0;
}

/** yaml's `stringifyPair`: `key: value`, a nested list at the key's own indent (indentSeq false). */
function pairText(key: string, value: Json, indent: string): string {
  const inner = indent + step;
  const keyText = stringText(key, inner, true);
  // A key longer than 1024 characters is written as an explicit `? key`.
  if (keyText.length > 1024) return `? ${keyText}\n${indent}: ${valueText(value, inner)}`;
  if (value === null || typeof value !== "object" || isEmpty(value)) return `${keyText}: ${valueText(value, inner)}`;
  const nested = Array.isArray(value) ? indent : inner;
  return `${keyText}:\n${nested}${valueText(value, nested)}`;
}

/** One value in block context; an empty list or map in flow style. */
function valueText(value: Json, indent: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return numberText(value);
    case "string":
      return stringText(value, indent, false);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const itemIndent = indent + step;
    return value.map((item) => `- ${valueText(item, itemIndent)}`).join(`\n${indent}`);
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return "{}";
  return keys
    .sort(compareKeys)
    .map((key) => pairText(key, value[key]!, indent))
    .join(`\n${indent}`);
}

/** The documents, under the generated-file header (`origin`) and `notice` as comment lines. */
export function toYaml(documents: readonly Json[], notice?: string, origin = generatedNotice): string {
  const header = `# ${origin}\n`;
  const body = documents.map((doc) => `${valueText(doc, "")}\n`).join("---\n");
  const comment = notice === undefined ? "" : notice.split("\n").map((line) => `# ${line}`.trimEnd() + "\n").join("");
  return header + comment + body;
}
