import { type ServerWritableStream, status } from "@grpc/grpc-js";
import type { SubscribeReply } from "../generated/lbdemo/v1/SubscribeReply.js";
import type { SubscribeRequest__Output } from "../generated/lbdemo/v1/SubscribeRequest.js";
import type { Identity } from "./echo-service.js";

/** How the server bounds and ends Subscribe streams. */
export interface SubscribeLimits {
  /** Longest pause between replies a client may ask for, in ms. */
  maxIntervalMs: number;
  /** The server's maximum stream lifetime, in ms (each stream ends within its last tenth, jittered); 0 is none. */
  maxLifetimeMs: number;
  /** Aborted when the server drains: every Subscribe stream then ends with OK, so its client resumes elsewhere. */
  draining: AbortSignal;
}

/**
 * The lifetime of one stream: the shorter of the client's and the server's
 * maxima, less up to a tenth at random, so that streams opened together do not
 * all end (and resume) together, as grpc's max_connection_age jitters too.
 */
export function streamLifetimeMs(askedMs: number, serverMs: number, random = Math.random()): number {
  const limits = [askedMs, serverMs].filter((ms) => ms > 0);
  if (limits.length === 0) return 0;
  const shortest = Math.min(...limits);
  return Math.max(1, Math.round(shortest * (1 - 0.1 * random)));
}

/**
 * lbdemo.v1.Echo/Subscribe: replies numbered from `from_seq`, the first at
 * once and then one every `interval_ms`, until the client cancels, the
 * lifetime passes or the server drains; the last two end it with OK.
 */
export function subscribeHandler(identity: () => Identity, limits: SubscribeLimits) {
  return (call: ServerWritableStream<SubscribeRequest__Output, SubscribeReply>): void => {
    const { from_seq: fromSeq, interval_ms: intervalMs, max_lifetime_ms: askedMs } = call.request;
    if (intervalMs < 1 || intervalMs > limits.maxIntervalMs) {
      call.emit("error", {
        code: status.INVALID_ARGUMENT,
        details: `interval_ms must be from 1 to ${limits.maxIntervalMs}, got ${intervalMs}`,
      });
      return;
    }
    let sequence = fromSeq;
    let timer: NodeJS.Timeout | undefined;
    let lifetime: NodeJS.Timeout | undefined;
    let ended = false;
    const stop = (): void => {
      ended = true;
      clearTimeout(timer);
      clearTimeout(lifetime);
      limits.draining.removeEventListener("abort", endCleanly);
    };
    function endCleanly(): void {
      if (ended) return;
      stop();
      call.end();
    }
    call.on("cancelled", stop);
    if (limits.draining.aborted) {
      endCleanly();
      return;
    }
    limits.draining.addEventListener("abort", endCleanly, { once: true });
    const lifetimeMs = streamLifetimeMs(askedMs, limits.maxLifetimeMs);
    if (lifetimeMs > 0) lifetime = setTimeout(endCleanly, lifetimeMs);
    const next = (): void => {
      if (ended || call.cancelled) return;
      const id = identity();
      call.write({ sequence, server_id: id.serverId, address: id.address });
      sequence += 1;
      timer = setTimeout(next, intervalMs);
    };
    next();
  };
}
