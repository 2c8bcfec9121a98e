import type { Environment } from "../config/types.ts";
import { role } from "../lib/labels.ts";
import { dataVolume, type KubeObject, service, statefulSet } from "../lib/objects.ts";
import { container, httpProbe, livenessTiming, readinessTiming, resources, secretEnv } from "../lib/pod.ts";
import { podsOf } from "../lib/network.ts";
import { type PodRole, serviceHost } from "../lib/topology.ts";
import type { TypesenseContract } from "./contracts.ts";

const uid = 1000;

const podRole: PodRole = { app: "typesense", component: "search" };

export const names = { statefulSet: "nx-typesense", service: "nx-typesense" } as const;

const apiKey = { name: "nx-typesense-secret", key: "TYPESENSE_API_KEY", holds: "the Typesense admin API key" };

const port = 8108;

// While a node loads its collections from disk after a restart, /health answers 503 {"ok":false}
// (the API serves before the data is loaded). Liveness starts only once it has answered 200, and
// the load gets up to 30 minutes.
const startupTiming = { initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 180 };


/** Typesense search engine, one node; its index can be rebuilt from PostgreSQL if lost. */
export function typesense(env: Environment): KubeObject[] {
  const namespace = env.common.namespaces.search;
  const image = env.common.images.typesense;
  const search = role(podRole, names.statefulSet, image);
  return [
    service(env, {
      name: names.service,
      namespace,
      role: search,
      ports: [{ name: "http", port: port, targetPort: "http" }],
    }),
    statefulSet(env, {
      name: names.statefulSet,
      namespace,
      role: search,
      serviceName: names.service,
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
            args: ["--data-dir=/data", `--api-port=${port}`, "--api-key=$(TYPESENSE_API_KEY)", "--enable-cors"],
            ports: [{ containerPort: port, name: "http" }],
            env: [secretEnv("TYPESENSE_API_KEY", apiKey)],
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

export function typesenseContract(env: Environment): TypesenseContract {
  return {
    namespace: env.common.namespaces.search,
    host: serviceHost(names.service, env.common.namespaces.search, env.common.clusterDomain),
    port,
    // Plain HTTP: the server is started without `--ssl-certificate`.
    protocol: "http",
    apiKey,
    pods: podsOf(podRole),
    secrets: [apiKey],
  };
}
