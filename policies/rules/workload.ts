// What every container of the layer must declare: resources, a pinned image, and (when it runs
// for good) the probes Kubernetes needs to route to it and restart it.
import { imageReference } from "../../generator/lib/images.ts";
import { type Container, containersOfManifest, type Manifest, type Rule } from "../engine.ts";

const longRunning = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Pooler"]);

const resourceKeys = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;

function missingResources(c: Container): string[] {
  const r = (c.resources ?? {}) as { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  return resourceKeys.filter((key) => {
    const [kind, name] = key.split(".") as ["requests" | "limits", string];
    return r[kind]?.[name] === undefined;
  });
}

export const workloadRules: Rule[] = [
  {
    id: "workload/resources",
    severity: "error",
    description: "Every container declares CPU and memory requests and limits.",
    fix: "set resources.requests.cpu/memory and resources.limits.cpu/memory (generator/config: the component's resources)",
    check: (m: Manifest) =>
      containersOfManifest(m)
        .filter(({ kind }) => kind !== "ephemeralContainers")
        .flatMap(({ container, path }) => {
          const missing = missingResources(container);
          return missing.length ? [{ path: `${path}.resources`, message: `container ${container.name} has no ${missing.join(", ")}` }] : [];
        }),
  },
  {
    id: "workload/image-pinned",
    severity: "error",
    description: "Every image is pinned to a version: a tag other than latest, or a digest.",
    fix: "pin the image to a release tag (generator/config/common.ts: images)",
    check: (m: Manifest) =>
      containersOfManifest(m).flatMap(({ container, path }) => {
        const { tag, digest } = imageReference(String(container.image ?? ""));
        if (digest) return [];
        if (tag === undefined) return [{ path: `${path}.image`, message: `container ${container.name} runs ${container.image} with no tag` }];
        if (tag === "latest") return [{ path: `${path}.image`, message: `container ${container.name} runs ${container.image}: latest is not a version` }];
        return [];
      }),
  },
  {
    id: "workload/probes",
    severity: "error",
    description: "Every long-running container has a readiness and a liveness probe.",
    fix: "add readinessProbe and livenessProbe suited to the server (generator/lib/pod.ts has the builders)",
    check: (m: Manifest) => {
      if (!longRunning.has(m.kind)) return [];
      // Regular containers, and init containers that run as sidecars (restartPolicy: Always).
      return containersOfManifest(m)
        .filter(({ kind, container }) => kind === "containers" || (kind === "initContainers" && container.restartPolicy === "Always"))
        .flatMap(({ container, path }) =>
          (["readinessProbe", "livenessProbe"] as const)
            .filter((probe) => container[probe] === undefined)
            .map((probe) => ({ path: `${path}.${probe}`, message: `container ${container.name} has no ${probe}` })),
        );
    },
  },
];
