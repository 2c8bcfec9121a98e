// Every name an object refers to exists among the checked manifests and fits what refers to it,
// in the style of kosko's reference lint rules: a Service or PodDisruptionBudget selects pods, a
// named port is declared, a ConfigMap and its keys are defined, a StatefulSet's governing Service
// is headless and selects its pods. Secrets are never in the manifests: a reference to one is
// checked against the Secrets the components declare in their contracts (`secretsRead`, the
// source of docs/secrets.md). These break at run time, not at apply time.
import { secretsRead } from "../../generator/components/index.ts";
import { secretReferences } from "../../generator/lib/secret-references.ts";
import { environments } from "../../generator/config/environments.ts";
import { type LabelSelector, selectsPod } from "../../generator/lib/reachability.ts";
import { type Container, containersOf, type Manifest, objectName, podSpecOf, type Rule, type RuleContext, servingPodsOf, type Source, type Violation } from "../engine.ts";

/** Pods some checked manifest runs: a pod template's, or those an operator runs for its resource. */
interface PodsRun {
  readonly source: Source;
  /** `StatefulSet nx-broker/nx-redis`, `Cluster nx-persistent/nx-postgresql (primary)`. */
  readonly what: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The container ports the pods declare (an operator's, as generator/lib/operator-pods.ts models them). */
  readonly ports: readonly { readonly name?: string; readonly containerPort?: number }[];
}

const namespaceOf = (m: Manifest) => m.metadata?.namespace ?? "";

function podsRun(context: RuleContext): PodsRun[] {
  return context.all.flatMap((source): PodsRun[] => {
    const m = source.manifest;
    const pod = podSpecOf(m);
    if (pod) {
      const ports = containersOf(pod).filter((c) => c.kind === "containers").flatMap((c) => (c.container.ports as PodsRun["ports"] | undefined) ?? []);
      return [{ source, what: objectName(m), namespace: namespaceOf(m), labels: { ...pod.metadata?.labels }, ports }];
    }
    return servingPodsOf(m).map((p) => ({ source, what: p.what, namespace: namespaceOf(m), labels: p.labels, ports: p.ports ?? [] }));
  });
}

/** The label selector of an object that selects pods: a Service's plain map, a PodDisruptionBudget's LabelSelector. */
function podSelector(m: Manifest): LabelSelector | undefined {
  const spec = m.spec as { selector?: Record<string, unknown>; type?: string } | undefined;
  if (m.kind === "Service") {
    // A Service without a selector has its endpoints managed by someone else.
    return spec?.selector && Object.keys(spec.selector).length > 0 && spec.type !== "ExternalName" ? { matchLabels: spec.selector as Record<string, string> } : undefined;
  }
  if (m.kind === "PodDisruptionBudget") return (spec?.selector as LabelSelector | undefined) ?? undefined;
  return undefined;
}

const selected = (context: RuleContext, m: Manifest, selector: LabelSelector) =>
  podsRun(context).filter((p) => p.namespace === namespaceOf(m) && selectsPod(selector, p.labels));

const describeSelector = (s: LabelSelector) =>
  [...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`), ...(s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator} ${e.values?.join("|") ?? ""}`.trim())].join(",") || "everything";

const declaredPortNames = (c: Container) => ((c.ports as { name?: string }[] | undefined) ?? []).flatMap((p) => (p.name ? [p.name] : []));
/** Whether ports declare `port`: by name, or by number (a Service's numbered targetPort, a probe's port). */
const declares = (ports: PodsRun["ports"], port: unknown) => ports.some((p) => (typeof port === "string" ? p.name === port : p.containerPort === port));

/** Calls `visit` with every object nested in `value` and its field path. */
function walk(value: unknown, path: string, visit: (o: Record<string, unknown>, path: string) => void): void {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  else if (value && typeof value === "object") {
    visit(value as Record<string, unknown>, path);
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, visit);
  }
}

interface Reference {
  readonly kind: "ConfigMap" | "Secret";
  readonly name: string;
  /** Keys the reference reads; none when it reads them all (envFrom, a whole volume). */
  readonly keys: readonly string[];
  readonly path: string;
}

/** Every ConfigMap and Secret a pod reads (env, envFrom, volumes, projected volumes), unless optional. */
function referencesOf(m: Manifest): Reference[] {
  const pod = podSpecOf(m);
  if (!pod) return [];
  const refs: Reference[] = [];
  walk(pod.spec, pod.path, (o, path) => {
    const pick = (kind: Reference["kind"], field: string, nameField: string, keysOf: (r: Record<string, any>) => string[]) => {
      const r = o[field] as Record<string, any> | undefined;
      if (r && typeof r[nameField] === "string" && r.optional !== true) refs.push({ kind, name: r[nameField], keys: keysOf(r), path: `${path}.${field}` });
    };
    const items = (r: Record<string, any>) => ((r.items as { key: string }[] | undefined) ?? []).map((i) => i.key);
    pick("ConfigMap", "configMapKeyRef", "name", (r) => [r.key]);
    pick("Secret", "secretKeyRef", "name", (r) => [r.key]);
    pick("ConfigMap", "configMapRef", "name", () => []);
    pick("Secret", "secretRef", "name", () => []);
    pick("ConfigMap", "configMap", "name", items);
    // A volume names its Secret `secretName`, a projected volume's source `name`.
    pick("Secret", "secret", /sources\[\d+\]$/.test(path) ? "name" : "secretName", items);
  });
  return refs;
}

function configMapViolations(m: Manifest, context: RuleContext): Violation[] {
  return referencesOf(m)
    .filter((r) => r.kind === "ConfigMap")
    .flatMap((r): Violation[] => {
      const target = context.all.find((s) => s.manifest.kind === "ConfigMap" && s.manifest.metadata?.name === r.name && namespaceOf(s.manifest) === namespaceOf(m));
      if (!target) return [{ path: r.path, message: `reads ConfigMap ${namespaceOf(m)}/${r.name}, which no checked manifest defines` }];
      const data = { ...(target.manifest.data as object | undefined), ...(target.manifest.binaryData as object | undefined) };
      const missing = r.keys.filter((k) => !(k in data));
      return missing.length ? [{ path: r.path, message: `reads key ${missing.join(", ")} of ConfigMap ${namespaceOf(m)}/${r.name}, which has only ${Object.keys(data).join(", ") || "no keys"}` }] : [];
    });
}

/** Every Secret key some environment's components declare. */
const declaredSecrets = environments.flatMap((env) => secretsRead(env).flatMap((r) => r.secrets));

function secretViolations(m: Manifest): Violation[] {
  return referencesOf(m)
    .filter((r) => r.kind === "Secret")
    .flatMap((r): Violation[] => {
      const documented = [...new Set(declaredSecrets.filter((s) => s.name === r.name).map((s) => s.key))];
      if (documented.length === 0) return [{ path: r.path, message: `reads Secret ${r.name}, which the layer does not document (docs/secrets.md)` }];
      const missing = r.keys.filter((k) => !documented.includes(k));
      return missing.length ? [{ path: r.path, message: `reads key ${missing.join(", ")} of Secret ${r.name}, whose documented keys are ${documented.join(", ")}` }] : [];
    });
}

/**
 * The Secrets an environment's manifests render, as `namespace/name`: Secret objects and what each
 * ExternalSecret writes (its target, by default its own name). Undefined where they render none:
 * there an operator creates every Secret by hand (secret-documented holds the list).
 */
const renderedSecrets = new WeakMap<readonly Source[], Set<string> | undefined>();
function secretsRendered(context: RuleContext): Set<string> | undefined {
  if (!renderedSecrets.has(context.all)) {
    const names = context.all.flatMap(({ manifest: m }) => {
      if (m.kind === "Secret") return [`${namespaceOf(m)}/${m.metadata?.name}`];
      if (m.kind !== "ExternalSecret") return [];
      const target = (m.spec as { target?: { name?: string } } | undefined)?.target?.name;
      return [`${namespaceOf(m)}/${target ?? m.metadata?.name}`];
    });
    renderedSecrets.set(context.all, names.length > 0 ? new Set(names) : undefined);
  }
  return renderedSecrets.get(context.all);
}

/** The Secrets an object reads: a pod's (optional ones left out), an operator resource's (generator/lib/secret-references.ts). */
const secretsReadBy = (m: Manifest): { name: string; path: string }[] =>
  podSpecOf(m)
    ? referencesOf(m).filter((r) => r.kind === "Secret").map((r) => ({ name: r.name, path: r.path }))
    : secretReferences(m).map((r) => ({ name: r.name, path: r.field }));

const probes = ["startupProbe", "readinessProbe", "livenessProbe"] as const;

export const referenceRules: Rule[] = [
  {
    id: "references/selects-pods",
    severity: "error",
    description: "A Service or PodDisruptionBudget selects at least one pod of the checked manifests in its namespace: a pod template's, or one an operator runs for its resource.",
    fix: "select the pods by their app.kubernetes.io/name and /component labels (lib/labels.ts selectorLabels of the role)",
    check: (m, context) => {
      const selector = podSelector(m);
      if (!selector || selected(context, m, selector).length > 0) return [];
      return [{ path: "spec.selector", message: `${objectName(m)} selects ${describeSelector(selector)}: no pod of the checked manifests in ${namespaceOf(m)} carries these labels` }];
    },
  },
  {
    id: "references/service-target-port",
    severity: "error",
    description: "Every port a Service targets (by name, or by number: its targetPort, else its port) is declared by the containers of every pod it selects.",
    fix: "declare the port in the containers the Service selects, or target one they declare",
    check: (m, context) => {
      const selector = podSelector(m);
      if (m.kind !== "Service" || !selector) return [];
      const ports = (m.spec as { ports?: { port?: number; targetPort?: unknown }[] }).ports ?? [];
      return ports.flatMap((p, i) => {
        const target = p.targetPort ?? p.port;
        return selected(context, m, selector)
          .filter((pods) => !declares(pods.ports, target))
          .map((pods) => ({ path: `spec.ports[${i}]${p.targetPort === undefined ? ".port" : ".targetPort"}`, message: `targets port ${target}, which no container of ${pods.what} declares` }));
      });
    },
  },
  {
    id: "references/probe-port-declared",
    severity: "error",
    description: "A probe's port (by name or number) is one its container declares.",
    fix: "declare the port in the container's ports, or probe one it declares (generator/lib/pod.ts probes)",
    check: (m) => {
      const pod = podSpecOf(m);
      if (!pod) return [];
      return containersOf(pod).flatMap(({ container, path }) =>
        probes.flatMap((probe) => {
          const handler = container[probe] as Record<string, { port?: unknown } | undefined> | undefined;
          return (["httpGet", "tcpSocket", "grpc"] as const).flatMap((action) => {
            const port = handler?.[action]?.port;
            if (port === undefined) return [];
            return declares((container.ports as PodsRun["ports"] | undefined) ?? [], port) ? [] : [{ path: `${path}.${probe}.${action}.port`, message: `container ${container.name} probes port ${port}, which it does not declare (ports: ${declaredPortNames(container).join(", ") || "none"})` }];
          });
        }),
      );
    },
  },
  {
    id: "references/configmap-defined",
    severity: "error",
    description: "Every ConfigMap (and key) a pod mounts or reads is defined by the checked manifests, in the pod's namespace.",
    fix: "render the ConfigMap in the same component (lib/objects.ts configMap) or mark the reference optional",
    check: configMapViolations,
  },
  {
    id: "references/secret-documented",
    severity: "error",
    description: "Every Secret (and key) a pod reads is one the layer documents for operators to create (docs/secrets.md).",
    fix: "add the Secret and key to generator/lib/topology.ts (secretRefs, with what it holds) and reference it through secretEnv",
    check: secretViolations,
  },
  {
    id: "references/secret-rendered",
    severity: "error",
    description: "Where the layer renders Secrets (through External Secrets), every Secret an object reads, by env, envFrom, volume or an operator's field, is rendered in its namespace, unless the reference is optional.",
    fix: "declare the Secret in the reading component's contract (`secrets`), so external-secrets.ts writes its ExternalSecret in the reader's namespace",
    check: (m, context) => {
      const rendered = secretsRendered(context);
      if (!rendered) return [];
      return secretsReadBy(m)
        .filter((r) => !rendered.has(`${namespaceOf(m)}/${r.name}`))
        .map((r) => ({ path: r.path, message: `reads Secret ${namespaceOf(m)}/${r.name}, which no ExternalSecret or Secret of the checked manifests renders in ${namespaceOf(m)}` }));
    },
  },
  {
    id: "references/statefulset-service",
    severity: "error",
    description: "A StatefulSet's serviceName names a headless Service of its namespace that selects its pods (their stable DNS names).",
    fix: "render the headless Service (lib/objects.ts service with headless: true) with the StatefulSet's selector labels",
    check: (m, context) => {
      const name = (m.spec as { serviceName?: string } | undefined)?.serviceName;
      if (m.kind !== "StatefulSet" || !name) return [];
      const service = context.all.find((s) => s.manifest.kind === "Service" && s.manifest.metadata?.name === name && namespaceOf(s.manifest) === namespaceOf(m));
      const spec = service?.manifest.spec as { clusterIP?: string; selector?: Record<string, string> } | undefined;
      const labels = (m.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {};
      const problem = !service
        ? "no checked manifest defines it"
        : spec?.clusterIP !== "None"
          ? "it is not headless (clusterIP: None)"
          : !spec.selector || !selectsPod({ matchLabels: spec.selector }, labels)
            ? "it does not select the StatefulSet's pods"
            : undefined;
      return problem ? [{ path: "spec.serviceName", message: `governing Service ${namespaceOf(m)}/${name}: ${problem}` }] : [];
    },
  },
];
