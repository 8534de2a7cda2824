import {
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import { status } from "@grpc/grpc-js";
import { messageOf } from "../../errors.js";
import type { ActiveCall, CallResult } from "../calls.js";
import type { H2Connection } from "./connection.js";
import {
  decodeGrpcMessage,
  type GrpcStatus,
  headerText,
  MessageReader,
  statusOfHttp,
  statusOfReset,
} from "./wire.js";

/** What one call of a run sends and how its replies are judged once the status is OK. */
export interface H2CallPlan {
  /** The HTTP/2 path, "/pkg.Service/Method". */
  path: string;
  /** Every request, length-prefixed, back to back: written at once, then the client half-closes. */
  body: Buffer;
  /** A new reply handler for one call: what it keeps of each message, and the call's result from them. */
  replies(): {
    onMessage: ((m: Buffer) => void) | undefined;
    judge(count: number, peer: string | undefined): CallResult;
  };
}

const CANCELLED_HERE: GrpcStatus = { code: status.CANCELLED, details: "Cancelled on client" };
const DEADLINE: GrpcStatus = { code: status.DEADLINE_EXCEEDED, details: "Deadline exceeded" };

/**
 * One gRPC call over `conn`, read as grpc-js reads it: headers (or a
 * trailers-only answer), length-prefixed messages, then trailers with
 * grpc-status and a percent-encoded grpc-message; an HTTP status without
 * grpc-status, a reset stream or a dropped connection mapped as grpc-js maps
 * them. A stream the server refused before reading it (REFUSED_STREAM, as
 * after a GOAWAY) or one that could not start on a closing session is tried
 * once more on a new session: gRPC's transparent retry.
 */
export function startH2Call(
  conn: H2Connection,
  plan: H2CallPlan,
  headers: OutgoingHttpHeaders,
  deadlineMs: number,
): ActiveCall {
  let resolve: (r: CallResult) => void = () => {};
  const done = new Promise<CallResult>((r) => (resolve = r));
  let stream: ClientHttp2Stream | undefined;
  let local: GrpcStatus | undefined;
  let finished = false;
  const finish = (r: CallResult): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    resolve(r);
  };
  const endHere = (s: GrpcStatus): void => {
    if (finished || local !== undefined) return;
    local = s;
    if (stream === undefined || stream.closed) finish(s);
    else stream.close(constants.NGHTTP2_CANCEL);
  };
  const timer = setTimeout(() => endHere(DEADLINE), deadlineMs);

  const attempt = (retry: boolean): void => {
    let s: ClientHttp2Stream;
    try {
      s = conn.request(headers);
    } catch (e) {
      if (retry) attempt(false);
      else finish({ code: status.UNAVAILABLE, details: messageOf(e) });
      return;
    }
    stream = s;
    const session = s.session;
    const handler = plan.replies();
    const reader = new MessageReader(handler.onMessage);
    let httpStatus: number | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    let readError: string | undefined;
    let failure: string | undefined;
    s.on("response", (h, flags) => {
      httpStatus = Number(h[":status"]);
      if (flags & constants.NGHTTP2_FLAG_END_STREAM) trailers = h;
    });
    s.on("trailers", (h) => (trailers = h));
    s.on("data", (chunk: Buffer) => {
      if (readError !== undefined) return;
      try {
        reader.push(chunk);
      } catch (e) {
        readError = messageOf(e);
        s.close(constants.NGHTTP2_CANCEL);
      }
    });
    // The status is read on 'close'; an error needs a listener and may say why the session failed.
    s.on("error", (e) => (failure ??= messageOf(e)));
    s.on("close", () => {
      if (local !== undefined) return finish(local);
      if (readError !== undefined)
        return finish(
          httpStatus !== undefined && httpStatus !== 200
            ? statusOfHttp(httpStatus)
            : { code: status.RESOURCE_EXHAUSTED, details: readError },
        );
      if (trailers !== undefined) {
        const st = statusOfTrailers(trailers, httpStatus);
        return finish(st.code === status.OK ? handler.judge(reader.count, conn.peer) : st);
      }
      const rst = s.rstCode ?? constants.NGHTTP2_NO_ERROR;
      if (
        httpStatus === undefined &&
        retry &&
        (rst === constants.NGHTTP2_REFUSED_STREAM || s.id === undefined)
      )
        return void attempt(false);
      if (rst === constants.NGHTTP2_NO_ERROR)
        return finish(
          httpStatus !== undefined && httpStatus !== 200
            ? statusOfHttp(httpStatus)
            : {
                code: status.INTERNAL,
                details: "Received RST_STREAM with code 0 (Call ended without gRPC status)",
              },
        );
      // Node resets the streams of a connection that dropped (or never came up) with CANCEL.
      if (s.id === undefined || (rst === constants.NGHTTP2_CANCEL && (session?.destroyed ?? true)))
        return finish({ code: status.UNAVAILABLE, details: failure ?? "Connection dropped" });
      finish(statusOfReset(rst));
    });
    s.end(plan.body);
  };
  attempt(true);
  return { done, cancel: () => endHere(CANCELLED_HERE) };
}

/** The status trailers (or a trailers-only answer) carry; without grpc-status, the HTTP status's. */
export function statusOfTrailers(trailers: IncomingHttpHeaders, httpStatus: number | undefined): GrpcStatus {
  const code = headerText(trailers["grpc-status"]);
  if (code !== undefined) {
    const message = headerText(trailers["grpc-message"]);
    return { code: Number(code), details: message === undefined ? "" : decodeGrpcMessage(message) };
  }
  if (httpStatus !== undefined) return statusOfHttp(httpStatus);
  return { code: status.UNKNOWN, details: "No status information received" };
}
