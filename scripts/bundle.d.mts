// scripts/bundle.mjs: a command's entry imported from its cached bundle.
export function importBundled(entryUrl: string): Promise<unknown>;
