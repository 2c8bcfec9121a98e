// One test per row of a table (a design document's, a list of cases), titled from the row.
import { it } from "vitest";

export function eachRow<T>(rows: readonly T[], title: (row: T) => string, test: (row: T) => void): void {
  for (const row of rows) it(title(row), () => test(row));
}
