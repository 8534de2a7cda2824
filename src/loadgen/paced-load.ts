import type { ClientTls } from "../grpc/client-tls.js";
import { waitFor } from "../util/wait.js";
import { startLoad } from "./engine.js";
import type { LoadReport } from "./report.js";

/** One finished call: when it started and ended (ms since the load started) and who answered. */
export interface RequestResult {
  startMs: number;
  endMs: number;
  /** The answering instance; undefined when the call failed. */
  serverId: string | undefined;
  /** gRPC status code; 0 is OK. */
  code: number;
  /** The status message of a failed call. */
  details?: string;
}

export interface PacedLoadOptions {
  target: string;
  /** With an xds:/// target (proxyless gRPC): the xDS server, host:port. Default none. */
  xdsServer?: string;
  /** Calls started per second. */
  ratePerSec: number;
  /** Most calls in flight at once, over all channels. */
  concurrency: number;
  /** Channels, each its own HTTP/2 connection, taking calls in turn. Default 1. */
  connections?: number;
  /** HTTP/2 keepalive of each channel, in ms; 0 none. Default 0. */
  keepaliveMs?: number;
  /** A retry policy for UNAVAILABLE, up to this many attempts; 0 none. Default 0. */
  retryUnavailableAttempts?: number;
  /** Hard bound on calls. */
  maxRequests: number;
  /** Hard bound on duration, in ms: the load stops by itself then. */
  maxDurationMs: number;
  /** Deadline of each call, in ms. */
  deadlineMs: number;
  /** Stops the load (and any wait on it) early. */
  signal?: AbortSignal;
  /** How the channels are secured. Default plaintext. */
  tls?: ClientTls;
}

export interface PacedLoad {
  /** Milliseconds since the load started, on the same clock as the results. */
  now(): number;
  /** Results so far, in completion order (a live array: do not modify). */
  readonly results: readonly RequestResult[];
  /** Resolves once `n` calls have finished; rejects at once when `signal` aborts. */
  waitForResults(n: number, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Stops starting calls, waits for those in flight, and returns every result. */
  stop(): Promise<readonly RequestResult[]>;
  /** The engine's report of the calls finished so far: totals by status, per backend, per second. */
  report(): LoadReport;
}

/**
 * Keeps a steady stream of Echo calls going over its channels while a
 * scenario changes the cluster, bounded in count and in time: the engine at a
 * constant rate, its outcomes kept as a live list.
 */
export function startPacedLoad(o: PacedLoadOptions): PacedLoad {
  const results: RequestResult[] = [];
  const run = startLoad({
    target: o.target,
    xdsServer: o.xdsServer,
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    concurrency: o.concurrency,
    connections: o.connections ?? 1,
    keepaliveMs: o.keepaliveMs ?? 0,
    retryUnavailableAttempts: o.retryUnavailableAttempts ?? 0,
    requests: o.maxRequests,
    durationMs: o.maxDurationMs,
    schedule: { kind: "const", rps: o.ratePerSec },
    call: { kind: "unary", message: "scenario" },
    deadlineMs: o.deadlineMs,
    connectTimeoutMs: 0,
    signal: o.signal,
    // Ctrl-C ends a scenario at once: calls in flight are cancelled, not awaited.
    cancelOnAbort: true,
    onCall: (c) =>
      results.push({
        startMs: c.startMs,
        endMs: c.endMs,
        serverId: c.serverId,
        code: c.code,
        ...(c.details === undefined ? {} : { details: c.details }),
      }),
  });
  return {
    now: run.now,
    results,
    async waitForResults(n, timeoutMs, signal) {
      await waitFor(
        `${n} calls to finish`,
        () => (results.length >= n ? true : undefined),
        { timeoutMs, intervalMs: 10, ...(signal ? { signal } : {}) },
        () => `${results.length} finished`,
      );
    },
    async stop() {
      await run.stop();
      return results;
    },
    report: run.snapshot,
  };
}
