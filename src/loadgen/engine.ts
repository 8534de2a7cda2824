import { setTimeout as delay } from "node:timers/promises";
import { Metadata } from "@grpc/grpc-js";
import { EnvoyAdmin } from "../envoy/admin.js";
import { type HostSplitMeter, startHostSplit } from "../envoy/host-split.js";
import { LoadError } from "../errors.js";
import type { ClientLbPolicy } from "../grpc/channel.js";
import { type ClientTls, INSECURE } from "../grpc/client-tls.js";
import { type ActiveCall, type CallSpec, callStarter } from "./calls.js";
import { ConnectionPool } from "./connections.js";
import { reportWithHostSplit } from "./host-split-report.js";
import { type CallOutcome, LoadRecorder, type ReportMeta } from "./recorder.js";
import type { Attribution, CallShape, LoadReport } from "./report.js";
import { advanceDueMs, type Schedule } from "./schedule.js";

/** How far behind its schedule an open loop may fall and still catch up, in ms. */
const MAX_LAG_MS = 50;

export interface EngineOptions {
  /** host:port (Envoy's listener, an L4 proxy, one server) or a grpc-js target such as dns://HOST:PORT/NAME:PORT. */
  target: string;
  /** Channels open at once, each its own HTTP/2 connection; calls go to them in turn. Default 1. */
  connections?: number;
  /** Most calls in flight at once, over all connections. Default 1. */
  concurrency?: number;
  /** Bound on calls started; at least one of `requests` and `durationMs` is required. */
  requests?: number;
  /** Bound on time, in ms: no call starts after it. */
  durationMs?: number;
  /** When calls start. Default closed loop. */
  schedule?: Schedule;
  /** What each call is. Default unary Echo of "hello". */
  call?: CallSpec;
  /**
   * Count who answered by Envoy's per-host counters, read from its admin API (host:port)
   * before and after the run, in `cluster` or in the clusters whose counters moved; calls
   * are then not attributed one by one. Default none: by server_id (Echo) or peer.
   */
  envoyCounters?: { admin: string; cluster?: string | undefined } | undefined;
  /** Deadline of each call, in ms. Default 5000. */
  deadlineMs?: number;
  /** Wait this long for every connection before the first call, in ms; 0 starts at once. Default 5000. */
  connectTimeoutMs?: number;
  /** Headers sent with every call. Default none. */
  metadata?: readonly (readonly [string, string])[];
  /** A header carrying one of `space` keys, in turn, per call (for hash policies). Default none. */
  hashKey?: { header: string; space: number } | undefined;
  /** Replace a connection after this many calls on it; 0 never. Default 0. */
  newConnectionEvery?: number;
  /** grpc-js balancing policy for client-side targets. Default none. */
  lb?: ClientLbPolicy | undefined;
  /** HTTP/2 keepalive of each connection: a PING every this many ms, given up after as long; 0 none. Default 0. */
  keepaliveMs?: number;
  /** A retry policy for UNAVAILABLE, up to this many attempts in all; 0 none. Default 0. */
  retryUnavailableAttempts?: number;
  /** How every connection is secured (ghz's --insecure, --cacert, …). Default plaintext. */
  tls?: ClientTls;
  /** Stops starting calls; the report covers the calls made and says `interrupted`. */
  signal?: AbortSignal | undefined;
  /** On `signal`, cancel the calls in flight too instead of letting them finish. Default false. */
  cancelOnAbort?: boolean;
  /** Told of every finished call, in completion order. */
  onCall?: (c: CallOutcome) => void;
  /** Told once the connections are up, just before the first call, with how long connecting took in ms. */
  onStart?: (connectMs: number) => void;
  /**
   * This engine's part of a run over `of` connections shared among several
   * engines (worker threads): its `connections` are the run's slots
   * `firstSlot` onwards, and it starts exactly the calls of the run's one
   * sequence that the run gives those slots (call i goes to slot i mod `of` + 1),
   * at their times in the schedule, so -n and the rate stay the run's and the
   * parts add up to it. Default the whole run: slot 1 of `connections`.
   */
  share?: { firstSlot: number; of: number };
  /**
   * Once connected, the load waits for this; it resolves with the run's start
   * as epoch ms (performance.timeOrigin + performance.now()), so that parts in
   * several threads share one clock. Default: start at once.
   */
  startGate?: (connectMs: number) => Promise<number>;
  /** Where calls are counted. Default a new recorder. */
  recorder?: LoadRecorder;
  /** How who answered is known. Default envoy-counters with `envoyCounters`, peer for a method, else server-id. */
  attribution?: Attribution;
}

type OptionalOptions =
  | "requests"
  | "durationMs"
  | "hashKey"
  | "lb"
  | "signal"
  | "onCall"
  | "onStart"
  | "envoyCounters"
  | "startGate"
  | "recorder"
  | "attribution"
  | "share";
export type ResolvedEngineOptions = Required<Omit<EngineOptions, OptionalOptions>> &
  Pick<EngineOptions, OptionalOptions>;

export function resolveEngineOptions(o: EngineOptions): ResolvedEngineOptions {
  if (o.requests === undefined && o.durationMs === undefined)
    throw new LoadError("a load run needs a bound: a number of requests or a duration");
  return {
    ...o,
    connections: o.connections ?? 1,
    concurrency: o.concurrency ?? 1,
    schedule: o.schedule ?? { kind: "closed" },
    call: o.call ?? { kind: "unary", message: "hello" },
    deadlineMs: o.deadlineMs ?? 5000,
    connectTimeoutMs: o.connectTimeoutMs ?? 5000,
    metadata: o.metadata ?? [],
    newConnectionEvery: o.newConnectionEvery ?? 0,
    keepaliveMs: o.keepaliveMs ?? 0,
    retryUnavailableAttempts: o.retryUnavailableAttempts ?? 0,
    tls: o.tls ?? INSECURE,
    cancelOnAbort: o.cancelOnAbort ?? false,
  };
}

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
  /** Stops starting calls (and cancels those in flight when `cancel`), then resolves with the report. */
  stop(options?: { cancel?: boolean }): Promise<LoadReport>;
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
  const pool = new ConnectionPool({
    target: o.target,
    connections: o.connections,
    newConnectionEvery: o.newConnectionEvery,
    lb: o.lb,
    keepaliveMs: o.keepaliveMs,
    retryUnavailableAttempts: o.retryUnavailableAttempts,
    tls: o.tls,
    firstSlot: o.share?.firstSlot ?? 1,
  });
  const recorder = o.recorder ?? new LoadRecorder();
  const attribution = attributionOf(o);
  // Serializes a method's request now: one that does not fit fails before anything connects.
  const start = callStarter(o.call, { byPeer: attribution === "peer" });
  let t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const stopper = new AbortController();
  const active = new Set<ActiveCall>();
  const cancelAll = (): void => {
    for (const c of active) c.cancel();
  };
  let ok = 0;
  let failed = 0;
  // Set when the caller's signal, not a bound, ended the dispatching.
  let interrupted = false;
  let wake: (() => void) | undefined;
  const onAbort = (): void => {
    stopper.abort();
    if (o.cancelOnAbort) cancelAll();
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  // A signal that fired before the run began never calls its listeners: start stopped.
  if (o.signal?.aborted) onAbort();
  stopper.signal.addEventListener("abort", () => wake?.(), { once: true });

  const launch = (seq: number): Promise<void> => {
    const lease = pool.acquire();
    const metadata = new Metadata();
    for (const [k, v] of o.metadata) metadata.add(k, v);
    if (o.hashKey) metadata.set(o.hashKey.header, `key-${seq % o.hashKey.space}`);
    const startMs = now();
    const call = start(lease.client, metadata, o.deadlineMs);
    active.add(call);
    return call.done.then((r) => {
      active.delete(call);
      lease.release();
      const outcome: CallOutcome = {
        startMs,
        endMs: now(),
        ...r,
        connection: { slot: lease.slot, generation: lease.generation },
      };
      if (r.code === 0) ok += 1;
      else failed += 1;
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
        interrupted = o.signal?.aborted ?? false;
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
        interrupted = o.signal?.aborted ?? false;
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
        await Promise.race([pool.waitReady(o.connectTimeoutMs), aborted]);
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
      pool.close();
    }
  })();

  return {
    now,
    progress: () => ({ elapsedMs: now(), ok, failed, inFlight: active.size }),
    snapshot: reportNow,
    done,
    async stop(s = {}) {
      stopper.abort();
      if (s.cancel) cancelAll();
      return await done;
    },
  };
}

/** How a run knows who answered: as told, else by Envoy's counters when it reads them, else per call. */
export function attributionOf(o: ResolvedEngineOptions): Attribution {
  return (
    o.attribution ?? (o.envoyCounters ? "envoy-counters" : o.call.kind === "method" ? "peer" : "server-id")
  );
}

/** What a report says of the run besides what its recorder counted. */
export function reportMeta(o: ResolvedEngineOptions, durationMs: number, interrupted: boolean): ReportMeta {
  return {
    target: o.target,
    concurrency: o.concurrency,
    connections: o.connections,
    ...callMeta(o.call),
    attribution: attributionOf(o),
    schedule: o.schedule,
    durationMs,
    interrupted,
  };
}

/** The method and call shape a report names for a CallSpec. */
export function callMeta(c: CallSpec): { method: string; call: CallShape } {
  switch (c.kind) {
    case "unary":
      return { method: "/lbdemo.v1.Echo/Echo", call: "unary" };
    case "stream":
      return { method: "/lbdemo.v1.Echo/EchoStream", call: "stream" };
    case "method": {
      const { requestStream, responseStream } = c.method;
      const call: CallShape = requestStream
        ? responseStream
          ? "bidi-stream"
          : "client-stream"
        : responseStream
          ? "stream"
          : "unary";
      return { method: c.method.path, call };
    }
  }
}
