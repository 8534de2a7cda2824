import { type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import type { EchoHandlers } from "../generated/lbdemo/v1/Echo.js";
import type { EchoReply } from "../generated/lbdemo/v1/EchoReply.js";
import type { EchoRequest__Output } from "../generated/lbdemo/v1/EchoRequest.js";
import type { EchoStreamRequest__Output } from "../generated/lbdemo/v1/EchoStreamRequest.js";
import { exchangeHandler } from "./exchange.js";
import type { StreamLimits } from "./stream-end.js";
import { subscribeHandler } from "./subscribe.js";

/** Who answers: copied into every reply so clients can count per instance. */
export interface Identity {
  serverId: string;
  hostname: string;
  address: string;
}

export interface EchoLimits {
  /** Most replies one EchoStream call may ask for. */
  maxStreamReplies: number;
  /** Longest pause between stream replies, in milliseconds. */
  maxIntervalMs: number;
}

/** Status names a failing Echo call can be answered with (every gRPC status but OK). */
export const FAIL_CODES = Object.keys(status).filter(
  (k) => Number.isNaN(Number(k)) && k !== "OK",
) as readonly FailCode[];
export type FailCode = Exclude<keyof typeof status, "OK">;

/** Faults injected into Echo calls, for experiments; all zero in normal operation. */
export interface EchoFaults {
  /** Pause before each reply, in ms. */
  delayMs: number;
  /** Fraction of calls, 0 to 1, answered with failCode. */
  failRate: number;
  /** The status failing calls get: UNAVAILABLE as a server in trouble, INVALID_ARGUMENT or INTERNAL as a client's mistake. */
  failCode: FailCode;
}

/** Implements lbdemo.v1.Echo; `identity()` is read per call because the bound address is known only after bind. */
export function echoHandlers(
  identity: () => Identity,
  limits: EchoLimits,
  faults: EchoFaults,
  streams: StreamLimits,
): EchoHandlers {
  const reply = (message: string, sequence: number): EchoReply => {
    const id = identity();
    return { message, server_id: id.serverId, hostname: id.hostname, address: id.address, sequence };
  };

  return {
    Subscribe: subscribeHandler(identity, { ...streams, maxIntervalMs: limits.maxIntervalMs }),
    Exchange: exchangeHandler(identity, streams),

    Echo(call: ServerUnaryCall<EchoRequest__Output, EchoReply>, callback: sendUnaryData<EchoReply>) {
      const answer = (): void => {
        if (faults.failRate > 0 && Math.random() < faults.failRate) {
          callback({
            code: status[faults.failCode],
            details: `injected failure, ${faults.failCode} (fail rate ${faults.failRate}) from ${identity().serverId}`,
          });
        } else {
          callback(null, reply(call.request.message, 0));
        }
      };
      if (faults.delayMs > 0) setTimeout(answer, faults.delayMs);
      else answer();
    },

    EchoStream(call: ServerWritableStream<EchoStreamRequest__Output, EchoReply>) {
      const { message, count, interval_ms: intervalMs } = call.request;
      // A status emitted as "error" ends the stream with that status and these details.
      const reject = (details: string): void => {
        call.emit("error", { code: status.INVALID_ARGUMENT, details });
      };
      if (count > limits.maxStreamReplies) {
        reject(`count ${count} is above the limit of ${limits.maxStreamReplies}`);
        return;
      }
      if (intervalMs > limits.maxIntervalMs) {
        reject(`interval_ms ${intervalMs} is above the limit of ${limits.maxIntervalMs}`);
        return;
      }
      let sequence = 0;
      let timer: NodeJS.Timeout | undefined;
      call.on("cancelled", () => clearTimeout(timer));
      const next = (): void => {
        if (call.cancelled) return;
        if (sequence >= count) {
          call.end();
          return;
        }
        call.write(reply(message, sequence));
        sequence += 1;
        timer = setTimeout(next, sequence < count ? intervalMs : 0);
      };
      next();
    },
  };
}
