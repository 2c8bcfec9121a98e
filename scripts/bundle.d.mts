// scripts/bundle.mjs: a command's entry run from its cached bundle.
export function runBundled(entryUrl: string): Promise<void>;
