import { setTimeout as delay } from "node:timers/promises";
import { type ServiceError, status } from "@grpc/grpc-js";
import { waitFor } from "../util/wait.js";
import { echoChannel } from "./channel.js";

/** One finished call: when it started and ended (ms since the load started) and who answered. */
export interface RequestResult {
  startMs: number;
  endMs: number;
  /** The answering instance; undefined when the call failed. */
  serverId: string | undefined;
  /** gRPC status code; 0 is OK. */
  code: number;
}

export interface PacedLoadOptions {
  target: string;
  /** Calls started per second. */
  ratePerSec: number;
  /** Most calls in flight at once (one channel). */
  concurrency: number;
  /** Hard bound on calls. */
  maxRequests: number;
  /** Hard bound on duration, in ms: the load stops by itself then. */
  maxDurationMs: number;
  /** Deadline of each call, in ms. */
  deadlineMs: number;
  /** Stops the load (and any wait on it) early. */
  signal?: AbortSignal;
}

export interface PacedLoad {
  /** Milliseconds since the load started, on the same clock as the results. */
  now(): number;
  /** Results so far, in completion order (a live array: do not modify). */
  readonly results: readonly RequestResult[];
  /** Resolves once `n` calls have finished. */
  waitForResults(n: number, timeoutMs: number): Promise<void>;
  /** Stops starting calls, waits for those in flight, and returns every result. */
  stop(): Promise<readonly RequestResult[]>;
}

/**
 * Keeps a steady stream of Echo calls going over one channel while a
 * scenario changes the cluster, bounded in count and in time.
 */
export function startPacedLoad(o: PacedLoadOptions): PacedLoad {
  const client = echoChannel(o.target);
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const results: RequestResult[] = [];
  const stopper = new AbortController();
  const bound = setTimeout(() => stopper.abort(), o.maxDurationMs);
  o.signal?.addEventListener("abort", () => stopper.abort(), { once: true });
  const periodMs = 1000 / o.ratePerSec;
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;

  const call = (): Promise<void> =>
    new Promise((resolve) => {
      const startMs = now();
      client.Echo({ message: "scenario" }, { deadline: Date.now() + o.deadlineMs }, (err, reply) => {
        const code = err
          ? ((err as ServiceError).code ?? status.UNKNOWN)
          : reply?.server_id
            ? status.OK
            : status.DATA_LOSS;
        results.push({
          startMs,
          endMs: now(),
          serverId: code === status.OK ? reply?.server_id : undefined,
          code,
        });
        resolve();
      });
    });

  const running = (async () => {
    const pending = new Set<Promise<void>>();
    // Each call is due one period after the previous one was due, or now if that is past:
    // after a stall the load resumes at its rate instead of bursting to catch up.
    let due = 0;
    for (let i = 0; i < o.maxRequests && !stopper.signal.aborted; i++) {
      due = Math.max(now(), due + (i === 0 ? 0 : periodMs));
      const wait = due - now();
      if (wait > 0) await delay(wait, undefined, { signal: stopper.signal }).catch(() => {});
      if (stopper.signal.aborted) break;
      while (inFlight >= o.concurrency) await new Promise<void>((r) => (slotFreed = r));
      inFlight += 1;
      const p = call().finally(() => {
        inFlight -= 1;
        pending.delete(p);
        slotFreed?.();
        slotFreed = undefined;
      });
      pending.add(p);
    }
    await Promise.all(pending);
  })();

  return {
    now,
    results,
    async waitForResults(n, timeoutMs) {
      await waitFor(
        `${n} calls to finish`,
        () => (results.length >= n ? true : undefined),
        {
          timeoutMs,
          intervalMs: 10,
        },
        () => `${results.length} finished`,
      );
    },
    async stop() {
      stopper.abort();
      await running;
      clearTimeout(bound);
      client.close();
      return results;
    },
  };
}
