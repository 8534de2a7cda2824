import { connectivityState } from "@grpc/grpc-js";
import { LoadError } from "../errors.js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import { type ClientLbPolicy, echoChannel } from "../grpc/channel.js";
import { type ClientTls, describeClientTls } from "../grpc/client-tls.js";
import { untilSubchannelsSettled } from "../grpc/subchannels.js";
import { isXdsTarget } from "../grpc/xds-channel.js";

/** What to try when a channel never connects: the other security, which the target may be speaking. */
export const NOT_CONNECTED_HINT: Record<ClientTls["kind"], string> = {
  insecure: "; if the target speaks TLS, give --cacert FILE (or --skipTLS)",
  tls: "; check the CA (--cacert), the name (--cname) and, if the server requires one, the client certificate (--cert/--key)",
};

/** Longest single connectivity watch while waiting for READY, in ms. */
const WATCH_MS = 100;

export interface PoolOptions {
  target: string;
  /** Channels open at once, each with its own HTTP/2 connection(s). */
  connections: number;
  /** Replace a channel after this many calls on it (connection churn); 0 never. */
  newConnectionEvery: number;
  lb: ClientLbPolicy | undefined;
  /** With an xds:/// target: the xDS server (host:port). */
  xdsServer?: string | undefined;
  /** HTTP/2 keepalive of each channel, in ms; 0 none. */
  keepaliveMs?: number;
  /** Attempts of a call that failed UNAVAILABLE (the channel's retry policy); 0 none. */
  retryUnavailableAttempts?: number;
  /** Plaintext or TLS. */
  tls: ClientTls;
  /** Number of the first slot (pools of one run in several threads number theirs apart). Default 1. */
  firstSlot?: number;
}

/** A channel lent to one call; `release()` when the call has ended. */
export interface Lease {
  client: EchoClient;
  slot: number;
  generation: number;
  release(): void;
}

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
    this.slots = Array.from({ length: o.connections }, (_, i) => this.open((o.firstSlot ?? 1) + i, 0));
  }

  private open(slot: number, generation: number): Channel {
    const client = echoChannel(this.o.target, {
      ownConnection: true,
      ...(this.o.lb ? { lb: this.o.lb } : {}),
      keepaliveMs: this.o.keepaliveMs ?? 0,
      retryUnavailableAttempts: this.o.retryUnavailableAttempts ?? 0,
      tls: this.o.tls,
      xdsServer: this.o.xdsServer,
    });
    return { client, slot, generation, started: 0, inFlight: 0, retired: false };
  }

  /** Resolves when every channel is connected; rejects naming the target after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(this.slots.map((c) => this.waitChannelReady(c.client, deadline, timeoutMs)));
  }

  /**
   * Waits for READY in short watches rather than with grpc-js's waitForReady:
   * a channel closed while that waits (Ctrl-C) can leave its deadline timer
   * armed, holding the process open until the deadline. A short watch leaks
   * at most WATCH_MS.
   */
  private async waitChannelReady(client: EchoClient, deadline: number, timeoutMs: number): Promise<void> {
    const channel = client.getChannel();
    for (;;) {
      let state: connectivityState;
      try {
        state = channel.getConnectivityState(true);
      } catch {
        return; // closed: the run is over, nothing to wait for
      }
      if (state === connectivityState.READY && isXdsTarget(this.o.target))
        return untilSubchannelsSettled(channel, deadline);
      if (state === connectivityState.READY || state === connectivityState.SHUTDOWN) return;
      if (Date.now() >= deadline)
        throw new LoadError(
          `cannot connect to ${this.o.target} within ${timeoutMs} ms over ${describeClientTls(this.o.tls)} (channel ${connectivityState[state]})${NOT_CONNECTED_HINT[this.o.tls.kind]}`,
        );
      await new Promise<void>((resolve) => {
        try {
          channel.watchConnectivityState(state, Math.min(deadline, Date.now() + WATCH_MS), () => resolve());
        } catch {
          resolve();
        }
      });
    }
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
