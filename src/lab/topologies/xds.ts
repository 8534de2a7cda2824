import type { EdsOptions } from "../../envoy/options.js";
import { LabError } from "../../errors.js";
import { SERVER_NAME } from "../lab-envoy.js";
import type { Topology } from "./topology.js";
import { startXdsControlPlane, type XdsControlPlane } from "./xds-control.js";

/** The xds topology: a Topology whose control plane a scenario can reach (to crash it). */
export interface XdsTopology extends Topology {
  readonly kind: "xds";
  /** The lab's xDS server, once started. */
  controlPlane(): XdsControlPlane;
}

/**
 * Envoy takes its hosts by EDS from an xDS server that follows the server pool itself:
 * a server gets calls once it is ready, none from its SIGTERM, as a control plane
 * watching Kubernetes' EndpointSlices does. DNS still answers every server's address,
 * for any client that resolves 'server', but Envoy no longer asks it.
 */
export function xdsTopology(): XdsTopology {
  let plane: XdsControlPlane | undefined;
  // Fixed once started: a restarted server binds the same port, so Envoy's bootstrap holds.
  let eds: EdsOptions | undefined;
  return {
    kind: "xds",
    envoySeesServers: true,
    async start(ctx, servers) {
      plane = await startXdsControlPlane(ctx, ctx.pool, SERVER_NAME);
      const server = plane.server;
      if (server === undefined) throw new LabError("the xDS server has not started");
      eds = { xdsAddress: server.options.host, xdsPort: server.port };
      ctx.onEvent({
        kind: "xds-started",
        address: server.address,
        metrics: server.metricsAddress,
        servers: servers.length,
      });
      return servers.map((s) => s.host);
    },
    records: (servers) => servers.map((s) => s.host),
    proxies: () => [],
    envoyEds: () => eds,
    controlPlane() {
      if (plane === undefined) throw new LabError("the xds topology has not started");
      return plane;
    },
  };
}

/** The lab's topology as the xds one, for a scenario that acts on its control plane. */
export function asXdsTopology(t: Topology): XdsTopology | undefined {
  return t.kind === "xds" && "controlPlane" in t ? (t as XdsTopology) : undefined;
}
