// The rules that catch what schemas cannot: what the API server refuses (api), names that point
// nowhere (references) and credentials written as literals (secrets). Each is shown a set of
// manifests that breaks it, naming the object and field, and the same set whole, which passes.
import { describe, expect, it } from "vitest";
import { familyOf, type Manifest, runPolicies } from "../policies/engine.ts";
import { quantityValue } from "../policies/quantity.ts";
import { rules } from "../policies/rules/index.ts";

const judged = rules.filter((r) => ["api", "references", "secrets"].includes(familyOf(r.id)));
const ns = "nx-broker";
const role = { "app.kubernetes.io/name": "db", "app.kubernetes.io/component": "server" };

/** A StatefulSet with its headless and client Services, ConfigMap and PodDisruptionBudget: all correct. */
function layer(): Manifest[] {
  return [
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: ns },
      spec: {
        serviceName: "db-headless",
        replicas: 3,
        selector: { matchLabels: role },
        template: {
          metadata: { labels: { ...role, "app.kubernetes.io/version": "7" } },
          spec: {
            containers: [
              {
                name: "server",
                image: "redis:7-alpine",
                command: ["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-server --port 6379'],
                args: ["--requirepass", "$(REDIS_PASSWORD)", "--api-key=$(REDIS_PASSWORD)"],
                ports: [{ name: "redis", containerPort: 6379 }, { name: "bus", containerPort: 16379 }],
                env: [
                  { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "nx-redis-secret", key: "REDIS_PASSWORD" } } },
                  { name: "MODE", valueFrom: { configMapKeyRef: { name: "db-config", key: "mode" } } },
                  { name: "POSTGRES_PASSWORD_FILE", value: "/run/secrets/password" },
                  { name: "JAAS", value: 'ScramLoginModule required username="u" password="$(REDIS_PASSWORD)";' },
                ],
                resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "1", memory: "1024Mi" } },
                readinessProbe: { tcpSocket: { port: "redis" } },
                livenessProbe: { tcpSocket: { port: 6379 } },
                volumeMounts: [{ name: "config", mountPath: "/config" }],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "db-config", items: [{ key: "redis.conf", path: "redis.conf" }] } },
              { name: "jaas", secret: { secretName: "nx-kafka-jaas", items: [{ key: "kafka_server_jaas.conf", path: "jaas.conf" }] } },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db-headless", namespace: ns },
      spec: { clusterIP: "None", selector: role, ports: [{ name: "redis", port: 6379, targetPort: "redis" }, { name: "bus", port: 16379, targetPort: "bus" }] },
    },
    { apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: ns }, spec: { selector: role, ports: [{ name: "redis", port: 6379, targetPort: "redis" }] } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "db-config", namespace: ns },
      data: {
        mode: "cluster",
        "redis.conf": 'masterauth ${REDIS_PASSWORD}\npassword_encryption=scram-sha-256\nauth_type = scram-sha-256\n"database.password": "${env:DB_PASSWORD}"\nALTER ROLE app PASSWORD :\'app_password\';\nurl = postgresql://app@db:5432/app\n',
      },
    },
    { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "db", namespace: ns }, spec: { maxUnavailable: 1, selector: { matchLabels: role } } },
  ];
}

type Edit = (objects: Record<string, any>) => void;

/** The findings of the judged rules, as `rule @ path: message`, after an edit of the named objects. */
function findings(edit?: Edit): string[] {
  // A JSON copy: the objects share no label maps, so an edit changes only the object it names.
  const objects = JSON.parse(JSON.stringify(layer())) as Manifest[];
  const byName = Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
  edit?.(byName);
  return runPolicies(judged, objects.map((manifest) => ({ manifest, file: "t.yaml" })), []).findings.map(
    (f) => `${f.rule} ${f.object} @ ${f.path}: ${f.message}`,
  );
}

const sts = (o: Record<string, any>) => o["StatefulSet/db"];
const container = (o: Record<string, any>) => sts(o).spec.template.spec.containers[0];
const at = "spec.template.spec.containers[0]";

describe("the judged rules", () => {
  it("find nothing wrong in a correct set, scripts and configs that only reference credentials included", () => {
    expect(findings()).toEqual([]);
  });

  it.each<[string, Edit, string]>([
    ["a CPU request above its limit", (o) => (container(o).resources.requests.cpu = "1500m"),
      `api/requests-within-limits StatefulSet nx-broker/db @ ${at}.resources.requests.cpu: container server requests 1500m cpu, more than its limit 1`],
    ["a memory request above its limit, in other units", (o) => (container(o).resources.requests.memory = "1.5Gi"),
      `api/requests-within-limits StatefulSet nx-broker/db @ ${at}.resources.requests.memory: container server requests 1.5Gi memory, more than its limit 1024Mi`],
    ["negative replicas", (o) => (sts(o).spec.replicas = -1), "api/replicas-non-negative StatefulSet nx-broker/db @ spec.replicas: StatefulSet db has -1 replicas"],
    ["a selector that misses the template's labels", (o) => (sts(o).spec.selector = { matchLabels: { ...role, "app.kubernetes.io/component": "other" } }),
      "api/selector-matches-template StatefulSet nx-broker/db @ spec.template.metadata.labels: the selector (app.kubernetes.io/name=db,app.kubernetes.io/component=other) does not select the template's labels (app.kubernetes.io/name=db,app.kubernetes.io/component=server,app.kubernetes.io/version=7)"],
    ["an empty selector", (o) => (sts(o).spec.selector = {}),
      "api/selector-matches-template StatefulSet nx-broker/db @ spec.selector: StatefulSet db has an empty selector, which would select every pod of its namespace"],
    ["a Service with the same port twice", (o) => o["Service/db"].spec.ports.push({ name: "again", port: 6379, targetPort: "redis" }),
      "api/service-ports-unique Service nx-broker/db @ spec.ports[1]: port 6379/TCP is listed again (first at spec.ports[0])"],
    ["a Service with a port name twice", (o) => o["Service/db"].spec.ports.push({ name: "redis", port: 16379, targetPort: "bus" }),
      "api/service-ports-unique Service nx-broker/db @ spec.ports[1].name: port name redis is used again (first at spec.ports[0])"],
    ["a Service that selects no pod", (o) => (o["Service/db"].spec.selector = { "app.kubernetes.io/name": "dbb" }),
      "references/selects-pods Service nx-broker/db @ spec.selector: Service nx-broker/db selects app.kubernetes.io/name=dbb: no pod of the checked manifests in nx-broker carries these labels"],
    ["a PodDisruptionBudget that selects no pod", (o) => (o["PodDisruptionBudget/db"].spec.selector.matchLabels["app.kubernetes.io/component"] = "primary"),
      "references/selects-pods PodDisruptionBudget nx-broker/db @ spec.selector: PodDisruptionBudget nx-broker/db selects app.kubernetes.io/name=db,app.kubernetes.io/component=primary: no pod of the checked manifests in nx-broker carries these labels"],
    ["a Service targeting a port name no container declares", (o) => (o["Service/db"].spec.ports[0].targetPort = "client"),
      "references/service-target-port Service nx-broker/db @ spec.ports[0].targetPort: targets port client, which no container of StatefulSet nx-broker/db declares"],
    ["a Service targeting a port number no container declares", (o) => (o["Service/db"].spec.ports[0].targetPort = 6380),
      "references/service-target-port Service nx-broker/db @ spec.ports[0].targetPort: targets port 6380, which no container of StatefulSet nx-broker/db declares"],
    ["a Service without targetPort on a port no container declares", (o) => (o["Service/db"].spec.ports[0] = { name: "redis", port: 6380 }),
      "references/service-target-port Service nx-broker/db @ spec.ports[0].port: targets port 6380, which no container of StatefulSet nx-broker/db declares"],
    ["a probe on a port name the container does not declare", (o) => (container(o).readinessProbe.tcpSocket.port = "client"),
      `references/probe-port-declared StatefulSet nx-broker/db @ ${at}.readinessProbe.tcpSocket.port: container server probes port client, which it does not declare (ports: redis, bus)`],
    ["a probe on a port number the container does not declare", (o) => (container(o).livenessProbe = { httpGet: { path: "/", port: 8080 } }),
      `references/probe-port-declared StatefulSet nx-broker/db @ ${at}.livenessProbe.httpGet.port: container server probes port 8080, which it does not declare (ports: redis, bus)`],
    ["a mounted ConfigMap no manifest defines", (o) => (sts(o).spec.template.spec.volumes[0].configMap.name = "db-settings"),
      "references/configmap-defined StatefulSet nx-broker/db @ spec.template.spec.volumes[0].configMap: reads ConfigMap nx-broker/db-settings, which no checked manifest defines"],
    ["a ConfigMap key that does not exist", (o) => (container(o).env[1].valueFrom.configMapKeyRef.key = "role"),
      `references/configmap-defined StatefulSet nx-broker/db @ ${at}.env[1].valueFrom.configMapKeyRef: reads key role of ConfigMap nx-broker/db-config, which has only mode, redis.conf`],
    ["a Secret the layer does not document", (o) => (container(o).env[0].valueFrom.secretKeyRef.name = "redis-password"),
      `references/secret-documented StatefulSet nx-broker/db @ ${at}.env[0].valueFrom.secretKeyRef: reads Secret redis-password, which the layer does not document (docs/secrets.md)`],
    ["a Secret key the layer does not document", (o) => (sts(o).spec.template.spec.volumes[1].secret.items[0].key = "jaas.conf"),
      "references/secret-documented StatefulSet nx-broker/db @ spec.template.spec.volumes[1].secret: reads key jaas.conf of Secret nx-kafka-jaas, whose documented keys are kafka_server_jaas.conf"],
    ["a serviceName that names no Service", (o) => (sts(o).spec.serviceName = "db-peers"),
      "references/statefulset-service StatefulSet nx-broker/db @ spec.serviceName: governing Service nx-broker/db-peers: no checked manifest defines it"],
    ["a serviceName that names a Service that is not headless", (o) => (sts(o).spec.serviceName = "db"),
      "references/statefulset-service StatefulSet nx-broker/db @ spec.serviceName: governing Service nx-broker/db: it is not headless (clusterIP: None)"],
    ["a password-like env var with a literal value", (o) => container(o).env.push({ name: "ADMIN_PASSWORD", value: "hunter2" }),
      `secrets/env-literal StatefulSet nx-broker/db @ ${at}.env[4].value: container server sets ADMIN_PASSWORD to a literal value`],
    ["a URL with a password", (o) => (o["ConfigMap/db-config"].data.mode = "redis://app:hunter2@db:6379/0"),
      'secrets/url-password ConfigMap nx-broker/db-config @ data.mode: a URL with a literal password'],
    ["password= in a ConfigMap", (o) => (o["ConfigMap/db-config"].data["redis.conf"] += "ssl.keystore.password=hunter2\n"),
      'secrets/literal-in-text ConfigMap nx-broker/db-config @ data["redis.conf"]: ssl.keystore.password is given a literal value (line 7)'],
    ["a token in a ConfigMap, YAML style", (o) => (o["ConfigMap/db-config"].data.mode = "token: abc123def"),
      "secrets/literal-in-text ConfigMap nx-broker/db-config @ data.mode: token is given a literal value"],
    ["an API key in args", (o) => (container(o).args[2] = "--api-key=s3cr3t"),
      `secrets/literal-in-text StatefulSet nx-broker/db @ ${at}.args[2]: --api-key is given a literal value`],
    ["a credential flag followed by a literal", (o) => (container(o).args[1] = "hunter2"),
      `secrets/literal-in-text StatefulSet nx-broker/db @ ${at}.args[1]: container server passes --requirepass a literal value`],
    ["a password in a script", (o) => (container(o).command[2] = 'REDISCLI_AUTH=hunter2 redis-cli ping'),
      `secrets/literal-in-text StatefulSet nx-broker/db @ ${at}.command[2]: REDISCLI_AUTH is given a literal value`],
    ["a SQL password literal", (o) => (o["ConfigMap/db-config"].data.mode = "ALTER ROLE app PASSWORD 'hunter2';"),
      "secrets/literal-in-text ConfigMap nx-broker/db-config @ data.mode: a SQL PASSWORD literal"],
  ])("catch %s", (_what, edit, expected) => {
    expect(findings(edit)).toEqual([expected]);
  });

  // Where the layer renders Secrets (External Secrets, production), each one read must be rendered.
  describe("where ExternalSecrets render the Secrets", () => {
    const externalSecret = (name: string, target?: string): Manifest => ({
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: { name, namespace: ns },
      spec: { secretStoreRef: { kind: "ClusterSecretStore", name: "vault" }, ...(target ? { target: { name: target } } : {}), data: [] },
    });
    const judge = (extra: Manifest[], edit?: Edit) => {
      const objects = [...(JSON.parse(JSON.stringify(layer())) as Manifest[]), ...extra];
      edit?.(Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o])));
      return runPolicies(judged, objects.map((manifest) => ({ manifest, file: "t.yaml" })), []).findings.map((f) => `${f.rule} ${f.object} @ ${f.path}: ${f.message}`);
    };

    it("pass when each Secret read is an ExternalSecret's target (by its name, or target.name)", () => {
      expect(judge([externalSecret("nx-redis-secret"), externalSecret("jaas", "nx-kafka-jaas")])).toEqual([]);
    });

    it("catch a Secret mounted as a volume that nothing renders", () => {
      expect(judge([externalSecret("nx-redis-secret")])).toEqual([
        "references/secret-rendered StatefulSet nx-broker/db @ spec.template.spec.volumes[1].secret: reads Secret nx-broker/nx-kafka-jaas, which no ExternalSecret or Secret of the checked manifests renders in nx-broker",
      ]);
    });

    it("pass over an optional reference", () => {
      expect(judge([externalSecret("nx-redis-secret")], (o) => (sts(o).spec.template.spec.volumes[1].secret.optional = true))).toEqual([]);
    });

    it("catch a Secret an operator's resource reads that nothing renders", () => {
      const cluster: Manifest = {
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "Cluster",
        metadata: { name: "pg", namespace: ns },
        spec: { instances: 3, storage: { size: "1Gi" }, bootstrap: { initdb: { secret: { name: "pg-app" } } } },
      };
      expect(judge([externalSecret("nx-redis-secret"), externalSecret("jaas", "nx-kafka-jaas"), cluster])).toEqual([
        "references/secret-rendered Cluster nx-broker/pg @ spec.bootstrap.initdb.secret: reads Secret nx-broker/pg-app, which no ExternalSecret or Secret of the checked manifests renders in nx-broker",
      ]);
    });
  });

  // An operator's resource holds no pod template: the pods it runs are the ones
  // generator/lib/operator-pods.ts models (servingPodsOf), with their labels and ports.
  describe("a Service in front of the pods an operator runs", () => {
    const cluster: Manifest = {
      apiVersion: "postgresql.cnpg.io/v1",
      kind: "Cluster",
      metadata: { name: "pg", namespace: ns },
      spec: { instances: 3, storage: { size: "1Gi" } },
    };
    const primary = { "cnpg.io/cluster": "pg", "cnpg.io/instanceRole": "primary" };
    const serviceTo = (targetPort: number | string): Manifest => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "pg-primary", namespace: ns },
      spec: { selector: primary, ports: [{ name: "postgres", port: 5432, targetPort }] },
    });
    const judge = (objects: Manifest[]) =>
      runPolicies(judged, objects.map((manifest) => ({ manifest, file: "t.yaml" })), []).findings.map((f) => `${f.rule} ${f.object} @ ${f.path}: ${f.message}`);

    it("selects them and reaches the ports the operator gives them, by number or name", () => {
      expect(judge([cluster, serviceTo(5432)])).toEqual([]);
      expect(judge([cluster, serviceTo("postgresql")])).toEqual([]);
    });

    it("selects none when the resource is not among the manifests", () => {
      expect(judge([serviceTo(5432)])).toEqual([
        "references/selects-pods Service nx-broker/pg-primary @ spec.selector: Service nx-broker/pg-primary selects cnpg.io/cluster=pg,cnpg.io/instanceRole=primary: no pod of the checked manifests in nx-broker carries these labels",
      ]);
    });

    it("catch a port the operator's pods do not declare", () => {
      expect(judge([cluster, serviceTo(5433)])).toEqual([
        "references/service-target-port Service nx-broker/pg-primary @ spec.ports[0].targetPort: targets port 5433, which no container of Cluster nx-broker/pg (primary) declares",
      ]);
    });
  });

  it("never repeat the credential they found", () => {
    const all = findings((o) => {
      container(o).env.push({ name: "ADMIN_PASSWORD", value: "hunter2" });
      o["ConfigMap/db-config"].data.mode = "redis://app:hunter2@db/0 password=hunter2";
    });
    expect(all.length).toBe(3);
    expect(all.join("\n")).not.toContain("hunter2");
  });
});

describe("Kubernetes quantities", () => {
  it.each([
    ["500m", 0.5], ["1.5", 1.5], ["2Gi", 2 * 2 ** 30], ["1536Mi", 1536 * 2 ** 20], ["1e3", 1000], ["128974848", 128974848], ["129M", 129e6], [2, 2],
  ] as const)("%s is %d", (q, v) => expect(quantityValue(q)).toBeCloseTo(v));

  it.each(["5Gb", "lots", "", "1.2.3"])("%s is no quantity", (q) => expect(quantityValue(q)).toBeUndefined());
});
