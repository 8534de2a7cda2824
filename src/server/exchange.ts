import type { ServerDuplexStream } from "@grpc/grpc-js";
import type { ExchangeRequest__Output } from "../generated/lbdemo/v1/ExchangeRequest.js";
import type { SubscribeReply } from "../generated/lbdemo/v1/SubscribeReply.js";
import type { Identity } from "./echo-service.js";
import { type StreamLimits, streamEnding } from "./stream-end.js";

/**
 * lbdemo.v1.Echo/Exchange: answers each message the client sends at once,
 * with its sequence number and this server's identity, until the client
 * half-closes or cancels, the lifetime (asked in the first message) passes or
 * the server drains; all but a cancel end it with OK. A message that arrives
 * after the clean end gets no answer: the client sends it again on resume.
 */
export function exchangeHandler(identity: () => Identity, limits: StreamLimits) {
  return (call: ServerDuplexStream<ExchangeRequest__Output, SubscribeReply>): void => {
    const ending = streamEnding(limits, () => call.end());
    let first = true;
    call.on("cancelled", () => ending.stop());
    call.on("data", (m: ExchangeRequest__Output) => {
      if (ending.ended || call.cancelled) return;
      if (first) {
        first = false;
        ending.startLifetime(m.max_lifetime_ms);
      }
      const id = identity();
      call.write({ sequence: m.sequence, server_id: id.serverId, address: id.address });
    });
    call.on("end", () => ending.endCleanly());
  };
}
