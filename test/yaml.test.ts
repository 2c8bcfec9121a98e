// The YAML serializer prints what the `yaml` library's Document prints with the options the
// generator used before it had its own (YAML 1.1, keys sorted with apiVersion/kind/metadata/name/
// namespace first, lineWidth 0, literal blocks, indentSeq false), and a YAML 1.1 reader reads every
// document back as the value it was given, also where `yaml`'s own text does not.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { Document, parse, parseAllDocuments } from "yaml";
import { environments } from "../generator/config/environments.ts";
import { ownedFiles } from "../generator/emit/files.ts";
import { toYaml } from "../generator/emit/yaml.ts";
import type { Json } from "../generator/lib/objects.ts";
import { byCodePoint } from "../generator/lib/order.ts";
import { environmentObjects } from "../generator/pipeline.ts";
import { repoRoot } from "./support/repo.ts";

const leading = ["apiVersion", "kind", "metadata", "name", "namespace"];
const rank = (key: string) => (leading.includes(key) ? leading.indexOf(key) : leading.length);

/** The reference: one document as `yaml` prints it with the generator's options. */
function yamlLibrary(doc: Json): string {
  const sortMapEntries = (a: { key: unknown }, b: { key: unknown }) => rank(String(a.key)) - rank(String(b.key)) || byCodePoint(String(a.key), String(b.key));
  return new Document(doc, { version: "1.1", sortMapEntries }).toString({ lineWidth: 0, minContentWidth: 0, blockQuote: "literal", indentSeq: false });
}

/** The serializer's text for one document, without the generated-file header. */
const body = (doc: Json) => toYaml([doc], undefined, "x").slice("# x\n".length);

const readBack = (text: string) => parse(text, { version: "1.1" }) as unknown;

function readsBackAs(text: string, doc: Json): boolean {
  try {
    return isDeepStrictEqual(readBack(text), doc);
  } catch {
    return false;
  }
}

/** The text reads back as `doc`, and is yaml's own wherever yaml's reads back as `doc`. */
function expectLikeYamlLibrary(doc: Json) {
  const text = body(doc);
  expect(readBack(text)).toStrictEqual(doc);
  // Where the texts are the same, yaml's reads back as `doc` (just checked): not parsed again.
  const reference = yamlLibrary(doc);
  if (text !== reference && readsBackAs(reference, doc)) expect(text).toBe(reference);
}

const strings = [
  // what YAML 1.1 reads as null, booleans, numbers, timestamps; and near misses that stay bare
  "", "~", "null", "Null", "NULL", "nULL",
  "y", "Y", "n", "N", "yes", "Yes", "YES", "yEs", "no", "NO", "on", "On", "ON", "off", "OFF", "oFF", "true", "True", "TRUE", "false", "FALSE", "fALSE",
  "0", "5000", "-1", "+1", "1_000", "0b101", "-0b1", "0755", "08", "0o17", "0x1F", "0xg", "1:30", "-190:20:30", "1:30.5", "1:60",
  "1.5", ".5", "5.", "-.5", "1e3", "1E-3", "e5", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "inf", "nan", "1.2.3", "1e", "Infinity", "NaN",
  "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 +5", "2001-12-14 21:59", "20011214",
  "<<x", "x<<",
  // indicators, ": " and " #", and spaces at either end
  "-", "?", ":", "- a", "? a", "-a", "?a", ":a", "a:", "a: b", "a:b", "a #b", "a#b", "#a", "a #", "&a", "*a", "!a", "|a", ">a", "'a", '"a', "%a", "@a", "`a",
  ",a", "[a", "]a", "{a", "}a", "a,b", "a[b]", "{a: 1}", " a", "a ", "\ta", "a\t", " ", "  ",
  // quotes
  "it's", 'say "hi"', `both ' and "`, "'", '"', "''",
  // document markers and directives
  "---", "--- a", "...", "%YAML 1.1", "a\n---\nb", "a\n...", "a\n%x", "---a",
  // multi-line: chomping, leading spaces, empty lines, trailing whitespace
  "a\nb", "a\nb\n", "a\nb\n\n", "a\nb\n\n\n", "a\n\nb", "a\n\n\nb\n", "\na", "\n\na\n", "\n", "\n\n", " a\nb", "  a\n b\n", "\n a\nb", " \n a",
  "a\n b", "a \nb", "a\n\tb", "a\n ", "a\n\t", "a\n \n", "a\nb \n", "a\n\n ", "#!/bin/sh\nset -eu\necho \"$1\"\n", "key: value\nother: 1\n",
  "- a\n- b\n", "a: b\nc", "x\n#y", "x #y\nz",
  // control characters, escapes, line separators, non-ASCII
  "\x00", "a\x07b", "\x0b", "\x1b[0m", "\x7f", "\x85", "a\u00a0b", "\u2028", "a\u2029b", "\ud800", "a\udc00b", "\r", "a\r\nb", "\ta\tb", "é", "日本語", "😀",
  "back\\slash", "a\\nb", "a\x07\nb", "a\x07 \nb",
  // long double-quoted multi-line text (line breaks become real ones from 40 characters of JSON)
  "\x07 a line long enough to fold\nand a second one\n\n\nand more\n leading",
  "\x07 a line long enough to fold\n\n---\n...\n%x\n",
  "a line that is long enough, with a space before\n\tand tab after\n",
  `\x07${"x".repeat(28)}\ny`, // 39 characters of JSON: the line break stays escaped
  `\x07${"x".repeat(29)}\ny`, // 40: a real one
];

describe("toYaml prints what yaml's Document prints", () => {
  it.each(strings.map((s) => [s]))("as a value, a key, a list item and a document: %j", (s) => {
    expectLikeYamlLibrary({ value: s, [s]: "key", nested: { [s]: [s, { [s]: s }] } });
    expectLikeYamlLibrary([s, [s]]);
    expectLikeYamlLibrary(s);
  });

  it("numbers, booleans, null, empty and nested collections, key order", () => {
    expectLikeYamlLibrary({
      numbers: [0, -0, 1, -1, 1.5, -1e-7, 5e-7, 1e21, 1e-21, 123456789012345680000, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1 + 0.2, NaN, Infinity, -Infinity],
      scalars: [true, false, null],
      empty: { list: [], map: {}, lists: [[], {}, [[]]] },
      nested: [[1, [2, [3]]], [{ a: [] }], { b: [{ c: { d: [null] } }] }],
      metadata: { namespace: "n", name: "x", labels: { b: "1", a: "2", B: "3", "é": "4" } },
      kind: "K",
      apiVersion: "v1",
      "": "empty key",
    });
    expectLikeYamlLibrary({});
    expectLikeYamlLibrary([]);
    expectLikeYamlLibrary(null);
    expectLikeYamlLibrary(-0.5);
  });

  it("keys longer than 1024 characters as explicit keys", () => {
    const long = "k".repeat(1030);
    expectLikeYamlLibrary({ [long]: { a: 1, b: [2] }, [`${long}2`]: [1, 2], [`${long}3`]: "v", short: { [long]: null } });
  });

  it("strings built at random from the pieces that decide a style", () => {
    const pieces = ["a", "0", "1.5", " ", "  ", "\n", "\n\n", "\t", "#", ":", ": ", " #", "-", "?", "'", '"', "---", "...", "%", "yes", "null", "<<", "\x07", "\u2028", "é", "\\", "[", "{", ",", "!", "|", ">"];
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const made = Array.from({ length: 3000 }, () => Array.from({ length: 1 + Math.floor(next() * 6) }, () => pieces[Math.floor(next() * pieces.length)]).join(""));
    for (const s of made) expectLikeYamlLibrary({ [s]: s, list: [s] });
  });

  it("every document the generator renders for both environments, and every committed file", () => {
    const rendered = environments.flatMap((env) => environmentObjects(env).objects.map((o) => JSON.parse(JSON.stringify(o.object)) as Json));
    for (const doc of rendered) expectLikeYamlLibrary(doc);
    const files = ownedFiles(repoRoot).filter((path) => path.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(200);
    for (const path of files) {
      const docs = parseAllDocuments(readFileSync(join(repoRoot, path), "utf8"), { version: "1.1" }).map((d) => ("toJS" in d ? (d.toJS() as Json) : null));
      expect(toYaml(docs, undefined, "x")).toBe(`# x\n${docs.map(yamlLibrary).join("---\n")}`);
    }
  });
});

it("differs from yaml only where yaml's text reads back as something else", () => {
  const cases: [Json, string, string][] = [
    // the merge key, printed bare
    [{ "<<": "<<" }, "<<: <<\n", '"<<": "<<"\n'],
    // whitespace alone, first line starting with a space: a literal block reads back without it
    [{ a: " \n", b: "\n \t\n" }, "a: |+\n   \nb: |+\n  \n   \t\n", 'a: "\\ \\n"\nb: "\\n \\t\\n"\n'],
    // a document's own literal block with an indentation indicator at column 0
    [" a\nb", "|1-\n a\nb\n", "|2-\n   a\n  b\n"],
  ];
  for (const [doc, yamlText, text] of cases) {
    expect(yamlLibrary(doc)).toBe(yamlText);
    expect(readsBackAs(yamlText, doc)).toBe(false);
    expect(body(doc)).toBe(text);
    expect(readBack(text)).toStrictEqual(doc);
  }
});
