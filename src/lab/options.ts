import {
  DEFAULT_RETRY,
  type HealthCheckOptions,
  LB_POLICIES,
  type LbPolicy,
  type OutlierDetectionOptions,
  type RetryOptions,
} from "../envoy/options.js";
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

/** The lab's health checks: every 100 ms, so a dead server is out within a few hundred ms. */
export const LAB_HEALTH_CHECK: HealthCheckOptions = {
  intervalMs: 100,
  timeoutMs: 250,
  unhealthyThreshold: 2,
  healthyThreshold: 1,
};
export const LAB_OUTLIER_DETECTION: OutlierDetectionOptions = {
  consecutiveGatewayFailures: 3,
  consecutiveLocalFailures: 2,
  intervalMs: 500,
  baseEjectionMs: 2000,
  maxEjectionPercent: 50,
};
export const LAB_RETRY: RetryOptions = { ...DEFAULT_RETRY, perTryTimeoutMs: 1000 };

/** Upper bound on --servers: each server is one Node process (about 50 MB). */
export const MAX_LAB_SERVERS = 64;
/** Upper bound on instances when several share a process (the many-servers scenario). */
export const MAX_LAB_INSTANCES = 1000;

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
  /** How long a stopping server keeps serving while NOT_SERVING, in ms. Default 3 health-check intervals. */
  serverDrainDelayMs?: number;
  /** Instances per server process (each keeps its own id and address). Default 1. */
  serversPerProcess?: number;
  /** Envoy's request headers timeout, in ms. Default 2000. */
  requestHeadersTimeoutMs?: number;
  /** Envoy's update merge window, in ms: 0 so a new host gets traffic as soon as it is healthy. Default 0. */
  updateMergeWindowMs?: number;
  /** Envoy's active health checks. Default LAB_HEALTH_CHECK. */
  healthCheck?: HealthCheckOptions | false;
  /** Envoy's outlier detection. Default LAB_OUTLIER_DETECTION. */
  outlierDetection?: OutlierDetectionOptions | false;
  /** Envoy's retry policy. Default LAB_RETRY. */
  retry?: RetryOptions | false;
}

export type ResolvedLabOptions = Required<LabOptions>;

export function resolveLabOptions(options: LabOptions = {}): ResolvedLabOptions {
  const healthCheck = options.healthCheck ?? LAB_HEALTH_CHECK;
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
    serverDrainDelayMs:
      options.serverDrainDelayMs ?? (healthCheck === false ? 0 : 3 * healthCheck.intervalMs),
    serversPerProcess: options.serversPerProcess ?? 1,
    requestHeadersTimeoutMs: options.requestHeadersTimeoutMs ?? 2000,
    updateMergeWindowMs: options.updateMergeWindowMs ?? 0,
    healthCheck,
    outlierDetection: options.outlierDetection ?? LAB_OUTLIER_DETECTION,
    retry: options.retry ?? LAB_RETRY,
  };
  if (!Number.isInteger(o.serversPerProcess) || o.serversPerProcess < 1) {
    throw new UsageError(`lab: serversPerProcess must be a positive integer, got ${o.serversPerProcess}`);
  }
  if (o.listenPort !== 0 && o.listenPort === o.adminPort) {
    throw new UsageError(`lab: --listen-port and --admin-port cannot both be ${o.listenPort}`);
  }
  const processes = Math.ceil(o.servers / o.serversPerProcess);
  if (
    !Number.isInteger(o.servers) ||
    o.servers < 1 ||
    o.servers > MAX_LAB_INSTANCES ||
    processes > MAX_LAB_SERVERS
  ) {
    throw new UsageError(
      `lab: --servers must be from 1 to ${MAX_LAB_SERVERS} (up to ${MAX_LAB_INSTANCES} when instances share processes), got ${o.servers}`,
    );
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
