import type { Topology } from "./topology.js";

/** DNS answers 'server' with every server's address: Envoy sees each as its own host. */
export function headlessTopology(): Topology {
  return {
    kind: "headless",
    envoySeesServers: true,
    start: async (_ctx, servers) => servers.map((s) => s.host),
    records: (servers) => servers.map((s) => s.host),
    proxies: () => [],
    envoyEds: () => undefined,
  };
}
