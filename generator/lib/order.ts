// Sorting for output that must be the same on every machine: by code point, never by locale.

/** Compares two strings by code point (what `localeCompare` is not). */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
