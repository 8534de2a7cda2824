import { UsageError } from "../errors.js";
import type { LbPolicyName } from "./types.js";

/** Load-balancing policies the builder offers (Envoy's lb_policy, lower-cased). */
export const LB_POLICIES = ["round_robin", "least_request", "random"] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];

export const lbPolicyName = (p: LbPolicy): LbPolicyName => p.toUpperCase() as LbPolicyName;

/** Where Envoy's DNS questions go: the machine's resolver, or named servers (the lab's). */
export type DnsResolvers =
  | { kind: "system" }
  | { kind: "servers"; servers: { address: string; port: number }[] };

export interface EnvoyConfigOptions {
  /** Address of the gRPC listener. Default "127.0.0.1" ("0.0.0.0" in containers). */
  listenAddress?: string;
  /** Port of the gRPC listener; 0 lets the kernel pick. Default 10000. */
  listenPort?: number;
  /** Port of the admin API, which is always bound to 127.0.0.1; 0 lets the kernel pick. Default 9901. */
  adminPort?: number;
  /** DNS name whose A records are the upstream hosts. Default "server". */
  serverHost?: string;
  /** Port every upstream host listens on. Default 50051. */
  serverPort?: number;
  /** Per-request balancing policy. Default "round_robin". */
  policy?: LbPolicy;
  /** How often Envoy re-resolves serverHost, in ms. Default 5000. */
  dnsRefreshMs?: number;
  /** Resolver Envoy asks. Default: the system's (/etc/resolv.conf). */
  dnsResolvers?: DnsResolvers;
  /** Upstream TCP connect timeout, in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Downstream connections Envoy accepts at once before refusing more. Default 10000. */
  maxDownstreamConnections?: number;
}

export type ResolvedEnvoyConfigOptions = Required<EnvoyConfigOptions>;

export function resolveEnvoyConfigOptions(options: EnvoyConfigOptions = {}): ResolvedEnvoyConfigOptions {
  const o: ResolvedEnvoyConfigOptions = {
    listenAddress: options.listenAddress ?? "127.0.0.1",
    listenPort: options.listenPort ?? 10000,
    adminPort: options.adminPort ?? 9901,
    serverHost: options.serverHost ?? "server",
    serverPort: options.serverPort ?? 50051,
    policy: options.policy ?? "round_robin",
    dnsRefreshMs: options.dnsRefreshMs ?? 5000,
    dnsResolvers: options.dnsResolvers ?? { kind: "system" },
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    maxDownstreamConnections: options.maxDownstreamConnections ?? 10_000,
  };
  checkPort("listenPort", o.listenPort, 0);
  checkPort("adminPort", o.adminPort, 0);
  checkPort("serverPort", o.serverPort, 1);
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(
      o.serverHost,
    )
  ) {
    throw new UsageError(`envoy config: serverHost '${o.serverHost}' is not a DNS name`);
  }
  if (o.dnsRefreshMs < 1 || o.connectTimeoutMs < 1) {
    throw new UsageError("envoy config: dnsRefreshMs and connectTimeoutMs must be at least 1 ms");
  }
  if (o.dnsResolvers.kind === "servers") {
    if (o.dnsResolvers.servers.length === 0)
      throw new UsageError("envoy config: dnsResolvers lists no server");
    for (const s of o.dnsResolvers.servers) checkPort("DNS resolver port", s.port, 1);
  }
  return o;
}

function checkPort(what: string, port: number, min: number): void {
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new UsageError(`envoy config: ${what} must be an integer from ${min} to 65535, got ${port}`);
  }
}
