import { InvalidConfig } from "../lib/errors.ts";

/**
 * The implementation of a component for the kind its config names. A kind no implementation has
 * (an environment file that was never type-checked) is bad config, wherever the contract is asked for.
 */
export function implementationOf<T>(implementations: Readonly<Record<string, T>>, kind: string, field: string): T {
  const found = Object.hasOwn(implementations, kind) ? implementations[kind] : undefined;
  if (found === undefined) {
    throw new InvalidConfig("(config)", field, `${JSON.stringify(kind)} is not one of ${Object.keys(implementations).join(", ")}`);
  }
  return found;
}
