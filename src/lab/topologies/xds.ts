import type { EdsOptions } from "../../envoy/options.js";
import { LabError } from "../../errors.js";
import { formatXdsEvent } from "../../xds/events.js";
import { startXdsServer, type XdsServerHandle } from "../../xds/server.js";
import { SERVER_NAME } from "../lab-envoy.js";
import { labXdsSource } from "../xds-source.js";
import type { Topology } from "./topology.js";

/** The xds topology, with what only it offers. */
export interface XdsTopology extends Topology {
  readonly kind: "xds";
  /** Once started: servers that become ready stay out of EDS until the returned release (see LabXdsSource). */
  holdNewcomers(): () => void;
}

export const isXdsTopology = (t: Topology): t is XdsTopology => t.kind === "xds";

/**
 * Envoy takes its hosts by EDS from an xDS server that follows the server pool itself:
 * a server gets calls once it is ready, none from its SIGTERM, as a control plane
 * watching Kubernetes' EndpointSlices does. DNS still answers every server's address,
 * for any client that resolves 'server', but Envoy no longer asks it.
 */
export function xdsTopology(): XdsTopology {
  let server: XdsServerHandle | undefined;
  let hold: (() => () => void) | undefined;
  return {
    kind: "xds",
    envoySeesServers: true,
    async start(ctx, servers) {
      const { source, stop, holdNewcomers } = labXdsSource(ctx.pool);
      hold = holdNewcomers;
      ctx.disposers.defer(async () => stop());
      server = ctx.disposers.use(
        await startXdsServer(source, {
          service: SERVER_NAME,
          connectTimeoutMs: ctx.options.envoy.connectTimeoutMs,
          onEvent: (e) => {
            const line = formatXdsEvent(e);
            if (line !== undefined) ctx.onEvent({ kind: "xds", line });
          },
        }),
        (s) => s.stop(),
      );
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
    holdNewcomers() {
      if (hold === undefined) throw new LabError("the xds topology holds newcomers once started");
      return hold();
    },
    envoyEds: (): EdsOptions | undefined =>
      server === undefined ? undefined : { xdsAddress: server.options.host, xdsPort: server.port },
  };
}
