import { type Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import type { EchoReply__Output } from "../generated/lbdemo/v1/EchoReply.js";
import type { GrpcMethod } from "../grpc/method.js";
import { echoPackage } from "../proto/echo-package.js";
import { methodRequests, startMethodCall } from "./method-call.js";

const asIs = (b: Buffer): Buffer => b;

/** An Echo call: who answered is the reply's server_id. */
export type EchoCallSpec =
  | { kind: "unary"; message: string }
  /** Server streaming: one EchoStream call asking for `replies` replies, all from one backend. */
  | { kind: "stream"; message: string; replies: number; intervalMs?: number };

/** What each call of a run is. */
export type CallSpec = EchoCallSpec | MethodCallSpec;

/**
 * A call of any method (see resolveMethod): who answered is the call's peer,
 * or Envoy's counters when the run reads them. Its requests are given as
 * JSON, or already serialized (how a worker thread gets them: a method's
 * types do not cross threads).
 */
export type MethodCallSpec =
  | {
      kind: "method";
      method: GrpcMethod;
      /**
       * The request as JSON (protobuf's JSON mapping); for a client- or bidi-streaming method a
       * JSON array is the messages sent one after another. Default {}.
       */
      request?: unknown;
    }
  | { kind: "method"; method: MethodShape; encoded: readonly Uint8Array[] };

/** What a call needs of its method once its requests are serialized. */
export type MethodShape = Pick<GrpcMethod, "path" | "requestStream" | "responseStream">;

/** The same calls with the requests serialized and the method reduced to plain data, to post to a worker. */
export function portableCall(spec: CallSpec): CallSpec {
  if (spec.kind !== "method") return spec;
  const { path, requestStream, responseStream } = spec.method;
  const encoded = "encoded" in spec ? spec.encoded : methodRequests(spec.method, spec.request ?? {});
  return { kind: "method", method: { path, requestStream, responseStream }, encoded };
}

/** Starts one call of a run on a channel. */
export type StartCall = (client: EchoClient, metadata: Metadata, deadlineMs: number) => ActiveCall;

/**
 * How the run starts each call of `spec`; a method's requests are serialized
 * here, once, so a request that does not fit its type fails before any call.
 */
export function callStarter(spec: CallSpec, o: { byPeer: boolean }): StartCall {
  // byPeer: whether a successful call's peer names who answered (not when Envoy's counters do).
  if (spec.kind === "unary") {
    // Serialized once for the run: encoding the same request per call was 3% of a run's CPU.
    const echo = echoPackage().grpc.lbdemo.v1.Echo.service.Echo;
    const request = echo.requestSerialize({ message: spec.message });
    return (client, metadata, deadlineMs) => {
      let resolve: (r: CallResult) => void = () => {};
      const done = new Promise<CallResult>((r) => (resolve = r));
      const call = client.makeUnaryRequest<Buffer, EchoReply__Output>(
        echo.path,
        asIs,
        echo.responseDeserialize,
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (err, reply) => resolve(classify(err, reply)),
      );
      return { done, cancel: () => call.cancel() };
    };
  }
  if (spec.kind === "stream")
    return (client, metadata, deadlineMs) => startCall(client, spec, metadata, deadlineMs);
  const requests =
    "encoded" in spec
      ? spec.encoded.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))
      : methodRequests(spec.method, spec.request ?? {});
  return (client, metadata, deadlineMs) =>
    startMethodCall(client, spec.method, requests, metadata, deadlineMs, o.byPeer);
}

/** How a call ended: its status and, when OK, who answered. */
export interface CallResult {
  code: number;
  /** The status message of a failed call, as the client received it. */
  details?: string;
  serverId?: string;
  address?: string;
}

/** A call under way: `done` always resolves (failures are results); `cancel` ends it as CANCELLED. */
export interface ActiveCall {
  done: Promise<CallResult>;
  cancel(): void;
}

/**
 * The one classification of a finished call, for every front end: an error
 * is its status; a reply without a server_id cannot be attributed and counts
 * as DATA_LOSS, never as a backend.
 */
export function classify(
  err: ServiceError | null | undefined,
  reply: EchoReply__Output | undefined,
): CallResult {
  if (err) return { code: err.code ?? status.UNKNOWN, details: err.details };
  if (!reply || reply.server_id === "") return { code: status.DATA_LOSS };
  return { code: status.OK, serverId: reply.server_id, address: reply.address };
}

/** One Echo call, unary or server streaming. */
export function startCall(
  client: EchoClient,
  spec: EchoCallSpec,
  metadata: Metadata,
  deadlineMs: number,
): ActiveCall {
  const deadline = Date.now() + deadlineMs;
  if (spec.kind === "unary") {
    let resolve: (r: CallResult) => void = () => {};
    const done = new Promise<CallResult>((r) => (resolve = r));
    const call = client.Echo({ message: spec.message }, metadata, { deadline }, (err, reply) =>
      resolve(classify(err, reply)),
    );
    return { done, cancel: () => call.cancel() };
  }
  const call = client.EchoStream(
    { message: spec.message, count: spec.replies, interval_ms: spec.intervalMs ?? 0 },
    metadata,
    {
      deadline,
    },
  );
  const done = new Promise<CallResult>((resolve) => {
    let first: EchoReply__Output | undefined;
    let replies = 0;
    let mixed = false;
    call.on("data", (reply: EchoReply__Output) => {
      replies += 1;
      if (first === undefined) first = reply;
      else if (reply.server_id !== first.server_id) mixed = true;
    });
    // 'error' carries the same status as 'status'; it needs a listener to not be thrown.
    call.on("error", () => {});
    call.on("status", (s: { code: number; details: string }) => {
      if (s.code !== status.OK) resolve({ code: s.code, details: s.details });
      // A stream that switched backends or came up short is not one backend's answer.
      else if (mixed || replies !== spec.replies) resolve({ code: status.DATA_LOSS });
      else resolve(classify(null, first));
    });
  });
  return { done, cancel: () => call.cancel() };
}
