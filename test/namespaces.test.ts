import { describe, expect, it } from "vitest";
import { namespaces } from "../generator/components/namespaces.ts";
import { staging } from "../generator/config/staging.ts";
import { plain } from "./support/config.ts";

describe("Namespaces", () => {

  it("creates nx-persistent, nx-broker and nx-search, each enforcing restricted Pod Security at the pinned version", () => {
    const all = namespaces(staging).map((o) => plain<any>(o));
    expect(all.map((n) => n.metadata.name)).toEqual(["nx-persistent", "nx-broker", "nx-search"]);
    for (const ns of all) {
      expect(ns.metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.36",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      });
    }
  });
});
