// fengari ships no types; these are the few Lua C-API calls the tests use.
declare module "fengari" {
  type State = unknown;
  export const lua: {
    lua_newtable(L: State): void;
    lua_pushstring(L: State, s: Uint8Array): void;
    lua_pushnumber(L: State, n: number): void;
    lua_pushboolean(L: State, b: boolean): void;
    lua_pushnil(L: State): void;
    lua_setfield(L: State, index: number, key: Uint8Array): void;
    lua_rawseti(L: State, index: number, i: number): void;
    lua_setglobal(L: State, name: Uint8Array): void;
    lua_getfield(L: State, index: number, key: Uint8Array): number;
    lua_tojsstring(L: State, index: number): string;
    lua_pop(L: State, n: number): void;
    lua_gettop(L: State): number;
  };
  export const lauxlib: { luaL_newstate(): State; luaL_dostring(L: State, s: Uint8Array): number };
  export const lualib: { luaL_openlibs(L: State): void };
  export function to_luastring(s: string): Uint8Array;
}
