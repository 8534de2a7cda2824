import { status } from "@grpc/grpc-js";
import { messageOf } from "../../errors.js";
import type { EchoReply__Output } from "../../generated/lbdemo/v1/EchoReply.js";
import { echoPackage } from "../../proto/echo-package.js";
import { type CallResult, type CallSpec, classify } from "../calls.js";
import { methodRequests } from "../method-call.js";
import type { H2CallPlan } from "./call.js";
import { lengthPrefixed } from "./wire.js";

const NO_MESSAGE: CallResult = { code: status.UNIMPLEMENTED, details: "No message received" };
const TOO_MANY: CallResult = { code: status.UNIMPLEMENTED, details: "Too many responses received" };

/** A unary reply's count checked as grpc-js checks it: exactly one message. */
const oneReply = (count: number): CallResult | undefined =>
  count === 0 ? NO_MESSAGE : count > 1 ? TOO_MANY : undefined;

/**
 * What each call of `spec` is on the h2 engine, with the same protobuf
 * encoding and the same judgement as the grpc-js engine: Echo replies are
 * decoded for their server_id (classify), any other method's are only
 * counted, and who answered is the connection's peer when `byPeer`.
 * Requests are serialized here, once for the run.
 */
export function h2Plan(spec: CallSpec, o: { byPeer: boolean }): H2CallPlan {
  const echo = echoPackage().grpc.lbdemo.v1.Echo.service;
  if (spec.kind === "unary") {
    const decode = echo.Echo.responseDeserialize;
    return {
      path: echo.Echo.path,
      body: lengthPrefixed(echo.Echo.requestSerialize({ message: spec.message })),
      replies() {
        let first: Buffer | undefined;
        return {
          onMessage: (m) => (first ??= m),
          judge: (count) => oneReply(count) ?? parsed(() => classify(null, decode(first as Buffer))),
        };
      },
    };
  }
  if (spec.kind === "stream") {
    const decode = echo.EchoStream.responseDeserialize;
    return {
      path: echo.EchoStream.path,
      body: lengthPrefixed(
        echo.EchoStream.requestSerialize({
          message: spec.message,
          count: spec.replies,
          interval_ms: spec.intervalMs ?? 0,
        }),
      ),
      replies() {
        let first: EchoReply__Output | undefined;
        let mixed = false;
        let bad: string | undefined;
        return {
          onMessage: (m) => {
            if (bad !== undefined) return;
            try {
              const reply = decode(m);
              if (first === undefined) first = reply;
              else if (reply.server_id !== first.server_id) mixed = true;
            } catch (e) {
              bad = messageOf(e);
            }
          },
          // A stream that switched backends or came up short is not one backend's answer.
          judge: (count) =>
            bad !== undefined
              ? { code: status.INTERNAL, details: `Response message parsing error: ${bad}` }
              : mixed || count !== spec.replies
                ? { code: status.DATA_LOSS }
                : classify(null, first),
        };
      },
    };
  }
  const requests =
    "encoded" in spec
      ? spec.encoded.map((b) => Buffer.from(b))
      : methodRequests(spec.method, spec.request ?? {});
  const { path, requestStream, responseStream } = spec.method;
  const sent = requestStream ? requests : requests.slice(0, 1);
  const judge = (count: number, peer: string | undefined): CallResult =>
    (responseStream ? undefined : oneReply(count)) ??
    (o.byPeer && peer !== undefined
      ? { code: status.OK, serverId: peer, address: peer }
      : { code: status.OK });
  return {
    path,
    body: Buffer.concat(sent.map(lengthPrefixed)),
    replies: () => ({ onMessage: undefined, judge }),
  };
}

/** A reply that does not parse is INTERNAL, as grpc-js reports it. */
function parsed(judge: () => CallResult): CallResult {
  try {
    return judge();
  } catch (e) {
    return { code: status.INTERNAL, details: `Response message parsing error: ${messageOf(e)}` };
  }
}
