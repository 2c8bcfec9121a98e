// What the API server rejects although a JSON schema cannot say it (its validation code in
// pkg/apis/core/validation and pkg/apis/apps/validation): a request above its limit, negative
// replicas, a workload whose selector misses its own pods, a Service with a port twice. `npm run
// validate` runs this family next to the schemas, so it rejects what a cluster would.
import { type LabelSelector, selectsPod } from "../../generator/lib/reachability.ts";
import { containersOfManifest, type Manifest, type Rule, type Violation } from "../engine.ts";
import { quantityValue } from "../quantity.ts";

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> };

const show = (labels: object | undefined) =>
  Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "(none)";

/** A workload's selector as a LabelSelector (a ReplicationController's is a plain label map). */
function workloadSelector(m: Manifest): LabelSelector | undefined {
  const selector = (m.spec as { selector?: Record<string, unknown> } | undefined)?.selector;
  if (!selector) return undefined;
  return m.kind === "ReplicationController" ? { matchLabels: selector as Record<string, string> } : (selector as LabelSelector);
}

// Kinds whose selector must match their pod template; a Job's is generated unless manualSelector.
const selectingWorkloads = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"]);

export const apiRules: Rule[] = [
  {
    id: "api/requests-within-limits",
    severity: "error",
    description: "No container requests more of a resource than its limit (the API server refuses it).",
    fix: "lower the request or raise the limit (generator/config: the component's resources)",
    check: (m) =>
      containersOfManifest(m).flatMap(({ container, path }) => {
        const { requests = {}, limits = {} } = (container.resources ?? {}) as Resources;
        return Object.entries(requests).flatMap(([resource, request]): Violation[] => {
          const [asked, limit] = [quantityValue(request), quantityValue(limits[resource])];
          if (asked === undefined || limit === undefined || asked <= limit) return [];
          return [{ path: `${path}.resources.requests.${resource}`, message: `container ${container.name} requests ${request} ${resource}, more than its limit ${limits[resource]}` }];
        });
      }),
  },
  {
    id: "api/replicas-non-negative",
    severity: "error",
    description: "spec.replicas is never negative (the API server refuses it).",
    fix: "set a replica count of 0 or more (generator/config: the component's replicas)",
    check: (m) => {
      const replicas = (m.spec as { replicas?: unknown } | undefined)?.replicas;
      return typeof replicas === "number" && replicas < 0 ? [{ path: "spec.replicas", message: `${m.kind} ${m.metadata?.name} has ${replicas} replicas` }] : [];
    },
  },
  {
    id: "api/selector-matches-template",
    severity: "error",
    description: "A workload's selector is not empty and selects its own pod template (the API server refuses it otherwise).",
    fix: "select the pods by the labels the template carries (generator/lib/objects.ts builds both from one role)",
    check: (m) => {
      const spec = m.spec as { manualSelector?: boolean; template?: { metadata?: { labels?: Record<string, string> } } } | undefined;
      const selector = workloadSelector(m);
      if (!selectingWorkloads.has(m.kind) || !selector || !spec?.template) return [];
      if (m.kind === "Job" && spec.manualSelector !== true) return [];
      const labels = spec.template.metadata?.labels ?? {};
      if (Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions?.length ?? 0) === 0) {
        return [{ path: "spec.selector", message: `${m.kind} ${m.metadata?.name} has an empty selector, which would select every pod of its namespace` }];
      }
      return selectsPod(selector, labels)
        ? []
        : [{ path: "spec.template.metadata.labels", message: `the selector (${show(selector.matchLabels)}${selector.matchExpressions?.length ? " and expressions" : ""}) does not select the template's labels (${show(labels)})` }];
    },
  },
  {
    id: "api/service-ports-unique",
    severity: "error",
    description: "A Service lists each port and protocol once, and names every port when it has several (the API server refuses it otherwise).",
    fix: "give each Service port its own number and a unique name (the component's Service in generator/components)",
    check: (m) => {
      if (m.kind !== "Service") return [];
      const ports = ((m.spec as { ports?: { name?: string; port?: number; protocol?: string }[] } | undefined)?.ports ?? []);
      return ports.flatMap((p, i): Violation[] => {
        const first = ports.findIndex((q) => q.port === p.port && (q.protocol ?? "TCP") === (p.protocol ?? "TCP"));
        const named = p.name ? ports.findIndex((q) => q.name === p.name) : i;
        return [
          ...(first < i ? [{ path: `spec.ports[${i}]`, message: `port ${p.port}/${p.protocol ?? "TCP"} is listed again (first at spec.ports[${first}])` }] : []),
          ...(named < i ? [{ path: `spec.ports[${i}].name`, message: `port name ${p.name} is used again (first at spec.ports[${named}])` }] : []),
          ...(ports.length > 1 && !p.name ? [{ path: `spec.ports[${i}].name`, message: `port ${p.port} has no name, which a Service with several ports requires` }] : []),
        ];
      });
    },
  },
];
