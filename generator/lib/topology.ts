// The vocabulary of the layer's topology: Secrets, pod roles and DNS names. Each component defines
// its own names with these and offers what others need through its contract (components/contracts.ts).

/** A Secret key the layer reads but never writes (an operator or the External Secrets Operator makes it). */
export interface SecretRef {
  readonly name: string;
  readonly key: string;
  /** What the key must hold, for docs/secrets.md. */
  readonly holds: string;
  /** The Secret's type when its reader requires one (`kubernetes.io/basic-auth`); Opaque otherwise. */
  readonly type?: string;
  /** Labels the Secret must carry for its reader (`cnpg.io/reload`: CloudNativePG applies a change at once). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What a pod is (`app.kubernetes.io/name` and `/component`): the labels its selectors use. */
export interface PodRole {
  readonly app: string;
  readonly component: string;
}

/** `<service>.<namespace>.svc.<domain>` */
export function serviceHost(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}

/** Stable DNS name of one StatefulSet pod behind its headless Service. */
export function podHost(
  statefulSet: string,
  ordinal: number,
  headless: string,
  namespace: string,
  clusterDomain: string,
): string {
  return `${statefulSet}-${ordinal}.${serviceHost(headless, namespace, clusterDomain)}`;
}

/** Ordinals 0..count-1 of a StatefulSet. */
export function ordinals(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
