// A short line diff for the drift check: enough context to see what changed, never the whole file.

/** Lines removed (`-`) and added (`+`) between two texts, with one line of context, at most `limit` lines. */
export function shortDiff(before: string, after: string, limit = 12): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  // Longest common subsequence table; generated files are a few hundred lines at most.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: { sign: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ sign: " ", line: a[i++]! }), j++;
    else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ sign: "+", line: b[j++]! });
    else ops.push({ sign: "-", line: a[i++]! });
  }
  const keep = ops.map((op, k) => op.sign !== " " || ops[k - 1]?.sign !== " " && k > 0 || ops[k + 1]?.sign !== undefined && ops[k + 1]?.sign !== " ");
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (keep[k]) out.push(`${op.sign} ${op.line}`);
  });
  return out.length > limit ? [...out.slice(0, limit), `  … ${out.length - limit} more line(s)`] : out;
}
