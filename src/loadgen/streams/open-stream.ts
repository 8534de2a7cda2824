import type { CallResult } from "../calls.js";

/**
 * Which long-lived stream: Subscribe (server streaming: the server sends at
 * the asked pace) or Exchange (bidi: the client sends, the server answers each).
 */
export type StreamKind = "subscribe" | "exchange";

/** One reply of a Subscribe stream, as a subscription needs it. */
export interface StreamReply {
  sequence: number;
  serverId: string;
  address: string;
}

/** One Subscribe call under way: `done` always resolves with how it ended; `cancel` ends it as CANCELLED. */
export interface OpenedStream {
  done: Promise<CallResult>;
  cancel(): void;
}

/** What a Subscribe call asks of the server. */
export interface SubscribeAsk {
  fromSeq: number;
  intervalMs: number;
  /** The client's maximum lifetime of the stream, in ms; 0 leaves it to the server. */
  maxLifetimeMs: number;
}

/**
 * How a subscription opens its next stream, the same over both engines: the
 * h2 engine's own sessions (one HOST:PORT) or grpc-js channels (any target).
 */
export interface StreamOpener {
  /** Resolves when every connection is up; rejects naming the target after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void>;
  /** Opens a Subscribe stream on the next connection in turn. */
  open(ask: SubscribeAsk, onReply: (r: StreamReply) => void): OpenedStream;
  close(): void;
}

/** Longest deadline a timer takes (about 24 days): a subscription has none of its own. */
export const NO_DEADLINE_MS = 2_147_483_647;
