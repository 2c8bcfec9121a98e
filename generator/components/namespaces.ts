import { Namespace } from "kubernetes-models/v1/Namespace";
import type { Environment } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { holdsData, recommendedLabels } from "../lib/labels.ts";

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The layer's namespaces, each enforcing the restricted Pod Security Standard. */
export function namespaces(env: Environment): Namespace[] {
  const pssVersion = `v${env.common.kubernetesVersion}`;
  for (const [key, name] of Object.entries(env.common.namespaces)) {
    if (!dnsLabel.test(name)) {
      throw new InvalidConfig(`Namespace ${name}`, `common.namespaces.${key}`, `${JSON.stringify(name)} is not a DNS label`);
    }
  }
  return Object.values(env.common.namespaces).map(
    (name) =>
      new Namespace({
        metadata: {
          name,
          // Deleting a namespace deletes every volume in it.
          annotations: holdsData,
          labels: {
            ...recommendedLabels(env, { app: env.common.partOf, component: "namespace", instance: name }),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": pssVersion,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": pssVersion,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": pssVersion,
          },
        },
      }),
  );
}
