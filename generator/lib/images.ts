/** The tag and digest of `registry:port/name:tag@digest`; a colon before the last slash is a registry port. */
export function imageReference(image: string): { tag?: string; digest?: string } {
  const [ref = "", digest] = image.split("@");
  const colon = ref.lastIndexOf(":");
  return { ...(colon > ref.lastIndexOf("/") ? { tag: ref.slice(colon + 1) } : {}), ...(digest ? { digest } : {}) };
}
