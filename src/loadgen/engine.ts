import { setTimeout as delay } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { EnvoyAdmin } from "../envoy/admin.js";
import { type HostSplitMeter, startHostSplit } from "../envoy/host-split.js";
import type { ActiveCall } from "./calls.js";
import {
  attributionOf,
  type EngineOptions,
  type ResolvedEngineOptions,
  reportMeta,
  resolveEngineOptions,
} from "./engine-options.js";
import { h2Transport } from "./h2/transport.js";
import { reportWithHostSplit } from "./host-split-report.js";
import { type CallOutcome, LoadRecorder } from "./recorder.js";
import type { LoadReport } from "./report.js";
import { advanceDueMs } from "./schedule.js";
import { type CallTransport, grpcJsTransport } from "./transport.js";

export {
  attributionOf,
  callMeta,
  type EngineKind,
  type EngineOptions,
  type ResolvedEngineOptions,
  reportMeta,
  resolveEngineOptions,
} from "./engine-options.js";

/** How far behind its schedule an open loop may fall and still catch up, in ms. */
const MAX_LAG_MS = 50;

/** What a run has done so far, for a progress line. */
export interface LoadProgress {
  elapsedMs: number;
  ok: number;
  failed: number;
  inFlight: number;
}

/** A load under way, in this thread or in worker threads. */
export interface LoadHandle {
  /** Milliseconds since the load started (after connecting), on the clock of every CallOutcome. */
  now(): number;
  progress(): LoadProgress;
  /** Resolves with the report when the run has ended (bound reached, stopped, or aborted). */
  readonly done: Promise<LoadReport>;
  /**
   * Stops starting calls (and cancels those in flight when `cancel`), then resolves with the report.
   * With `interrupted` (Ctrl-C), the report says so and counts the calls it cancelled apart from failures.
   */
  stop(options?: StopOptions): Promise<LoadReport>;
}

export interface StopOptions {
  /** Cancel the calls in flight instead of letting them finish. Default false. */
  cancel?: boolean;
  /** The user interrupted the run (Ctrl-C): calls it cancels are counted apart. Default false. */
  interrupted?: boolean;
}

/** A load run in this thread. */
export interface LoadRun extends LoadHandle {
  /** The report of the calls finished so far, while the run goes on. */
  snapshot(): LoadReport;
}

/**
 * The one load engine: a dispatcher starts calls by the schedule (closed loop:
 * as soon as fewer than `concurrency` are in flight; open loop: at the rate,
 * still capped by `concurrency`) over a pool of connections, bounded in count
 * and in time, and feeds every outcome to one recorder.
 */
export function startLoad(options: EngineOptions): LoadRun {
  const o = resolveEngineOptions(options);
  const recorder = o.recorder ?? new LoadRecorder();
  const transport = transportOf(o);
  let t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const stopper = new AbortController();
  const active = new Set<ActiveCall>();
  // Calls cancelled because the user interrupted the run: not failures.
  const interruptedCalls = new Set<ActiveCall>();
  const cancelAll = (byUser: boolean): void => {
    for (const c of active) {
      if (byUser) interruptedCalls.add(c);
      c.cancel();
    }
  };
  let ok = 0;
  let failed = 0;
  // Set when the caller's signal, not a bound, ended the dispatching.
  let interrupted = false;
  let wake: (() => void) | undefined;
  const onAbort = (): void => {
    // Even with every call already started, the run was cut short.
    interrupted = true;
    stopper.abort();
    if (o.cancelOnAbort) cancelAll(true);
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  // A signal that fired before the run began never calls its listeners: start stopped.
  if (o.signal?.aborted) onAbort();
  stopper.signal.addEventListener("abort", () => wake?.(), { once: true });

  const launch = (seq: number): Promise<void> => {
    const startMs = now();
    const { call, slot, generation } = transport.start(seq);
    active.add(call);
    return call.done.then((r) => {
      active.delete(call);
      const cancelledByUser = interruptedCalls.delete(call);
      const outcome: CallOutcome = {
        startMs,
        endMs: now(),
        ...r,
        connection: { slot, generation },
        ...(r.code === status.CANCELLED && cancelledByUser ? { interrupted: true } : {}),
      };
      if (r.code === 0) ok += 1;
      else if (outcome.interrupted !== true) failed += 1;
      recorder.record(outcome);
      o.onCall?.(outcome);
    });
  };

  const dispatch = async (): Promise<void> => {
    const pending = new Set<Promise<void>>();
    const open = o.schedule.kind !== "closed";
    // This part's calls: slots lo … hi-1 (0-based) of every `of` consecutive calls.
    const lo = (o.share?.firstSlot ?? 1) - 1;
    const hi = lo + o.connections;
    const of = o.share?.of ?? o.connections;
    const after = (i: number): number => ((i + 1) % of === hi % of ? i + 1 + of - (hi - lo) : i + 1);
    let due = 0;
    for (let i = lo, prev = 0; o.requests === undefined || i < o.requests; prev = i, i = after(i)) {
      if (stopper.signal.aborted) {
        interrupted ||= o.signal?.aborted ?? false;
        break;
      }
      if (open) {
        // A late timer is made up by starting the next call sooner; a longer stall (no free
        // slot, a paused process) is forgotten, so the load resumes at its rate without a burst.
        // A part of a shared run steps over the other parts' calls.
        due = advanceDueMs(o.schedule, due, i - prev);
        if (due < now() - MAX_LAG_MS) due = now();
        // The duration bound ends the schedule itself, not a timer racing the last due call.
        if (o.durationMs !== undefined && due >= o.durationMs) break;
        const wait = due - now();
        if (wait > 0) await delay(wait, undefined, { signal: stopper.signal }).catch(() => {});
      }
      while (pending.size >= o.concurrency && !stopper.signal.aborted)
        await new Promise<void>((r) => (wake = r));
      if (stopper.signal.aborted) {
        interrupted ||= o.signal?.aborted ?? false;
        break;
      }
      const p = launch(i).finally(() => {
        pending.delete(p);
        wake?.();
        wake = undefined;
      });
      pending.add(p);
    }
    await Promise.all(pending);
  };

  const reportNow = (): LoadReport => recorder.report(reportMeta(o, now(), interrupted));

  const done = (async (): Promise<LoadReport> => {
    let bound: NodeJS.Timeout | undefined;
    try {
      if (o.connectTimeoutMs > 0 && !stopper.signal.aborted) {
        const aborted = new Promise<void>((r) =>
          stopper.signal.addEventListener("abort", () => r(), { once: true }),
        );
        await Promise.race([transport.waitReady(o.connectTimeoutMs), aborted]);
      }
      let meter: HostSplitMeter | undefined;
      if (o.envoyCounters !== undefined && !stopper.signal.aborted)
        meter = await startHostSplit(new EnvoyAdmin(o.envoyCounters.admin), o.envoyCounters.cluster);
      const connectMs = performance.now() - t0;
      t0 = performance.now();
      if (o.startGate !== undefined && !stopper.signal.aborted) {
        const aborted = new Promise<undefined>((r) =>
          stopper.signal.addEventListener("abort", () => r(undefined), { once: true }),
        );
        const startEpochMs = await Promise.race([o.startGate(connectMs), aborted]);
        if (startEpochMs !== undefined) t0 = startEpochMs - performance.timeOrigin;
      }
      if (!stopper.signal.aborted) o.onStart?.(connectMs);
      if (o.durationMs !== undefined)
        bound = setTimeout(() => stopper.abort(), Math.max(0, o.durationMs - now()));
      await dispatch();
      const report = reportNow();
      if (meter === undefined || o.envoyCounters === undefined) return report;
      return reportWithHostSplit(report, await meter.finish(), o.envoyCounters.admin);
    } finally {
      clearTimeout(bound);
      o.signal?.removeEventListener("abort", onAbort);
      transport.close();
    }
  })();

  return {
    now,
    progress: () => ({ elapsedMs: now(), ok, failed, inFlight: active.size }),
    snapshot: reportNow,
    done,
    async stop(s = {}) {
      if (s.interrupted) interrupted = true;
      stopper.abort();
      if (s.cancel) cancelAll(s.interrupted ?? false);
      return await done;
    },
  };
}

/** The engine's way to the target, and how it knows who answered. */
function transportOf(o: ResolvedEngineOptions): CallTransport {
  const byPeer = attributionOf(o) === "peer";
  return o.engine === "h2" ? h2Transport(o, byPeer) : grpcJsTransport(o, byPeer);
}
