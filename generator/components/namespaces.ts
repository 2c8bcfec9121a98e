import { Namespace } from "kubernetes-models/v1/Namespace";
import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { holdsData, recommendedLabels } from "../lib/labels.ts";

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The layer's namespaces, each enforcing the restricted Pod Security Standard. */
export function namespaces(env: Environment): Namespace[] {
  for (const [key, name] of Object.entries(env.common.namespaces)) {
    if (!dnsLabel.test(name)) {
      throw new InvalidConfig(`Namespace ${name}`, `common.namespaces.${key}`, `${JSON.stringify(name)} is not a DNS label`);
    }
  }
  return Object.values(env.common.namespaces).map((name) => restrictedNamespace(env, name, "namespace"));
}

/**
 * A Namespace whose pods must meet the restricted Pod Security Standard, pinned to the target
 * Kubernetes version (enforced, audited and warned). Never pruned nor deleted by Argo CD:
 * deleting a namespace deletes everything in it (`component` is its role, e.g. `namespace`).
 */
export function restrictedNamespace(env: Environment, name: string, component: string): Namespace {
  const pssVersion = `v${env.common.kubernetesVersion}`;
  return new Namespace({
    metadata: {
      name,
      annotations: holdsData,
      labels: {
        ...recommendedLabels(env, { app: env.common.partOf, component, instance: name }),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": pssVersion,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": pssVersion,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": pssVersion,
      },
    },
  });
}
