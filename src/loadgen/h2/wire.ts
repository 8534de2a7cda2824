import { constants } from "node:http2";
import { status } from "@grpc/grpc-js";

/** Largest message a call accepts, in bytes: grpc-js's default (grpc.max_receive_message_length). */
export const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/** How a call ended, in gRPC's terms. */
export interface GrpcStatus {
  code: number;
  details: string;
}

/** `message` behind gRPC's 5-byte prefix: not compressed, its length big-endian. */
export function lengthPrefixed(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.byteLength);
  framed[0] = 0;
  framed.writeUInt32BE(message.byteLength, 1);
  framed.set(message, 5);
  return framed;
}

/**
 * Splits a response body into its length-prefixed messages as DATA frames
 * bring it, in any cut. Hands each complete message to `onMessage`; without
 * one, messages are only counted, never copied.
 */
export class MessageReader {
  /** Complete messages read. */
  count = 0;
  /** Bytes of a message (or its prefix) begun and not finished: a truncated body when the stream ends. */
  pending = 0;
  private head: Buffer[] = [];
  private headBytes = 0;
  private need = 0;
  private body: Buffer[] = [];

  constructor(private readonly onMessage: ((message: Buffer) => void) | undefined) {}

  /** Takes one chunk; throws (as grpc-js's decoder) when a message is larger than MAX_RECEIVE_BYTES. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.need === 0) {
        // Reading a prefix, maybe across chunks.
        const take = Math.min(5 - this.headBytes, chunk.length - at);
        this.head.push(chunk.subarray(at, at + take));
        this.headBytes += take;
        at += take;
        this.pending = this.headBytes;
        if (this.headBytes < 5) continue;
        const prefix = this.head.length === 1 ? (this.head[0] as Buffer) : Buffer.concat(this.head);
        this.head = [];
        this.headBytes = 0;
        const length = prefix.readUInt32BE(1);
        if (length > MAX_RECEIVE_BYTES)
          throw new Error(`Received message larger than max (${length} vs ${MAX_RECEIVE_BYTES})`);
        if (length === 0) this.done(Buffer.alloc(0));
        else this.need = length;
        continue;
      }
      const take = Math.min(this.need, chunk.length - at);
      if (this.onMessage !== undefined) this.body.push(chunk.subarray(at, at + take));
      this.need -= take;
      this.pending += take;
      at += take;
      if (this.need === 0)
        this.done(this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body));
    }
  }

  private done(message: Buffer): void {
    this.count += 1;
    this.onMessage?.(message);
    this.body = [];
    this.pending = 0;
  }
}

/** An HTTP status other than 200 as a gRPC status (gRPC's http-grpc-status-mapping, as grpc-js applies it). */
export function statusOfHttp(httpStatus: number): GrpcStatus {
  const code =
    httpStatus === 400
      ? status.INTERNAL
      : httpStatus === 401
        ? status.UNAUTHENTICATED
        : httpStatus === 403
          ? status.PERMISSION_DENIED
          : httpStatus === 404
            ? status.UNIMPLEMENTED
            : httpStatus === 429 || httpStatus === 502 || httpStatus === 503 || httpStatus === 504
              ? status.UNAVAILABLE
              : status.UNKNOWN;
  return { code, details: `Received HTTP status code ${httpStatus}` };
}

/** A stream reset before any gRPC status, by its RST_STREAM code (as grpc-js maps it). */
export function statusOfReset(rstCode: number): GrpcStatus {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return { code: status.UNAVAILABLE, details: "Stream refused by server" };
    case constants.NGHTTP2_CANCEL:
      return { code: status.CANCELLED, details: "Call cancelled" };
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: status.RESOURCE_EXHAUSTED, details: "Bandwidth exhausted or memory limit exceeded" };
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return { code: status.PERMISSION_DENIED, details: "Protocol not secure enough" };
    default:
      return { code: status.INTERNAL, details: `Received RST_STREAM with code ${rstCode}` };
  }
}

/** grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2); a malformed one is kept as it came. */
export function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A deadline as the grpc-timeout header writes it: at most 8 digits and a unit. */
export function grpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1e8) return `${whole}m`;
  const s = Math.ceil(whole / 1000);
  return s < 1e8 ? `${s}S` : `${Math.ceil(s / 60)}M`;
}

/** A header's value as one string (Node gives repeated ones as arrays). */
export function headerText(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}
