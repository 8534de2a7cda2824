import {
  type Client,
  type ClientUnaryCall,
  type ClientWritableStream,
  type Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import type { GrpcMethod } from "../grpc/method.js";
import type { ActiveCall, CallResult } from "./calls.js";

/** The serialized requests of each call: one, or for a client-streaming method each element of a JSON array. */
export function methodRequests(method: GrpcMethod, request: unknown): Buffer[] {
  if (method.requestStream && Array.isArray(request)) return request.map((r) => method.encodeRequest(r));
  return [method.encodeRequest(request)];
}

// The requests are serialized once for the run and replies are not decoded: who answered is the peer.
const asIs = (b: Buffer): Buffer => b;

/** What a call's peer was: the address of the HTTP/2 connection it went out on. */
function peerOf(call: { getPeer(): string }): string | undefined {
  try {
    return call.getPeer();
  } catch {
    return undefined;
  }
}

/**
 * One call of any method, in its own shape: unary and server-streaming calls
 * send the request, client- and bidi-streaming calls send every request then
 * half-close. Counted by the final status; with `byPeer`, a successful call is
 * attributed to its peer (grpc-js getPeer(), read when the reply headers arrive).
 */
export function startMethodCall(
  client: Client,
  method: Pick<GrpcMethod, "path" | "requestStream" | "responseStream">,
  requests: readonly Buffer[],
  metadata: Metadata,
  deadlineMs: number,
  byPeer: boolean,
): ActiveCall {
  const options = { deadline: Date.now() + deadlineMs };
  const first = requests[0] ?? Buffer.alloc(0);
  let resolve: (r: CallResult) => void = () => {};
  const done = new Promise<CallResult>((r) => (resolve = r));
  let peer: string | undefined;
  const finish = (code: number, details: string, call: { getPeer(): string }): void => {
    if (code !== status.OK) resolve({ code, details });
    else {
      peer ??= peerOf(call);
      resolve(byPeer && peer !== undefined ? { code, serverId: peer, address: peer } : { code });
    }
  };
  const onUnaryEnd =
    (call: () => { getPeer(): string }) =>
    (err: ServiceError | null): void =>
      err
        ? resolve({ code: err.code ?? status.UNKNOWN, details: err.details })
        : finish(status.OK, "", call());

  if (!method.requestStream) {
    if (!method.responseStream) {
      const call: ClientUnaryCall = client.makeUnaryRequest(
        method.path,
        asIs,
        asIs,
        first,
        metadata,
        options,
        onUnaryEnd(() => call),
      );
      call.on("metadata", () => (peer ??= peerOf(call)));
      return { done, cancel: () => call.cancel() };
    }
    const call = client.makeServerStreamRequest(method.path, asIs, asIs, first, metadata, options);
    call.on("metadata", () => (peer ??= peerOf(call)));
    call.on("data", () => {});
    // 'error' carries the same status as 'status'; it needs a listener to not be thrown.
    call.on("error", () => {});
    call.on("status", (s: { code: number; details: string }) => finish(s.code, s.details, call));
    return { done, cancel: () => call.cancel() };
  }
  if (!method.responseStream) {
    const call: ClientWritableStream<Buffer> = client.makeClientStreamRequest(
      method.path,
      asIs,
      asIs,
      metadata,
      options,
      onUnaryEnd(() => call),
    );
    call.on("metadata", () => (peer ??= peerOf(call)));
    for (const r of requests) call.write(r);
    call.end();
    return { done, cancel: () => call.cancel() };
  }
  const call = client.makeBidiStreamRequest(method.path, asIs, asIs, metadata, options);
  call.on("metadata", () => (peer ??= peerOf(call)));
  call.on("data", () => {});
  call.on("error", () => {});
  call.on("status", (s: { code: number; details: string }) => finish(s.code, s.details, call));
  for (const r of requests) call.write(r);
  call.end();
  return { done, cancel: () => call.cancel() };
}
