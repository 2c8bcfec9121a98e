import { createHash } from "node:crypto";

/** Short content hash: a pod-template annotation with it rolls the pods when their config changes. */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
