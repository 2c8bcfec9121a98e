import type { Environment } from "../config/types.ts";
import { role } from "../lib/labels.ts";
import { dataVolume, type KubeObject, service, statefulSet } from "../lib/objects.ts";
import { container, httpProbe, livenessTiming, readinessTiming, resources, secretEnv } from "../lib/pod.ts";
import { podRoles, ports, serviceHost, typesenseNames } from "../lib/topology.ts";

const uid = 1000;

// While a node loads its collections from disk after a restart, /health answers 503 {"ok":false}
// (the API serves before the data is loaded). Liveness starts only once it has answered 200, and
// the load gets up to 30 minutes.
const startupTiming = { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 180 };

/** The API's protocol: plain HTTP, since the server is started without `--ssl-certificate`. */
export const typesenseProtocol = "http";

/** Where clients reach the search API. */
export function typesenseHost(env: Environment): string {
  return serviceHost(typesenseNames.service, env.common.namespaces.search, env.common.clusterDomain);
}

/** Typesense search engine, one node; its index can be rebuilt from PostgreSQL if lost. */
export function typesense(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.search;
  const image = env.common.images.typesense;
  const search = role(podRoles.typesense, typesenseNames.statefulSet, image);
  return [
    service(env, {
      name: typesenseNames.service,
      namespace,
      role: search,
      ports: [{ name: "http", port: ports.typesense, targetPort: "http" }],
    }),
    statefulSet(env, {
      name: typesenseNames.statefulSet,
      namespace,
      role: search,
      serviceName: typesenseNames.service,
      replicas: env.typesense.replicas,
      uid,
      storage: env.typesense.storage,
      // The API key is read at start: a rotation restarts the node.
      followsSecretRotation: true,
      pod: {
        containers: [
          container({
            name: "typesense",
            image,
            args: ["--data-dir=/data", `--api-port=${ports.typesense}`, "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors"],
            ports: [{ containerPort: ports.typesense, name: "http" }],
            env: [secretEnv("TYPESENSE_API_KEY", typesenseNames.secret)],
            resources: resources(env.typesense.resources),
            startupProbe: httpProbe("/health", "http", startupTiming),
            readinessProbe: httpProbe("/health", "http", readinessTiming),
            livenessProbe: httpProbe("/health", "http", livenessTiming),
            volumeMounts: [{ name: dataVolume, mountPath: "/data" }],
          }),
        ],
      },
    }),
  ];
}
