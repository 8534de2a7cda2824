import { EndpointList } from "../xds/sources/list.js";
import type { DiscoveredEndpoint, EndpointHealth } from "../xds/types.js";
import type { PoolChange, ServerPool } from "./server-pool.js";
import type { LabServer } from "./servers.js";

/** The lab's server pool as an xDS source, and a way to keep newcomers out of it for a while. */
export interface LabXdsSource {
  source: EndpointList;
  /**
   * Until the returned release is called, servers that become ready are kept out of the
   * list (what they do meanwhile is remembered); the release publishes them at once. A
   * comparison starts its newcomer before the load and announces it at a known moment so.
   */
  holdNewcomers(): () => void;
  stop(): void;
}

/**
 * The lab's server pool as an xDS source, as Kubernetes' EndpointSlices would say it: a
 * server is HEALTHY once ready, DRAINING from its SIGTERM, and removed once its process
 * has exited. Synced from the start: the pool's live servers are its full list.
 */
export function labXdsSource(pool: Pick<ServerPool, "live" | "watch">): LabXdsSource {
  const source = new EndpointList("the lab's server pool");
  const health = new Map<LabServer, EndpointHealth>(pool.live().map((s) => [s, "HEALTHY"]));
  /** Newcomers held back, while a hold is on. */
  let held: Map<LabServer, EndpointHealth> | undefined;
  const publish = (): void =>
    source.set(
      [...health].map(([s, h]): DiscoveredEndpoint => ({ address: s.host, port: s.port, health: h })),
    );
  /** Applies a change to `to`; whether it changed anything. */
  const apply = (to: Map<LabServer, EndpointHealth>, c: PoolChange, known: boolean): boolean => {
    if (c.kind === "gone") return to.delete(c.server);
    if (c.kind === "draining") {
      if (!known) return false;
      to.set(c.server, "DRAINING");
    } else to.set(c.server, "HEALTHY");
    return true;
  };
  const stop = pool.watch((c: PoolChange) => {
    if (held !== undefined && !health.has(c.server)) {
      apply(held, c, held.has(c.server));
      return;
    }
    if (apply(health, c, health.has(c.server))) publish();
  });
  publish();
  return {
    source,
    holdNewcomers() {
      const mine = new Map<LabServer, EndpointHealth>();
      held = mine;
      return () => {
        if (held !== mine) return;
        held = undefined;
        for (const [s, h] of mine) health.set(s, h);
        if (mine.size > 0) publish();
      };
    },
    stop,
  };
}
