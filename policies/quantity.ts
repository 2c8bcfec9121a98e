// Kubernetes resource quantities (`500m`, `1.5`, `2Gi`, `1e3`, `128974848`) as numbers, the way
// the API server compares them (k8s.io/apimachinery/pkg/api/resource): binary suffixes are powers
// of 1024, decimal suffixes (and exponents) powers of 1000.

const suffixes: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};

/** The value of a quantity, or undefined when it is not one. */
export function quantityValue(quantity: unknown): number | undefined {
  if (typeof quantity === "number") return Number.isFinite(quantity) ? quantity : undefined;
  if (typeof quantity !== "string") return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(quantity);
  if (!m) return undefined;
  const number = Number(m[1]);
  return m[2] !== undefined ? number * 10 ** Number(m[2].slice(1)) : number * suffixes[m[3] ?? ""]!;
}
