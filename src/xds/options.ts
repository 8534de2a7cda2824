import { UsageError } from "../errors.js";
import type { XdsEvent } from "./events.js";

export interface XdsServerOptions {
  /** Address the ADS gRPC server binds. Default "127.0.0.1". */
  host?: string;
  /** Its port; 0 lets the kernel pick (the handle says which). Default 0. */
  port?: number;
  /** Port of GET /metrics on the same host; 0 picks one, false serves none. Default 0. */
  metricsPort?: number | false;
  /**
   * The service's name: the Listener (`xds:///NAME`), the RouteConfiguration, the Cluster and
   * the EDS service name are all called this. Default "server".
   */
  service?: string;
  /** connect_timeout of the Cluster served by CDS, in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Every event, for a log (formatXdsEvent gives its line). Default: none. */
  onEvent?: (e: XdsEvent) => void;
  /**
   * Answer nothing until the source has its full list. false serves a source with no list yet
   * as an empty one, as a control plane without such a gate does after a restart: only to show
   * what the gate prevents (lab scenario xds-restart). Default true.
   */
  syncGate?: boolean;
}

export type ResolvedXdsServerOptions = Required<XdsServerOptions>;

export function resolveXdsServerOptions(o: XdsServerOptions = {}): ResolvedXdsServerOptions {
  const r: ResolvedXdsServerOptions = {
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 0,
    metricsPort: o.metricsPort ?? 0,
    service: o.service ?? "server",
    connectTimeoutMs: o.connectTimeoutMs ?? 1000,
    onEvent: o.onEvent ?? (() => {}),
    syncGate: o.syncGate ?? true,
  };
  for (const [what, port] of [
    ["port", r.port],
    ["metricsPort", r.metricsPort === false ? 0 : r.metricsPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`xds server: ${what} must be an integer from 0 to 65535, got ${port}`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(r.service))
    throw new UsageError(
      `xds server: service '${r.service}' is not a resource name (letters, digits, . _ -)`,
    );
  if (!(r.connectTimeoutMs >= 1))
    throw new UsageError(`xds server: connectTimeoutMs must be at least 1 ms, got ${r.connectTimeoutMs}`);
  return r;
}
