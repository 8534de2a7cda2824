import { EndpointList } from "../xds/sources/list.js";
import type { DiscoveredEndpoint, EndpointHealth } from "../xds/types.js";
import type { PoolChange, ServerPool } from "./server-pool.js";
import type { LabServer } from "./servers.js";

/**
 * The lab's server pool as an xDS source, as Kubernetes' EndpointSlices would say it: a
 * server is HEALTHY once ready, DRAINING from its SIGTERM, and removed once its process
 * has exited. Synced from the start: the pool's live servers are its full list.
 */
export function labXdsSource(pool: Pick<ServerPool, "live" | "watch">): {
  source: EndpointList;
  stop(): void;
} {
  const source = new EndpointList("the lab's server pool");
  const health = new Map<LabServer, EndpointHealth>(pool.live().map((s) => [s, "HEALTHY"]));
  const publish = (): void =>
    source.set(
      [...health].map(([s, h]): DiscoveredEndpoint => ({ address: s.host, port: s.port, health: h })),
    );
  const stop = pool.watch((c: PoolChange) => {
    if (c.kind === "gone") {
      if (!health.delete(c.server)) return;
    } else if (c.kind === "draining") {
      if (!health.has(c.server)) return;
      health.set(c.server, "DRAINING");
    } else health.set(c.server, "HEALTHY");
    publish();
  });
  publish();
  return { source, stop };
}
