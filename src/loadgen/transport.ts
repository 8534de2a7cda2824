import { Metadata } from "@grpc/grpc-js";
import type { ActiveCall } from "./calls.js";
import { callStarter } from "./calls.js";
import { ConnectionPool } from "./connections.js";
import type { ResolvedEngineOptions } from "./engine-options.js";

/** A call started by a transport, with the connection (slot and generation) it went out on. */
export interface StartedCall {
  call: ActiveCall;
  slot: number;
  generation: number;
}

/**
 * How the engine's calls reach the target: grpc-js channels (any target,
 * client-side balancing) or the h2 engine's own HTTP/2 sessions (one
 * address). The dispatcher, schedule and recorder are the same over both.
 */
export interface CallTransport {
  /** Resolves when every connection is up; rejects naming the target after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Starts the run's call number `seq` on the next connection in turn. */
  start(seq: number): StartedCall;
  /** Closes every connection; called once no call is in flight. */
  close(): void;
}

/** The grpc-js transport: a pool of channels, each its own HTTP/2 connection (see ConnectionPool). */
export function grpcJsTransport(o: ResolvedEngineOptions, byPeer: boolean): CallTransport {
  const pool = new ConnectionPool({
    target: o.target,
    connections: o.connections,
    newConnectionEvery: o.newConnectionEvery,
    lb: o.lb,
    xdsServer: o.xdsServer,
    keepaliveMs: o.keepaliveMs,
    retryUnavailableAttempts: o.retryUnavailableAttempts,
    tls: o.tls,
    firstSlot: o.share?.firstSlot ?? 1,
  });
  // Serializes a method's request now: one that does not fit fails before anything connects.
  const start = callStarter(o.call, { byPeer });
  return {
    waitReady: (timeoutMs) => pool.waitReady(timeoutMs),
    start(seq) {
      const lease = pool.acquire();
      const metadata = new Metadata();
      for (const [k, v] of o.metadata) metadata.add(k, v);
      if (o.hashKey) metadata.set(o.hashKey.header, `key-${seq % o.hashKey.space}`);
      const call = start(lease.client, metadata, o.deadlineMs);
      void call.done.then(() => lease.release());
      return { call, slot: lease.slot, generation: lease.generation };
    },
    close: () => pool.close(),
  };
}
