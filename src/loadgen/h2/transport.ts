import type { OutgoingHttpHeaders } from "node:http2";
import { setTimeout as delay } from "node:timers/promises";
import { LoadError, messageOf } from "../../errors.js";
import { describeClientTls } from "../../grpc/client-tls.js";
import { NOT_CONNECTED_HINT } from "../connections.js";
import type { ResolvedEngineOptions } from "../engine-options.js";
import type { CallTransport } from "../transport.js";
import { startH2Call } from "./call.js";
import { H2Connection, TlsRefusal } from "./connection.js";
import { h2Plan } from "./plans.js";
import { grpcTimeout } from "./wire.js";

interface Slot {
  conn: H2Connection;
  slot: number;
  generation: number;
  started: number;
  inFlight: number;
  retired: boolean;
}

/** Pause between attempts to connect while waiting for a connection, in ms (grpc-js's first backoff is 1 s). */
const RECONNECT_MS = 100;

/**
 * Connects `conn`, trying again after a refusal until `deadline`, as a
 * grpc-js channel waiting for READY does (a target still starting is reached).
 */
async function connectBy(conn: H2Connection, deadline: number): Promise<void> {
  for (;;) {
    try {
      return await conn.waitReady(Math.max(1, deadline - Date.now()));
    } catch (e) {
      const left = deadline - Date.now();
      if (left <= RECONNECT_MS || e instanceof TlsRefusal) throw e;
      await delay(RECONNECT_MS);
    }
  }
}

/** Sent as user-agent, so a server's logs tell this engine's calls apart. */
const USER_AGENT = "grpc-lb-h2";

/**
 * The h2 engine's transport: `connections` HTTP/2 sessions of its own to one
 * host:port, calls going to them in turn; with churn a slot's connection is
 * replaced after K calls and the old one closes once its last call has ended.
 * Headers are built once per run (a call only adds its hash key).
 */
export function h2Transport(o: ResolvedEngineOptions, byPeer: boolean): CallTransport {
  const plan = h2Plan(o.call, { byPeer });
  const open = (slot: number, generation: number): Slot => ({
    conn: new H2Connection({ target: o.target, tls: o.tls, keepaliveMs: o.keepaliveMs }),
    slot,
    generation,
    started: 0,
    inFlight: 0,
    retired: false,
  });
  const first = o.share?.firstSlot ?? 1;
  const slots = Array.from({ length: o.connections }, (_, i) => open(first + i, 0));
  const { authority, scheme } = slots[0]?.conn ?? open(first, 0).conn;
  const headers: OutgoingHttpHeaders = {
    ":method": "POST",
    ":scheme": scheme,
    ":authority": authority,
    ":path": plan.path,
    "content-type": "application/grpc",
    te: "trailers",
    "user-agent": USER_AGENT,
    "grpc-timeout": grpcTimeout(o.deadlineMs),
  };
  for (const [k, v] of o.metadata) headers[k] = v;
  let next = 0;
  return {
    async waitReady(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      await Promise.all(
        slots.map((s) =>
          connectBy(s.conn, deadline).catch((e: unknown) => {
            throw new LoadError(
              `cannot connect to ${o.target}${e instanceof TlsRefusal ? "" : ` within ${timeoutMs} ms`} over ${describeClientTls(o.tls)} (h2 engine: ${messageOf(e)})${NOT_CONNECTED_HINT[o.tls.kind]}`,
              { cause: e },
            );
          }),
        ),
      );
    },
    start(seq) {
      const index = next;
      next = (next + 1) % slots.length;
      const s = slots[index] as Slot;
      s.started += 1;
      s.inFlight += 1;
      if (o.newConnectionEvery > 0 && s.started >= o.newConnectionEvery) {
        s.retired = true;
        slots[index] = open(s.slot, s.generation + 1);
      }
      const h = o.hashKey ? { ...headers, [o.hashKey.header]: `key-${seq % o.hashKey.space}` } : headers;
      const call = startH2Call(s.conn, plan, h, o.deadlineMs);
      void call.done.then(() => {
        s.inFlight -= 1;
        if (s.retired && s.inFlight === 0) s.conn.close();
      });
      return { call, slot: s.slot, generation: s.generation };
    },
    close() {
      for (const s of slots) s.conn.close();
    },
  };
}
