import { defineEnvironment } from "./environment.ts";

// Staging is the design document's staging section (shared/spec/data-layer.md), which the shared
// defaults already are; what is left is staging's own cluster.
export const staging = defineEnvironment({
  name: "staging",
  kafka: {
    clientUser: "nx.staging",
    cluster: {
      clusterId: "bngtc3RhZ2luZy1rYWZrYQ",
      // Staging's cluster has been bootstrapped: an empty disk waits for an operator (docs/kafka.md).
      initialClusterState: "existing",
    },
  },
});
