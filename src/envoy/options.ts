import { isIP } from "node:net";
import { isAbsolute } from "node:path";
import { UsageError } from "../errors.js";
import type { LbPolicyName } from "./types.js";

/** Load-balancing policies the builder offers (Envoy's lb_policy, lower-cased). */
export const LB_POLICIES = ["round_robin", "least_request", "random", "ring_hash", "maglev"] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];

/** The consistent-hash policies: they pick a host by a hash of `hashHeader`, so one key sticks to one host. */
export const isHashPolicy = (p: LbPolicy): boolean => p === "ring_hash" || p === "maglev";

export const lbPolicyName = (p: LbPolicy): LbPolicyName => p.toUpperCase() as LbPolicyName;

/** Where Envoy's DNS questions go: the machine's resolver, or named servers (the lab's). */
export type DnsResolvers =
  | { kind: "system" }
  | { kind: "servers"; servers: { address: string; port: number }[] };

/** Active gRPC health checks (grpc.health.v1.Health/Check) of every host. */
export interface HealthCheckOptions {
  /** Time between two checks of a host, in ms. */
  intervalMs: number;
  /** A check not answered within this is a failure, in ms. */
  timeoutMs: number;
  /** Failed checks in a row before a host gets no traffic. */
  unhealthyThreshold: number;
  /** Passed checks in a row before a host gets traffic again (and a new one gets its first). */
  healthyThreshold: number;
}

/** Passive ejection of hosts whose requests fail. */
export interface OutlierDetectionOptions {
  /** Gateway errors (502/503/504, gRPC UNAVAILABLE) in a row before ejection. */
  consecutiveGatewayFailures: number;
  /** Connect failures, resets and timeouts in a row before ejection. */
  consecutiveLocalFailures: number;
  /** How often ejections are reviewed, in ms. */
  intervalMs: number;
  /** How long a first ejection lasts, in ms (it grows with each repeat). */
  baseEjectionMs: number;
  /** Most of the cluster that may be ejected at once, in percent. */
  maxEjectionPercent: number;
}

/** Envoy retrying a failed call on another host (only safe for idempotent calls, as the demo's are). */
export interface RetryOptions {
  /** Envoy retry_on conditions. */
  retryOn: readonly string[];
  /** Retries after the first try. */
  numRetries: number;
  /** Deadline of each try, in ms. */
  perTryTimeoutMs: number;
  /** First backoff between tries, in ms (jittered, doubling). */
  backoffBaseMs: number;
  /** Longest backoff between tries, in ms. */
  backoffMaxMs: number;
  /**
   * Retries in flight may be this percent of active requests (Envoy's retry budget);
   * without a budget Envoy allows only 3 retries in flight for the whole cluster.
   */
  budgetPercent: number;
  /** Retries in flight always allowed, whatever the budget says. */
  minRetryConcurrency: number;
}

/**
 * TLS on the listener and, unless `downstreamOnly`, to the servers and in its health checks,
 * with the certificates of a `grpc-lb certs` directory delivered by file SDS so that they rotate.
 */
export interface EnvoyTlsOptions {
  /** The directory `grpc-lb certs` wrote, holding the `current` link, as Envoy sees it (absolute). */
  certsDir: string;
  /** The directory of the SDS files (buildSdsFiles), as Envoy sees it (absolute). */
  sdsDir: string;
  /** Envoy presents its client certificate to the servers, which require one (mTLS). */
  mtls: boolean;
  /** TLS on the listener only; the servers and their health checks stay plaintext h2c. Default false. */
  downstreamOnly?: boolean;
  /**
   * How certsDir holds the files. versioned (default): `grpc-lb certs`'s layout, the files in
   * `certsDir/current/`. flat: the files right in certsDir, as in a Kubernetes Secret volume,
   * where kubelet swaps its own `..data` link inside certsDir. Either way a swap is a move in
   * certsDir, which is what Envoy watches.
   */
  certsLayout?: "versioned" | "flat";
}

/** The TLS of the leg to the servers: none when Envoy speaks plaintext to them. */
export const upstreamTlsOf = (tls: EnvoyTlsOptions | false): EnvoyTlsOptions | false =>
  tls === false || tls.downstreamOnly === true ? false : tls;

/** Production defaults: checks every 5 s, a host out after 2 failures (≤ ~11 s), and retries on another host. */
export const DEFAULT_HEALTH_CHECK: HealthCheckOptions = {
  intervalMs: 5000,
  timeoutMs: 1000,
  unhealthyThreshold: 2,
  healthyThreshold: 1,
};
export const DEFAULT_OUTLIER_DETECTION: OutlierDetectionOptions = {
  consecutiveGatewayFailures: 3,
  consecutiveLocalFailures: 3,
  intervalMs: 5000,
  baseEjectionMs: 30_000,
  maxEjectionPercent: 50,
};
export const DEFAULT_RETRY: RetryOptions = {
  retryOn: ["unavailable", "cancelled", "reset", "connect-failure", "refused-stream"],
  numRetries: 3,
  perTryTimeoutMs: 2000,
  backoffBaseMs: 25,
  backoffMaxMs: 250,
  budgetPercent: 25,
  minRetryConcurrency: 10,
};

/** Envoy's own drain_timeout of a connection manager, in ms. */
export const ENVOY_DRAIN_TIMEOUT_MS = 5000;

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
  /** Request header ring_hash and maglev hash on (a request without it goes to a random host). Default "x-hash-key". */
  hashHeader?: string;
  /** How often Envoy re-resolves serverHost, in ms. Default 5000. */
  dnsRefreshMs?: number;
  /** Resolver Envoy asks. Default: the system's (/etc/resolv.conf). */
  dnsResolvers?: DnsResolvers;
  /** Upstream TCP connect timeout, in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Downstream connections Envoy accepts at once before refusing more. Default 10000. */
  maxDownstreamConnections?: number;
  /** A client must finish sending request headers within this, in ms, or gets 408 and is closed. Default 10000. */
  requestHeadersTimeoutMs?: number;
  /**
   * Envoy tells a client connection to go (GOAWAY) once it is this old, in ms, so clients
   * behind a connection balancer spread again over Envoy replicas; 0 is never. Default 0.
   */
  maxConnectionDurationMs?: number;
  /**
   * Envoy ends every stream of the route once it is this old, in ms (the route's
   * max_stream_duration), so that long-lived streams are opened again and spread over new
   * hosts; 0 is never. Default 0.
   */
  maxStreamDurationMs?: number;
  /**
   * A connection told to go (drain, connection age) keeps serving its calls this long
   * between the first GOAWAY and the last one, in ms. Default 5000 (Envoy's own).
   */
  drainTimeoutMs?: number;
  /**
   * Envoy batches host health changes for this long before its balancer sees them, in ms:
   * a new healthy host waits up to this for traffic. Default 1000 (Envoy's own default).
   */
  updateMergeWindowMs?: number;
  /**
   * Below this percent of healthy hosts Envoy panics and routes to every host, healthy or not.
   * Default 50 (Envoy's own); 0 never routes to a host that failed its health checks.
   */
  healthyPanicThresholdPercent?: number;
  /** Active health checks; false for none. Default DEFAULT_HEALTH_CHECK. */
  healthCheck?: HealthCheckOptions | false;
  /** Outlier detection; false for none. Default DEFAULT_OUTLIER_DETECTION. */
  outlierDetection?: OutlierDetectionOptions | false;
  /** Retries of failed calls; false for none. Default DEFAULT_RETRY. */
  retry?: RetryOptions | false;
  /** TLS on the listener and (unless downstreamOnly) to the servers; false is plaintext h2c on both. Default false. */
  tls?: EnvoyTlsOptions | false;
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
    hashHeader: options.hashHeader ?? "x-hash-key",
    dnsRefreshMs: options.dnsRefreshMs ?? 5000,
    dnsResolvers: options.dnsResolvers ?? { kind: "system" },
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    maxDownstreamConnections: options.maxDownstreamConnections ?? 10_000,
    requestHeadersTimeoutMs: options.requestHeadersTimeoutMs ?? 10_000,
    maxConnectionDurationMs: options.maxConnectionDurationMs ?? 0,
    maxStreamDurationMs: options.maxStreamDurationMs ?? 0,
    drainTimeoutMs: options.drainTimeoutMs ?? ENVOY_DRAIN_TIMEOUT_MS,
    updateMergeWindowMs: options.updateMergeWindowMs ?? 1000,
    healthyPanicThresholdPercent: options.healthyPanicThresholdPercent ?? 50,
    healthCheck: options.healthCheck ?? DEFAULT_HEALTH_CHECK,
    outlierDetection: options.outlierDetection ?? DEFAULT_OUTLIER_DETECTION,
    retry: options.retry ?? DEFAULT_RETRY,
    tls: options.tls ?? false,
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
  if (!/^[0-9a-z_.-]+$/.test(o.hashHeader)) {
    throw new UsageError(`envoy config: hashHeader must be a lower-case header name, got '${o.hashHeader}'`);
  }
  if (!(o.maxStreamDurationMs >= 0)) {
    throw new UsageError(`envoy config: maxStreamDurationMs must be 0 or more, got ${o.maxStreamDurationMs}`);
  }
  if (!(o.maxConnectionDurationMs >= 0) || !(o.drainTimeoutMs >= 1)) {
    throw new UsageError(
      "envoy config: maxConnectionDurationMs must be 0 or more and drainTimeoutMs at least 1 ms",
    );
  }
  if (o.dnsRefreshMs < 1 || o.connectTimeoutMs < 1) {
    throw new UsageError("envoy config: dnsRefreshMs and connectTimeoutMs must be at least 1 ms");
  }
  if (!(o.healthyPanicThresholdPercent >= 0 && o.healthyPanicThresholdPercent <= 100)) {
    throw new UsageError(
      `envoy config: healthyPanicThresholdPercent must be from 0 to 100, got ${o.healthyPanicThresholdPercent}`,
    );
  }
  if (o.tls !== false) {
    for (const [what, dir] of [
      ["certsDir", o.tls.certsDir],
      ["sdsDir", o.tls.sdsDir],
    ] as const)
      if (!isAbsolute(dir))
        throw new UsageError(`envoy config: tls.${what} must be an absolute path, got '${dir}'`);
  }
  if (o.dnsResolvers.kind === "servers") {
    if (o.dnsResolvers.servers.length === 0)
      throw new UsageError("envoy config: dnsResolvers lists no server");
    for (const s of o.dnsResolvers.servers) checkPort("DNS resolver port", s.port, 1);
  }
  return o;
}

/** How long Envoy waits for its first EDS answer before it starts with no host, in ms (Envoy's own default is 15 s). */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 5000;

/**
 * Envoy told its servers by EDS over ADS (buildEdsBootstrap) instead of resolving serverHost:
 * the same cluster, health checks, outlier detection and retries, its hosts pushed by an xDS server.
 */
export interface EdsOptions {
  /**
   * The xDS (ADS) server: an IP address (a STATIC cluster) or a DNS name, such as a Kubernetes
   * Service's, resolved as the servers' name is (a DNS cluster with the same resolvers).
   */
  xdsAddress: string;
  /** Port of the xDS server. */
  xdsPort: number;
  /**
   * How long Envoy waits for the first assignment of the cluster before it finishes starting
   * with no host, in ms; 0 waits for ever. Default DEFAULT_INITIAL_FETCH_TIMEOUT_MS.
   */
  initialFetchTimeoutMs?: number;
  /** Envoy's node id, as the xDS server's logs and metrics name it. Default "grpc-lb-envoy". */
  nodeId?: string;
}

export type ResolvedEdsOptions = Required<EdsOptions>;

export function resolveEdsOptions(options: EdsOptions): ResolvedEdsOptions {
  const o: ResolvedEdsOptions = {
    initialFetchTimeoutMs: DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
    nodeId: "grpc-lb-envoy",
    ...options,
  };
  if (isIP(o.xdsAddress) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(o.xdsAddress)) {
    throw new UsageError(
      `envoy config: the xDS server's address must be an IP address or a DNS name, got '${o.xdsAddress}'`,
    );
  }
  checkPort("xDS server port", o.xdsPort, 1);
  if (!Number.isInteger(o.initialFetchTimeoutMs) || o.initialFetchTimeoutMs < 0) {
    throw new UsageError(
      `envoy config: initialFetchTimeoutMs must be 0 (wait for ever) or more, got ${o.initialFetchTimeoutMs}`,
    );
  }
  if (o.nodeId === "")
    throw new UsageError("envoy config: the node id of an Envoy fed by xDS cannot be empty");
  return o;
}

function checkPort(what: string, port: number, min: number): void {
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new UsageError(`envoy config: ${what} must be an integer from ${min} to 65535, got ${port}`);
  }
}
