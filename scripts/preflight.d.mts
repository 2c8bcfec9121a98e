// scripts/preflight.mjs exports nothing: importing it runs its checks.
export {};
