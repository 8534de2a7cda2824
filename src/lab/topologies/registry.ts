import { clusterIpTopology } from "./clusterip.js";
import { headlessTopology } from "./headless.js";
import type { Topology, TopologyKind } from "./topology.js";
import { xdsTopology } from "./xds.js";

// A record over every kind: a topology missing here is a compile error.
export const topologies: Record<TopologyKind, () => Topology> = {
  headless: headlessTopology,
  clusterip: clusterIpTopology,
  xds: xdsTopology,
};
