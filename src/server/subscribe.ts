import { type ServerWritableStream, status } from "@grpc/grpc-js";
import type { SubscribeReply } from "../generated/lbdemo/v1/SubscribeReply.js";
import type { SubscribeRequest__Output } from "../generated/lbdemo/v1/SubscribeRequest.js";
import type { Identity } from "./echo-service.js";
import { type StreamLimits, streamEnding } from "./stream-end.js";

/** How the server bounds and ends Subscribe streams. */
export interface SubscribeLimits extends StreamLimits {
  /** Longest pause between replies a client may ask for, in ms. */
  maxIntervalMs: number;
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
    const ending = streamEnding(limits, () => {
      clearTimeout(timer);
      call.end();
    });
    call.on("cancelled", () => {
      clearTimeout(timer);
      ending.stop();
    });
    if (ending.ended) return;
    ending.startLifetime(askedMs);
    const next = (): void => {
      if (ending.ended || call.cancelled) return;
      const id = identity();
      call.write({ sequence, server_id: id.serverId, address: id.address });
      sequence += 1;
      timer = setTimeout(next, intervalMs);
    };
    next();
  };
}
