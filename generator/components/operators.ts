// The operators an environment runs, installed by Argo CD from their Helm charts (argocd/), and
// what the layer renders for their namespaces: the Namespace (restricted Pod Security Standard)
// and the NetworkPolicies of what the operators need. Which operators an environment gets follows
// from the objects its components render: a CR needs the operator that serves its API group, a
// CloudNativePG Cluster that names the Barman Cloud plugin needs the plugin, and an operator needs
// the ones it requires. What is stated here about a chart is read from that chart's version in
// config/common.ts (docs/operators.md cites the files).
import type { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { Namespace } from "kubernetes-models/v1/Namespace";
import type { Environment, HelmChart } from "../config/types.ts";
import { InvalidConfig } from "../lib/errors.ts";
import { networkPolicy, type Pods, type PolicySpec, type Rule } from "../lib/network.ts";
import type { KubeObject } from "../lib/objects.ts";
import { chartPods, cloudNativePgOperator, strimziOperator, strimziPods } from "../lib/operator-pods.ts";
import { restrictedNamespace } from "./namespaces.ts";
import { layerWide } from "./network-policies.ts";
import { barmanCloudPlugin } from "./postgres/backup.ts";
import { groupOf } from "../lib/identity.ts";

export type OperatorName = "cert-manager" | "cloudnative-pg" | "plugin-barman-cloud" | "external-secrets" | "strimzi";

export interface Operator {
  /** The Helm release, and the name of the Argo CD Application that installs it (kept equal, see argocd/). */
  readonly name: OperatorName;
  readonly chart: HelmChart;
  readonly namespace: string;
  /** The chart's values (Argo CD's `helm.valuesObject`): only what differs from the chart's defaults, or must not change. */
  readonly values: Readonly<Record<string, unknown>>;
  /** API groups of the CRDs the chart installs: a rendered object of one of them needs this operator. */
  readonly serves: readonly string[];
  /** Operators that must run before this one can (its chart renders their CRs, or it plugs into them). */
  readonly requires: readonly OperatorName[];
  /** The pods of its controller (the one that does the work), by the chart's selector labels. */
  readonly pods: Pods;
  /** The admission webhook the API server calls: its pods and their container port. */
  readonly webhook?: { readonly pods: Pods; readonly port: number };
  /** Namespaces besides its own that its chart writes into (RoleBindings of the namespaces it watches). */
  readonly watches?: readonly string[];
}

/** Argo CD's sync options on an object, read from the annotation (charts that let CRDs be annotated). */
const neverPrunedNorDeleted = { "argocd.argoproj.io/sync-options": "Prune=false,Delete=false" };

/** Every operator the layer knows, in the order their Applications are listed. */
export function operatorCatalog(env: Environment): readonly Operator[] {
  const { charts, operatorNamespaces: ns } = env.common;
  return [
    {
      name: "cert-manager",
      chart: charts.certManager,
      namespace: ns.certManager,
      values: {
        // The chart installs its CRDs only when asked; `keep` (the default, stated) makes Argo CD
        // never delete them: deleting a CRD deletes every Certificate and Issuer.
        crds: { enabled: true, keep: true },
        // Its leader-election Role would otherwise go to kube-system, outside its namespace.
        global: { leaderElection: { namespace: ns.certManager } },
      },
      serves: ["cert-manager.io", "acme.cert-manager.io"],
      requires: [],
      pods: chartPods("cert-manager", "cert-manager"),
      webhook: { pods: chartPods("webhook", "cert-manager"), port: 10250 },
    },
    {
      name: "cloudnative-pg",
      chart: charts.cloudnativePg,
      namespace: ns.cloudnativePg,
      // The chart marks its CRDs helm.sh/resource-policy: keep (Argo CD: Delete=false).
      values: { crds: { create: true } },
      serves: ["postgresql.cnpg.io"],
      requires: [],
      pods: cloudNativePgOperator(env).pods,
      webhook: { pods: cloudNativePgOperator(env).pods, port: 9443 },
    },
    {
      name: "plugin-barman-cloud",
      chart: charts.barmanCloudPlugin,
      // The plugin must run in the operator's namespace (plugin-barman-cloud docs, installation).
      namespace: ns.cloudnativePg,
      values: { crds: { create: true } },
      serves: ["barmancloud.cnpg.io"],
      // Its chart renders cert-manager Certificates (the mTLS with the operator); it plugs into CloudNativePG.
      requires: ["cert-manager", "cloudnative-pg"],
      pods: chartPods("plugin-barman-cloud", "plugin-barman-cloud"),
    },
    {
      name: "external-secrets",
      chart: charts.externalSecrets,
      namespace: ns.externalSecrets,
      // Its CRDs carry no keep policy of their own: deleting the ExternalSecret CRD would delete
      // every ExternalSecret and, with it, every Secret they own.
      values: { installCRDs: true, crds: { annotations: neverPrunedNorDeleted } },
      serves: ["external-secrets.io", "generators.external-secrets.io"],
      requires: [],
      pods: chartPods("external-secrets", "external-secrets"),
      webhook: { pods: chartPods("external-secrets-webhook", "external-secrets"), port: 10250 },
    },
    {
      name: "strimzi",
      chart: charts.strimzi,
      namespace: ns.strimzi,
      values: {
        // The chart binds the operator's Roles in each watched namespace (and its own).
        watchNamespaces: [env.common.namespaces.broker],
        // Every pod Strimzi runs for a Kafka meets the restricted Pod Security Standard (the
        // operator's own container does since 1.2.0); Connect builds are then refused.
        extraEnvs: [{ name: "STRIMZI_POD_SECURITY_PROVIDER_CLASS", value: "restricted" }],
        // The layer writes every NetworkPolicy itself: Strimzi's own would open the client listener
        // to every namespace, invisibly to `npm run policy`.
        generateNetworkPolicy: false,
      },
      // Its CRDs: Kafka, KafkaNodePool, KafkaTopic, KafkaUser, ... and StrimziPodSet (core.strimzi.io).
      serves: ["kafka.strimzi.io", "core.strimzi.io"],
      requires: [],
      pods: strimziOperator(env).pods,
      // No admission webhook (every CRD converts with strategy None).
      watches: [env.common.namespaces.broker],
    },
  ];
}


/** Whether a CloudNativePG object names the plugin: a Cluster's plugins, a recovery source, a backup's method. */
function namesPlugin(o: KubeObject, plugin: string): boolean {
  if (groupOf(o) !== "postgresql.cnpg.io") return false;
  const spec = (o.toJSON() as { spec?: Record<string, any> }).spec ?? {};
  return [
    ...(spec.plugins ?? []).map((p: { name?: string }) => p.name),
    ...(spec.externalClusters ?? []).map((c: { plugin?: { name?: string } }) => c.plugin?.name),
    spec.pluginConfiguration?.name,
  ].includes(plugin);
}

/** The operators `objects` need, with the operators those require, in catalog order. */
export function operatorsUsed(env: Environment, objects: readonly KubeObject[]): Operator[] {
  const catalog = operatorCatalog(env);
  const groups = new Set(objects.map(groupOf));
  const used = new Set<OperatorName>();
  const use = (name: OperatorName): void => {
    if (used.has(name)) return;
    used.add(name);
    catalog.find((o) => o.name === name)!.requires.forEach(use);
  };
  for (const operator of catalog) {
    if (operator.serves.some((g) => groups.has(g))) use(operator.name);
  }
  if (objects.some((o) => namesPlugin(o, barmanCloudPlugin))) use("plugin-barman-cloud");
  return catalog.filter((o) => used.has(o.name));
}

const postgresPort = 5432;
// CloudNativePG's instance manager: status and control (TLS) on every instance pod (CloudNativePG security.md).
const instanceStatusPort = 8000;
// The plugin's gRPC port (CNPG-I), behind its Service (plugin-barman-cloud chart, service.yaml).
const barmanCloudPluginPort = 9090;

/** The rendered CloudNativePG Clusters' instance pods, by the labels the operator gives them. */
function clusterInstances(objects: readonly KubeObject[]) {
  return objects
    .filter((o) => groupOf(o) === "postgresql.cnpg.io" && o.kind === "Cluster")
    .map((c) => ({
      namespace: c.metadata?.namespace ?? "",
      pods: { matchLabels: { "cnpg.io/cluster": c.metadata?.name ?? "", "cnpg.io/podRole": "instance" } },
    }));
}

// The Kafka nodes' ports besides the clients' (Strimzi KafkaCluster.java, CruiseControl.java, 1.2.0).
const strimziPorts = { controlPlane: 9090, replication: 9091, agent: 8443, cruiseControl: 9090 } as const;

/** The rendered Strimzi Kafkas, by namespace and name. */
function kafkaClusters(objects: readonly KubeObject[]) {
  return objects
    .filter((o) => groupOf(o) === "kafka.strimzi.io" && o.kind === "Kafka")
    .map((k) => ({ namespace: k.metadata?.namespace ?? "", name: k.metadata?.name ?? "" }));
}

function ipv4Cidr(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

/** Egress to address blocks of config on some ports; a block that is not IPv4 CIDR is bad config. */
function egressTo(object: string, field: string, cidrs: readonly string[], ports: readonly number[]): Rule {
  if (cidrs.length === 0) throw new InvalidConfig(object, field, "lists no address: the operators could not reach it");
  cidrs.forEach((cidr, i) => {
    if (!ipv4Cidr(cidr)) throw new InvalidConfig(object, `${field}[${i}]`, `${JSON.stringify(cidr)} is not an IPv4 CIDR block (a.b.c.d/n)`);
  });
  return { peers: cidrs.map((cidr) => ({ cidr })), ports };
}

/** What the operators of one namespace need, as NetworkPolicy specs. */
function policySpecs(env: Environment, namespace: string, operators: readonly Operator[], objects: readonly KubeObject[]): PolicySpec[] {
  const here = operators.filter((o) => o.namespace === namespace);
  const running = (name: OperatorName) => here.find((o) => o.name === name);
  const cnpg = running("cloudnative-pg");
  const plugin = running("plugin-barman-cloud");
  const eso = running("external-secrets");
  const strimzi = running("strimzi");
  const instances = clusterInstances(objects);
  const kafkas = kafkaClusters(objects);
  const apiServer = "allow-api-server";
  return [
    ...layerWide(namespace),
    {
      // Every operator pod watches and writes through the API server.
      name: apiServer,
      namespace,
      egress: [egressTo(`NetworkPolicy ${namespace}/${apiServer}`, "apiServer.cidrs", env.apiServer.cidrs, env.apiServer.ports)],
    },
    // The API server calls each admission webhook. It is no pod, and its source address depends on
    // the cluster (control-plane hosts, a konnectivity tunnel): only the webhook's port is pinned.
    ...here.flatMap((o) =>
      o.webhook ? [{ name: `allow-${o.name}-webhook`, namespace, pods: o.webhook.pods, ingress: [{ peers: "anywhere" as const, ports: [o.webhook.port] }] }] : [],
    ),
    ...(cnpg && instances.length
      ? [{
          // The operator manages each instance through its instance manager and connects to PostgreSQL.
          name: "allow-cloudnative-pg-to-instances",
          namespace,
          pods: cnpg.pods,
          egress: instances.map((peer) => ({ peers: [peer], ports: [instanceStatusPort, postgresPort] })),
        }]
      : []),
    ...(cnpg && plugin
      ? [
          {
            name: "allow-cloudnative-pg-to-plugin",
            namespace,
            pods: cnpg.pods,
            egress: [{ peers: [{ namespace, pods: plugin.pods }], ports: [barmanCloudPluginPort] }],
          },
          {
            name: "allow-plugin-barman-cloud-from-cloudnative-pg",
            namespace,
            pods: plugin.pods,
            ingress: [{ peers: [{ namespace, pods: cnpg.pods }], ports: [barmanCloudPluginPort] }],
          },
        ]
      : []),
    ...(strimzi && kafkas.length
      ? [{
          // The operator rolls and reconfigures the Kafka nodes: KRaft (controllers), its admin client
          // (brokers, mTLS), the Kafka agent's broker state (8443), and Cruise Control's API.
          name: "allow-strimzi-to-kafka",
          namespace,
          pods: strimzi.pods,
          egress: kafkas.flatMap(({ namespace: at, name }) => {
            const pods = strimziPods(name);
            return [
              { peers: [{ namespace: at, pods: pods.controllers }], ports: [strimziPorts.controlPlane, strimziPorts.agent] },
              { peers: [{ namespace: at, pods: pods.brokers }], ports: [strimziPorts.replication, strimziPorts.agent] },
              { peers: [{ namespace: at, pods: pods.cruiseControl }], ports: [strimziPorts.cruiseControl] },
            ];
          }),
        }]
      : []),
    ...(eso && env.secrets.kind === "external-secrets"
      ? [{
          name: "allow-external-secrets-to-store",
          namespace,
          pods: eso.pods,
          egress: [
            egressTo(`NetworkPolicy ${namespace}/allow-external-secrets-to-store`, "secrets.endpoint.cidrs", env.secrets.endpoint.cidrs, [env.secrets.endpoint.port]),
          ],
        }]
      : []),
  ];
}

/** The operators' namespaces: each a restricted Namespace with its NetworkPolicies. */
export function operatorNamespaceObjects(env: Environment, operators: readonly Operator[], objects: readonly KubeObject[]): (Namespace | NetworkPolicy)[] {
  const namespaces = [...new Set(operators.map((o) => o.namespace))];
  return namespaces.flatMap((namespace) => [
    restrictedNamespace(env, namespace, "operator-namespace"),
    ...policySpecs(env, namespace, operators, objects).map((spec) => networkPolicy(env, spec)),
  ]);
}
