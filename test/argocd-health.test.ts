// The Application health check generated into argocd-cm, run by a real Lua VM against the states
// a child Application goes through, as the parent app-of-apps sees them between its sync waves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lauxlib, lua, lualib, to_luastring } from "fengari";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { environments } from "../generator/config/environments.ts";

const repo = join(import.meta.dirname, "..");
const healthKey = "resource.customizations.health.argoproj.io_Application";

function healthScript(env: string): string {
  const cm = parse(readFileSync(join(repo, "argocd", env, "bootstrap", "argocd-cm-configmap.yaml"), "utf8"));
  return cm.data[healthKey];
}

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

function push(L: unknown, value: Value): void {
  if (value === null) lua.lua_pushnil(L);
  else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (typeof value === "number") lua.lua_pushnumber(L, value);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else {
    lua.lua_newtable(L);
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        push(L, item);
        lua.lua_rawseti(L, -2, i + 1);
      });
    } else {
      for (const [k, v] of Object.entries(value)) {
        push(L, v);
        lua.lua_setfield(L, -2, to_luastring(k));
      }
    }
  }
}

/** Runs the script the way Argo CD does: `obj` is the live object, the chunk returns `hs`. */
function assess(script: string, application: Value): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, application);
  lua.lua_setglobal(L, to_luastring("obj"));
  if (lauxlib.luaL_dostring(L, to_luastring(script)) !== 0) throw new Error(lua.lua_tojsstring(L, -1));
  lua.lua_getfield(L, -1, to_luastring("status"));
  const status = lua.lua_tojsstring(L, -1);
  lua.lua_pop(L, 1);
  lua.lua_getfield(L, -1, to_luastring("message"));
  const message = lua.lua_tojsstring(L, -1);
  return { status, message };
}

const app = (status?: Value): Value => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Application",
  metadata: { name: "staging-nx-broker", namespace: "argocd" },
  ...(status === undefined ? {} : { status }),
});

describe.each(environments.map((e) => e.name))("Application health check in argocd-cm (%s)", (env) => {
  const script = healthScript(env);

  it.each([
    ["a child that was never synced", app(), "Progressing"],
    ["a child with status but no sync operation yet", app({ sync: { status: "OutOfSync" }, health: { status: "Missing" } }), "Progressing"],
    [
      "a child mid-sync, even while its current objects look healthy",
      app({ operationState: { phase: "Running" }, sync: { status: "OutOfSync" }, health: { status: "Healthy" } }),
      "Progressing",
    ],
    [
      "a child whose sync finished but that is still out of sync",
      app({ operationState: { phase: "Succeeded" }, sync: { status: "OutOfSync" }, health: { status: "Healthy" } }),
      "Progressing",
    ],
    [
      "a synced child whose StatefulSets are not ready yet",
      app({ operationState: { phase: "Succeeded" }, sync: { status: "Synced" }, health: { status: "Progressing" } }),
      "Progressing",
    ],
    [
      "a synced, healthy child",
      app({ operationState: { phase: "Succeeded" }, sync: { status: "Synced" }, health: { status: "Healthy" } }),
      "Healthy",
    ],
    // Re-created over objects that already exist: Synced at once, so Argo CD never runs a sync.
    ["a synced, healthy child that never needed a sync operation", app({ sync: { status: "Synced" }, health: { status: "Healthy" } }), "Healthy"],
    ["a synced child with no operation whose resources are not ready yet", app({ sync: { status: "Synced" }, health: { status: "Progressing" } }), "Progressing"],
    ["a synced child with no operation whose resources degraded", app({ sync: { status: "Synced" }, health: { status: "Degraded" } }), "Degraded"],
    ["a child whose health is known but not its sync status", app({ health: { status: "Healthy" } }), "Progressing"],
    [
      "a synced, healthy child while a new sync runs",
      app({ operationState: { phase: "Running" }, sync: { status: "Synced" }, health: { status: "Healthy" } }),
      "Progressing",
    ],
    [
      "a synced, healthy child whose last sync failed",
      app({ operationState: { phase: "Failed", message: "hook failed" }, sync: { status: "Synced" }, health: { status: "Healthy" } }),
      "Degraded",
    ],
    [
      "a child whose sync failed",
      app({ operationState: { phase: "Failed", message: "one or more objects failed to apply" }, sync: { status: "OutOfSync" }, health: { status: "Healthy" } }),
      "Degraded",
    ],
    ["a child whose sync errored", app({ operationState: { phase: "Error" }, sync: { status: "Unknown" } }), "Degraded"],
    [
      "a synced child that degraded (a failed init Job)",
      app({ operationState: { phase: "Succeeded" }, sync: { status: "Synced" }, health: { status: "Degraded", message: "Job failed" } }),
      "Degraded",
    ],
  ] as const)("%s is %s", (_what, application, expected) => {
    expect(assess(script, application as Value).status).toBe(expected);
  });

  it("says why it is waiting or degraded", () => {
    const failed = app({ operationState: { phase: "Failed", message: "one or more objects failed to apply" } });
    expect(assess(script, failed).message).toBe("one or more objects failed to apply");
    expect(assess(script, app({ operationState: { phase: "Running" } })).message).toBe("sync Running");
  });
});

describe.each(environments.map((e) => e.name))("What the bootstrap changes in the shared argocd-cm (%s)", (env) => {
  const bootstrap = join(repo, "argocd", env, "bootstrap");

  it("sets the Application health check and nothing else (resource tracking stays the admin's)", () => {
    const cm = parse(readFileSync(join(bootstrap, "argocd-cm-configmap.yaml"), "utf8"));
    expect(Object.keys(cm.data)).toEqual([healthKey]);
  });

  it.each(["argocd-cm-configmap.yaml", "kustomization.yaml"])("says so at the top of %s, where the admin reads before applying", (file) => {
    const lines = readFileSync(join(bootstrap, file), "utf8").split("\n");
    expect(lines[0]).toMatch(/^# Generated by `npm run generate`/);
    const notice = lines.slice(1, lines.findIndex((l) => !l.startsWith("#"))).join("\n");
    expect(notice).toContain("ARGO CD-WIDE CHANGE");
    expect(notice).toContain(healthKey);
    expect(notice).toContain("EVERY app of apps of this Argo CD");
    expect(notice).toContain("docs/argocd.md");
  });
});
