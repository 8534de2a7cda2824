import type { OutgoingHttpHeaders } from "node:http2";
import { status } from "@grpc/grpc-js";
import { LoadError, messageOf } from "../../errors.js";
import type { ClientTls } from "../../grpc/client-tls.js";
import { echoPackage } from "../../proto/echo-package.js";
import { type H2CallPlan, startH2Call } from "../h2/call.js";
import { H2Connection } from "../h2/connection.js";
import { lengthPrefixed } from "../h2/wire.js";
import { NO_DEADLINE_MS, type StreamOpener } from "./open-stream.js";

/** Where and how the streams connect. */
export interface StreamConnectOptions {
  /** HOST:PORT for the h2 engine; any grpc-js target for grpc-js. */
  target: string;
  tls: ClientTls;
  /** HTTP/2 connections the streams are dealt over in turn. */
  connections: number;
  /** A PING every this many ms; 0 none. */
  keepaliveMs: number;
  /** Headers sent on every stream. */
  metadata: readonly (readonly [string, string])[];
}

/**
 * Subscribe streams on the h2 engine's own HTTP/2 sessions: each stream is
 * read as the engine reads any call (startH2Call), its replies decoded as they
 * come; a session that got GOAWAY is replaced for the next stream.
 */
export function h2StreamOpener(o: StreamConnectOptions): StreamOpener {
  const method = echoPackage().grpc.lbdemo.v1.Echo.service.Subscribe;
  const conns = Array.from(
    { length: o.connections },
    () => new H2Connection({ target: o.target, tls: o.tls, keepaliveMs: o.keepaliveMs }),
  );
  const first = conns[0] as H2Connection;
  const headers: OutgoingHttpHeaders = {
    ":method": "POST",
    ":scheme": first.scheme,
    ":authority": first.authority,
    ":path": method.path,
    "content-type": "application/grpc",
    te: "trailers",
    "user-agent": "grpc-lb-h2",
  };
  for (const [k, v] of o.metadata) headers[k] = v;
  let next = 0;
  return {
    async waitReady(timeoutMs) {
      await Promise.all(
        conns.map((c) =>
          c.waitReady(timeoutMs).catch((e: unknown) => {
            throw new LoadError(`cannot connect to ${o.target} within ${timeoutMs} ms: ${messageOf(e)}`, {
              cause: e,
            });
          }),
        ),
      );
    },
    open(ask, onReply) {
      const conn = conns[next] as H2Connection;
      next = (next + 1) % conns.length;
      const plan: H2CallPlan = {
        path: method.path,
        body: lengthPrefixed(
          method.requestSerialize({
            from_seq: ask.fromSeq,
            interval_ms: ask.intervalMs,
            max_lifetime_ms: ask.maxLifetimeMs,
          }),
        ),
        replies: () => ({
          onMessage: (m) => {
            const r = method.responseDeserialize(m);
            onReply({ sequence: r.sequence, serverId: r.server_id, address: r.address });
          },
          judge: () => ({ code: status.OK }),
        }),
      };
      return startH2Call(conn, plan, headers, NO_DEADLINE_MS);
    },
    close() {
      for (const c of conns) c.close();
    },
  };
}
