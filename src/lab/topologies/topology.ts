import type { DnsServerHandle } from "../../dns/server.js";
import type { EdsOptions } from "../../envoy/options.js";
import type { EnvoyHandle } from "../../envoy/process.js";
import type { Disposers } from "../../util/disposers.js";
import type { LabEvent } from "../events.js";
import type { ResolvedLabOptions } from "../options.js";
import type { ServerPool } from "../server-pool.js";
import type { LabServer } from "../servers.js";

/**
 * How the name 'server' leads to the servers. headless: DNS answers every
 * server's address, as a compose service or a headless Service (clusterIP:
 * None) does. clusterip: one virtual IP with a connection (L4) balancer
 * behind it, as a ClusterIP Service with kube-proxy. xds: Envoy asks no DNS;
 * an xDS server pushes it the pool's servers by EDS. Each kind is one file
 * in this folder, listed in registry.ts.
 */
export const TOPOLOGY_KINDS = ["headless", "clusterip", "xds"] as const;
export type TopologyKind = (typeof TOPOLOGY_KINDS)[number];

/** What a topology may use while it starts; what it starts it hands to `disposers`. */
export interface TopologyContext {
  readonly options: ResolvedLabOptions;
  readonly disposers: Disposers;
  /** Path of the Envoy binary, for a topology that runs its own proxy. */
  readonly envoyBinary: string;
  /** A directory this lab owns. */
  readonly workDir: string;
  /** The lab's DNS server, for names besides 'server' that a topology's own parts resolve. */
  readonly dns: DnsServerHandle;
  /** The lab's servers, for a topology that follows them itself (xds). */
  readonly pool: ServerPool;
  readonly onEvent: (e: LabEvent) => void;
  readonly signal: AbortSignal | undefined;
}

export interface Topology {
  readonly kind: TopologyKind;
  /** Whether Envoy has each server as its own host, so its per-host counts are per server. */
  readonly envoySeesServers: boolean;
  /** Starts what stands between the name and the first servers; returns what DNS answers. */
  start(ctx: TopologyContext, servers: readonly LabServer[]): Promise<readonly string[]>;
  /** What DNS answers once the set of servers changes; throws where this topology cannot follow. */
  records(servers: readonly LabServer[]): readonly string[];
  /** Processes besides Envoy whose death takes the lab down (the L4 proxy). */
  proxies(): readonly EnvoyHandle[];
  /** Once started: the xDS server Envoy takes its hosts from by EDS, or undefined where Envoy resolves DNS. */
  envoyEds(): EdsOptions | undefined;
}
