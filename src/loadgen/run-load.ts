import type { ClientTls } from "../grpc/client-tls.js";
import { startLoad } from "./engine.js";
import type { LoadReport } from "./report.js";

export interface LoadOptions {
  /** host:port of Envoy's listener (or of one server, to see L4 pinning). */
  target: string;
  /** Number of Echo calls. Default 100. */
  requests?: number;
  /** Calls in flight at once, all over the one channel. Default 1. */
  concurrency?: number;
  /** Deadline of each call, in ms. Default 5000. */
  deadlineMs?: number;
  /** How long to wait for the channel to connect before giving up, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Text sent in every request. Default "hello". */
  message?: string;
  /** Stops issuing new calls; the report covers the calls made. */
  signal?: AbortSignal;
  /** How the channel is secured. Default plaintext. */
  tls?: ClientTls;
}

/**
 * Sends unary Echo calls over a single channel, the way one gRPC client does:
 * one HTTP/2 connection that an L4 balancer would pin to one server. The
 * engine in closed loop with one connection.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  return await startLoad({
    target: options.target,
    requests: options.requests ?? 100,
    concurrency: options.concurrency ?? 1,
    deadlineMs: options.deadlineMs ?? 5000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    call: { kind: "unary", message: options.message ?? "hello" },
    signal: options.signal,
    ...(options.tls ? { tls: options.tls } : {}),
    cancelOnAbort: true,
  }).done;
}
