import type { EnvoyAdmin } from "../envoy/admin.js";
import type { ResolvedEnvoyConfigOptions } from "../envoy/options.js";

/**
 * A deployed Envoy in front of the servers, on whatever engine runs it (Docker Compose,
 * Kubernetes): what a day-two scenario drives its load through and watches.
 */
export interface EngineTarget {
  /** The engine's name, as reports show it: "compose", "kubernetes". */
  engine: string;
  /** Envoy's gRPC listener as reachable from this process (host:port). */
  listenAddress: string;
  /** Envoy's admin API, however this engine reaches it (a relay, a port-forward). */
  admin: EnvoyAdmin;
  /** The options the deployed Envoy config was generated from: its timings set every budget. */
  envoy: ResolvedEnvoyConfigOptions;
}

/** One server instance (container, pod) as a scenario sees it. */
export interface Replica {
  /** The engine's name for it (container or pod name). */
  name: string;
  /** Its address as Envoy's hosts show it (ip:port). */
  address: string;
  /** The server_id it answers with. */
  serverId: string;
}
