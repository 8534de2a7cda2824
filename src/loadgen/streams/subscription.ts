import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { SequenceLedger } from "./ledger.js";
import type { OpenedStream, StreamOpener } from "./open-stream.js";

/**
 * Statuses after which a subscription gives up: the request or the client is
 * wrong, and asking again gets the same answer. Any other end (OK from a drain
 * or a lifetime, UNAVAILABLE, a reset) is resumed.
 */
const FINAL = new Set<number>([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.UNIMPLEMENTED,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
]);

/** A subscription's lifecycle. */
export type SubscriptionState =
  | { t: "opening" }
  | { t: "open"; serverId: string; address: string }
  | { t: "backoff" }
  | { t: "failed"; code: number; details: string }
  | { t: "stopped" };

export interface SubscriptionOptions {
  /** Pause between replies the server is asked for, in ms. */
  intervalMs: number;
  /** The client's maximum lifetime of each stream, in ms; 0 leaves it to the server. */
  maxLifetimeMs: number;
  /** Ends in a row with no reply before the subscription gives up. */
  maxAttempts: number;
  /** First pause before resuming after an end with no reply, in ms (doubling, up to 1 s). */
  backoffMs: number;
}

/** One end of a stream: its status, and whether any reply came on it. */
export interface StreamEnd {
  code: number;
  details: string;
  replies: number;
}

/**
 * One long-lived subscription: opens a Subscribe stream, counts its replies
 * in a ledger and by server, and when the stream ends resumes from the
 * ledger's next sequence number, at once after a stream that carried replies,
 * else after a backoff; gives up on a final status or too many empty ends.
 */
export class Subscription {
  state: SubscriptionState = { t: "opening" };
  readonly ledger = new SequenceLedger();
  readonly messagesByServer = new Map<string, number>();
  readonly ends: StreamEnd[] = [];
  resumes = 0;
  private current: OpenedStream | undefined;

  constructor(
    private readonly opener: StreamOpener,
    private readonly o: SubscriptionOptions,
    private readonly onEnd: (end: StreamEnd) => void = () => {},
  ) {}

  /** Runs until `signal` aborts (then the stream is cancelled) or the subscription gives up. */
  async run(signal: AbortSignal): Promise<void> {
    let emptyInRow = 0;
    const cancel = (): void => this.current?.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      while (!signal.aborted) {
        this.state = { t: "opening" };
        let replies = 0;
        this.current = this.opener.open(
          { fromSeq: this.ledger.next, intervalMs: this.o.intervalMs, maxLifetimeMs: this.o.maxLifetimeMs },
          (r) => {
            replies += 1;
            if (this.state.t !== "open") this.state = { t: "open", serverId: r.serverId, address: r.address };
            this.ledger.receive(r.sequence);
            this.messagesByServer.set(r.serverId, (this.messagesByServer.get(r.serverId) ?? 0) + 1);
          },
        );
        const result = await this.current.done;
        if (signal.aborted) break;
        const end: StreamEnd = { code: result.code, details: result.details ?? "", replies };
        this.ends.push(end);
        this.onEnd(end);
        emptyInRow = replies > 0 ? 0 : emptyInRow + 1;
        if (FINAL.has(end.code) || emptyInRow >= this.o.maxAttempts) {
          this.state = { t: "failed", code: end.code, details: end.details };
          return;
        }
        this.resumes += 1;
        if (emptyInRow > 0) {
          this.state = { t: "backoff" };
          const pause = Math.min(1000, this.o.backoffMs * 2 ** (emptyInRow - 1));
          await delay(pause, undefined, { signal }).catch(() => {});
        }
      }
      this.state = { t: "stopped" };
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }
}
