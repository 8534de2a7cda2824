import { connectivityState } from "@grpc/grpc-js";
import { LoadError } from "../errors.js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import { type ClientLbPolicy, echoChannel } from "./channel.js";

export interface PoolOptions {
  target: string;
  /** Channels open at once, each with its own HTTP/2 connection(s). */
  connections: number;
  /** Replace a channel after this many calls on it (connection churn); 0 never. */
  newConnectionEvery: number;
  lb: ClientLbPolicy | undefined;
}

/** A channel lent to one call; `release()` when the call has ended. */
export interface Lease {
  client: EchoClient;
  slot: number;
  generation: number;
  release(): void;
}

/** Longest single wait on a channel's state while connecting, in ms. */
const WATCH_MS = 100;

interface Channel {
  client: EchoClient;
  slot: number;
  generation: number;
  started: number;
  inFlight: number;
  retired: boolean;
}

/**
 * The run's channels: calls go to the slots in turn; with churn a slot's
 * channel is replaced after K calls, and the old one closes once its last
 * call has ended.
 */
export class ConnectionPool {
  private readonly slots: Channel[];
  private next = 0;

  constructor(private readonly o: PoolOptions) {
    this.slots = Array.from({ length: o.connections }, (_, i) => this.open(i + 1, 0));
  }

  private open(slot: number, generation: number): Channel {
    const client = echoChannel(this.o.target, {
      ownConnection: true,
      ...(this.o.lb ? { lb: this.o.lb } : {}),
    });
    return { client, slot, generation, started: 0, inFlight: 0, retired: false };
  }

  /**
   * Resolves when every channel is connected, or at once on `signal`; rejects naming the target
   * after `timeoutMs`. Each watch lasts at most WATCH_MS: grpc-js keeps a watch's timer running
   * even after its channel is closed, so a long one would hold the process after Ctrl-C.
   */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.slots.map(async (c) => {
        const channel = c.client.getChannel();
        for (;;) {
          if (signal?.aborted) return;
          const state = channel.getConnectivityState(true);
          if (state === connectivityState.READY) return;
          if (Date.now() >= deadline)
            throw new LoadError(
              `cannot connect to ${this.o.target} within ${timeoutMs} ms (channel ${connectivityState[state]})`,
            );
          await new Promise<void>((resolve) =>
            channel.watchConnectivityState(state, Math.min(deadline, Date.now() + WATCH_MS), () => resolve()),
          );
        }
      }),
    );
  }

  acquire(): Lease {
    const index = this.next;
    this.next = (this.next + 1) % this.slots.length;
    const c = this.slots[index] as Channel;
    c.started += 1;
    c.inFlight += 1;
    if (this.o.newConnectionEvery > 0 && c.started >= this.o.newConnectionEvery) {
      c.retired = true;
      this.slots[index] = this.open(c.slot, c.generation + 1);
    }
    return {
      client: c.client,
      slot: c.slot,
      generation: c.generation,
      release: () => {
        c.inFlight -= 1;
        if (c.retired && c.inFlight === 0) c.client.close();
      },
    };
  }

  /** Closes every channel still open; called once no call is in flight. */
  close(): void {
    for (const c of this.slots) c.client.close();
  }
}
