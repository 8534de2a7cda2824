import {
  DEFAULT_RETRY,
  type EnvoyConfigOptions,
  type HealthCheckOptions,
  type OutlierDetectionOptions,
  type RetryOptions,
} from "../envoy/options.js";
import type { EnvoyLogLevel, HotRestartOptions } from "../envoy/process.js";

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

/**
 * The lab's Envoy: the builder's options the lab lets vary (where the servers are and which
 * DNS to ask are the lab's to say), and how the process runs.
 */
export type LabEnvoyOptions = Omit<
  EnvoyConfigOptions,
  "listenAddress" | "serverHost" | "serverPort" | "dnsResolvers" | "tls"
> & {
  /** Envoy worker threads. Default 2. */
  concurrency?: number;
  /** Envoy's log level. Default "warning". */
  logLevel?: EnvoyLogLevel;
  /** Start Envoy hot-restartable, so the lab can reload it in place (LAB_HOT_RESTART). Default false. */
  hotRestart?: boolean;
};

/**
 * A hot restart in the lab: the parent tells its connections to go at once (GOAWAY), and
 * loopback clients reconnect within milliseconds, so 1 s of drain is ample; the parent
 * exits 2 s after that, with nothing left to cut.
 */
export const LAB_HOT_RESTART: HotRestartOptions = { drainTimeS: 1, parentShutdownTimeS: 3 };

/** Lab values of Envoy's options, over the builder's production defaults. */
export const LAB_ENVOY: Required<LabEnvoyOptions> = {
  listenPort: 0,
  adminPort: 0,
  policy: "round_robin",
  hashHeader: "x-hash-key",
  dnsRefreshMs: 1000,
  connectTimeoutMs: 1000,
  maxDownstreamConnections: 10_000,
  requestHeadersTimeoutMs: 2000,
  maxConnectionDurationMs: 0,
  maxStreamDurationMs: 0,
  drainTimeoutMs: 5000,
  // 0: a new host gets traffic as soon as it is healthy.
  updateMergeWindowMs: 0,
  // Envoy's own default: the lab's DNS drops a server at once, so it never lists a majority unhealthy.
  healthyPanicThresholdPercent: 50,
  healthCheck: LAB_HEALTH_CHECK,
  outlierDetection: LAB_OUTLIER_DETECTION,
  retry: LAB_RETRY,
  concurrency: 2,
  logLevel: "warning",
  hotRestart: false,
};
