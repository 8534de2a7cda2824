import { LB_POLICIES, type LbPolicy } from "../envoy/options.js";
import { UsageError } from "../errors.js";
import { DEFAULT_ADDRESS_BASE } from "./addresses.js";

/**
 * What 'server' resolves to. headless: every server's address, as a compose
 * service or a headless Service (clusterIP: None) answers. clusterip: one
 * virtual IP with a connection (L4) balancer behind it, as a ClusterIP
 * Service with kube-proxy.
 */
export type Discovery = { kind: "headless" } | { kind: "clusterip"; virtualIp: string };
export const DISCOVERY_KINDS = ["headless", "clusterip"] as const;

/** The virtual IP of the emulated ClusterIP Service: outside the servers' default range. */
export const DEFAULT_VIRTUAL_IP = "127.77.255.254";

/** Upper bound on --servers: each server is one Node process (about 50 MB). */
export const MAX_LAB_SERVERS = 64;

export interface LabOptions {
  /** Number of Echo servers, one process and one loopback address each. Default 3. */
  servers?: number;
  /** First server address; the others follow it. Default 127.77.0.1. */
  addressBase?: string;
  /** Port every server listens on; 0 lets the first server pick one. Default 0. */
  serverPort?: number;
  /** Port of Envoy's gRPC listener on 127.0.0.1; 0 picks a free one. Default 0. */
  listenPort?: number;
  /** Port of Envoy's admin API on 127.0.0.1; 0 picks a free one. Default 0. */
  adminPort?: number;
  /** How the servers are discovered. Default headless. */
  discovery?: Discovery;
  /** Envoy's balancing policy. Default round_robin. */
  policy?: LbPolicy;
  /** How often Envoy re-resolves "server", in ms. Default 1000. */
  dnsRefreshMs?: number;
  /** Envoy worker threads. Default 2. */
  envoyConcurrency?: number;
  /** Envoy's log level. Default "warning". */
  envoyLogLevel?: "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";
  /** Deadline for each part to come up, and for Envoy to see every host, in ms. Default 30000. */
  startTimeoutMs?: number;
  /** How long servers may take to drain when the lab stops, in ms. Default 5000. */
  serverGraceMs?: number;
}

export type ResolvedLabOptions = Required<LabOptions>;

export function resolveLabOptions(options: LabOptions = {}): ResolvedLabOptions {
  const o: ResolvedLabOptions = {
    servers: options.servers ?? 3,
    addressBase: options.addressBase ?? DEFAULT_ADDRESS_BASE,
    serverPort: options.serverPort ?? 0,
    listenPort: options.listenPort ?? 0,
    adminPort: options.adminPort ?? 0,
    discovery: options.discovery ?? { kind: "headless" },
    policy: options.policy ?? "round_robin",
    dnsRefreshMs: options.dnsRefreshMs ?? 1000,
    envoyConcurrency: options.envoyConcurrency ?? 2,
    envoyLogLevel: options.envoyLogLevel ?? "warning",
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    serverGraceMs: options.serverGraceMs ?? 5000,
  };
  if (!Number.isInteger(o.servers) || o.servers < 1 || o.servers > MAX_LAB_SERVERS) {
    throw new UsageError(`lab: --servers must be from 1 to ${MAX_LAB_SERVERS}, got ${o.servers}`);
  }
  if (!LB_POLICIES.includes(o.policy)) {
    throw new UsageError(`lab: --policy must be one of ${LB_POLICIES.join(", ")}, got '${o.policy}'`);
  }
  if (o.discovery.kind === "clusterip" && !o.discovery.virtualIp.startsWith("127.")) {
    throw new UsageError(
      `lab: the virtual IP must be a loopback address (127.x.y.z), got '${o.discovery.virtualIp}'`,
    );
  }
  return o;
}
