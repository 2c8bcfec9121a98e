// renovate.json: its regex managers, applied the way Renovate applies them (every match string
// with the `g` flag; `recursive` narrows each next one to the previous match), find every image
// pinned in generator/config/common.ts and Helm charts pinned in the form that file's comment
// documents; and every proposal regenerates the YAML.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { common } from "../generator/config/common.ts";
import { repoRoot } from "./support/repo.ts";

interface RegexManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  matchStringsStrategy?: "any" | "recursive";
  datasourceTemplate: string;
}

const config = JSON.parse(readFileSync(join(repoRoot, "renovate.json"), "utf8")) as {
  customManagers: RegexManager[];
  packageRules: { matchPackageNames?: string[]; versioning?: string }[];
  postUpgradeTasks: { commands: string[]; executionMode: string };
};
const commonFile = "generator/config/common.ts";
const commonText = readFileSync(join(repoRoot, commonFile), "utf8");

/** The named groups of every dependency a regex manager extracts from `content`. */
function extract(manager: RegexManager, content: string): Record<string, string>[] {
  const [first, ...rest] = manager.matchStrings.map((s) => new RegExp(s, "g"));
  if (!first) return [];
  if (manager.matchStringsStrategy !== "recursive") {
    return manager.matchStrings.flatMap((s) => [...content.matchAll(new RegExp(s, "g"))].map((m) => ({ ...m.groups })));
  }
  const narrow = (text: string, regexes: RegExp[], groups: Record<string, string>): Record<string, string>[] => {
    const [next, ...others] = regexes;
    if (!next) return [groups];
    return [...text.matchAll(next)].flatMap((m) => narrow(m[0], others, { ...groups, ...m.groups }));
  };
  return [...content.matchAll(first)].flatMap((m) => narrow(m[0], rest, { ...m.groups }));
}

const managerFor = (datasource: string) => {
  const manager = config.customManagers.find((m) => m.datasourceTemplate === datasource);
  if (!manager) throw new Error(`renovate.json has no regex manager for datasource ${datasource}`);
  return manager;
};
const images = managerFor("docker");
const charts = managerFor("helm");
const pattern = (p: string) => new RegExp(p.replace(/^\/(.*)\/$/, "$1"));
const imageRef = (d: Record<string, string>) => `${d.depName}:${d.currentValue}${d.currentDigest ? `@${d.currentDigest}` : ""}`;

describe("renovate.json", () => {
  it("reads the images and the charts from the one file that pins them", () => {
    for (const manager of [images, charts]) {
      expect(manager.managerFilePatterns.some((p) => pattern(p).test(commonFile))).toBe(true);
      expect(manager.managerFilePatterns.some((p) => pattern(p).test("generator/config/staging.ts"))).toBe(false);
    }
  });

  it("finds every image of common.ts, with its name and tag, and nothing else", () => {
    const found = extract(images, commonText);
    expect(found.map(imageRef).sort()).toEqual(Object.values(common.images).sort());
    expect(found.find((d) => d.depName === "ghcr.io/icoretech/pgbouncer-docker")?.currentValue).toBe("1.24.1");
  });

  it("finds an image with a registry port and a digest", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const block = `images: {\n    app: "registry.example:5000/team/app:1.2.3@${digest}",\n  },`;
    expect(extract(images, block)).toEqual([
      { depName: "registry.example:5000/team/app", currentValue: "1.2.3", currentDigest: digest },
    ]);
  });

  it("finds a chart pinned in the form the comment of common.ts documents", () => {
    const form = commonText.split("\n").find((l) => l.startsWith("//") && l.includes("repository:"));
    if (!form) throw new Error("common.ts documents no chart pin form");
    // The documented form itself has placeholders and is no pin.
    expect(extract(charts, form)).toEqual([]);
    const pinned = form
      .replace(/^\/\/\s*/, "")
      .replace("<key>", "cloudnativePg")
      .replace("<https chart repository>", "https://cloudnative-pg.github.io/charts")
      .replace("<chart>", "cloudnative-pg")
      .replace("<version>", "0.26.1");
    expect(extract(charts, `charts: {\n    ${pinned}\n  },`)).toEqual([
      { registryUrl: "https://cloudnative-pg.github.io/charts", depName: "cloudnative-pg", currentValue: "0.26.1" },
    ]);
  });

  it("finds every operator chart of common.ts, with its repository, name and version, and nothing else", () => {
    const found = extract(charts, commonText).map((d) => `${d.registryUrl} ${d.depName} ${d.currentValue}`);
    expect(found.sort()).toEqual(Object.values(common.charts).map((c) => `${c.repository} ${c.chart} ${c.version}`).sort());
    expect(found).toHaveLength(5);
  });

  it("finds every chart pinned in common.ts (a pin in another form would be missed)", () => {
    const pins = commonText.split("\n").filter((l) => !l.trimStart().startsWith("//") && /\bchart: "/.test(l));
    expect(extract(charts, commonText)).toHaveLength(pins.length);
  });

  it("can read the versions of the Debezium tags, which Docker versioning cannot", () => {
    const rule = config.packageRules.find((r) => r.matchPackageNames?.includes("quay.io/debezium/connect"));
    const versioning = new RegExp(rule?.versioning?.replace(/^regex:/, "") ?? "(?!)");
    const tag = common.images.debezium.split(":").pop() ?? "";
    expect(versioning.exec(tag)?.groups).toEqual({ major: "3", minor: "6", patch: "0" });
  });

  it("regenerates the YAML in the same pull request, once per branch", () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(config.postUpgradeTasks.commands).toEqual(["npm ci", "npm run generate"]);
    expect(scripts.generate).toBeDefined();
    expect(config.postUpgradeTasks.executionMode).toBe("branch");
  });
});
