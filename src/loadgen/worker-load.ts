import { Worker } from "node:worker_threads";
import { EnvoyAdmin } from "../envoy/admin.js";
import { type HostSplitMeter, startHostSplit } from "../envoy/host-split.js";
import { LoadError } from "../errors.js";
import { portableCall } from "./calls.js";
import {
  attributionOf,
  type EngineOptions,
  type LoadHandle,
  reportMeta,
  resolveEngineOptions,
  startLoad,
} from "./engine.js";
import { reportWithHostSplit } from "./host-split-report.js";
import { LoadRecorder, type RecorderState } from "./recorder.js";
import type { LoadReport } from "./report.js";
import { type FromWorker, PROGRESS_FIELDS, type ToWorker, type WorkerPart } from "./worker-protocol.js";

/** How long a worker may take to end once told to stop before it is terminated, in ms. */
const EXIT_GRACE_MS = 2000;
/**
 * Each worker's V8 young generation, in MB. Node's default grows to 48 MB per
 * thread; 8 cut a 2-worker run's RSS from ~247 to ~194 MB (10,000 calls at
 * 1,000/s) with no CPU per call cost we could measure: a load's garbage dies young.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

export interface WorkerLoadOptions
  extends Omit<EngineOptions, "onCall" | "share" | "startGate" | "recorder"> {
  /**
   * Worker threads, each with its own connections, calls in flight and share of
   * the calls; 1 runs in this thread. Fewer when there are fewer connections,
   * calls in flight or requests than workers (see usableWorkers).
   */
  workers: number;
}

/** The workers a run can use: each needs at least one connection, one call in flight and one call to make. */
export function usableWorkers(
  workers: number,
  o: { connections?: number | undefined; concurrency?: number | undefined; requests?: number | undefined },
): number {
  return Math.max(
    1,
    Math.min(workers, o.connections ?? 1, o.concurrency ?? 1, o.requests ?? Number.POSITIVE_INFINITY),
  );
}

/** `total` split into `parts` whole shares that differ by at most one, larger first. */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** What a worker counted, and how long its part of the load ran on the run's clock, in ms. */
type WorkerResult = { state: RecorderState; durationMs: number };

interface Thread {
  worker: Worker;
  /** Resolves once connected (or done without ever starting, when stopped early); rejects if it failed. */
  ready: Promise<void>;
  result: Promise<WorkerResult>;
  exited: Promise<void>;
}

/**
 * The load on several worker threads: each runs the one engine over its own
 * connections with its share of the concurrency, and starts the calls of the
 * run's one sequence that go to its connections, at their times (so -n, the
 * rate and the calls per connection are exactly the run's). The threads start and connect first; the clock starts when
 * all are ready, so their start-up is reported, not measured. What each
 * counted is merged into one recorder (HDR histograms added), and Envoy's
 * counters, when read, are read here around the whole run. One worker runs
 * in this thread.
 */
export function startWorkerLoad(options: WorkerLoadOptions): LoadHandle {
  const { workers: asked, ...engineOptions } = options;
  const o = resolveEngineOptions(engineOptions);
  const count = usableWorkers(asked, o);
  if (count === 1) return startLoad(engineOptions);

  const attribution = attributionOf(o);
  const call = portableCall(o.call);
  const progressBuffer = new SharedArrayBuffer(count * PROGRESS_FIELDS * 4);
  const progressCounts = new Int32Array(progressBuffer);
  const connections = splitEvenly(o.connections, count);
  const concurrency = splitEvenly(o.concurrency, count);
  const {
    signal: _signal,
    onStart: _onStart,
    envoyCounters: _envoyCounters,
    onCall: _onCall,
    startGate: _startGate,
    recorder: _recorder,
    ...plain
  } = o;

  let t0: number | undefined;
  const now = (): number => (t0 === undefined ? 0 : performance.now() - t0);
  let stopping: { cancel: boolean } | undefined;
  let interrupted = false;
  const startedAt = performance.now();
  let firstSlot = 1;
  const threads = connections.map((n, index): Thread => {
    const part: WorkerPart = {
      options: {
        ...plain,
        call,
        attribution,
        connections: n,
        concurrency: concurrency[index] ?? 1,
        share: { firstSlot, of: o.connections },
      },
      progress: progressBuffer,
      index,
    };
    firstSlot += n;
    return startThread(part);
  });
  const tell = (m: ToWorker): void => {
    for (const t of threads) t.worker.postMessage(m);
  };
  const stopAll = (cancel: boolean): void => {
    if (stopping !== undefined) return;
    stopping = { cancel };
    // Before the start nothing was measured: the threads are ended at once.
    if (t0 === undefined) for (const t of threads) void t.worker.terminate();
    else tell({ kind: "stop", cancel, interrupted });
  };
  const onAbort = (): void => {
    interrupted = true;
    stopAll(o.cancelOnAbort);
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const done = (async (): Promise<LoadReport> => {
    const recorder = new LoadRecorder();
    let startupMs = 0;
    try {
      let meter: HostSplitMeter | undefined;
      if (stopping === undefined) {
        // Threads stopped before the start are terminated: their failing to get ready is no error.
        await Promise.all(threads.map((t) => t.ready)).catch((e: unknown) => {
          if (stopping === undefined) throw e;
        });
        if (o.envoyCounters !== undefined && stopping === undefined)
          meter = await startHostSplit(new EnvoyAdmin(o.envoyCounters.admin), o.envoyCounters.cluster);
      }
      startupMs = performance.now() - startedAt;
      let durationMs = 0;
      if (stopping === undefined) {
        t0 = performance.now();
        o.onStart?.(startupMs);
        tell({ kind: "go", startEpochMs: performance.timeOrigin + t0 });
        for (const r of await Promise.all(threads.map((t) => t.result))) {
          recorder.merge(r.state);
          durationMs = Math.max(durationMs, r.durationMs);
        }
      }
      const report: LoadReport = {
        ...recorder.report(reportMeta(o, durationMs, interrupted)),
        workers: { threads: count, startupMs: Math.round(startupMs) },
      };
      if (meter === undefined || o.envoyCounters === undefined) return report;
      return reportWithHostSplit(report, await meter.finish(), o.envoyCounters.admin);
    } catch (e) {
      stopAll(true);
      throw e;
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
      await Promise.all(threads.map((t) => endThread(t)));
    }
  })();

  return {
    now,
    progress() {
      let ok = 0;
      let failed = 0;
      let inFlight = 0;
      for (let i = 0; i < count; i++) {
        ok += Atomics.load(progressCounts, i * PROGRESS_FIELDS);
        failed += Atomics.load(progressCounts, i * PROGRESS_FIELDS + 1);
        inFlight += Atomics.load(progressCounts, i * PROGRESS_FIELDS + 2);
      }
      return { elapsedMs: now(), ok, failed, inFlight };
    },
    done,
    async stop(s = {}) {
      if (s.interrupted) interrupted = true;
      stopAll(s.cancel ?? false);
      return await done;
    },
  };
}

function startThread(part: WorkerPart): Thread {
  const worker = new Worker(new URL("./load-worker.js", import.meta.url), {
    workerData: part,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  const noop = (): void => {};
  let ready = { resolve: noop, reject: noop as (e: unknown) => void };
  let result = { resolve: noop as (r: WorkerResult) => void, reject: noop as (e: unknown) => void };
  const readyP = new Promise<void>((resolve, reject) => (ready = { resolve, reject }));
  const resultP = new Promise<WorkerResult>((resolve, reject) => (result = { resolve, reject }));
  // Awaited only after every thread is ready: an early failure must not go unhandled meanwhile.
  readyP.catch(noop);
  resultP.catch(noop);
  const fail = (e: unknown): void => {
    ready.reject(e);
    result.reject(e);
  };
  worker.on("message", (m: FromWorker) => {
    switch (m.kind) {
      case "ready":
        ready.resolve();
        return;
      case "done":
        // A worker stopped before it was ready reports without having started.
        ready.resolve();
        result.resolve(m);
        return;
      case "failed":
        fail(new LoadError(m.message.replace(/^load: /, "")));
        return;
    }
  });
  const name = `worker thread ${part.index + 1}`;
  worker.on("error", (e) => fail(new LoadError(`${name} failed: ${e.message}`, { cause: e })));
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      fail(new LoadError(`${name} ended before reporting`));
      resolve();
    }),
  );
  return { worker, ready: readyP, result: resultP, exited };
}

/** Waits for a thread to end by itself (its connections closed), terminating it after EXIT_GRACE_MS. */
async function endThread(t: Thread): Promise<void> {
  const timer = setTimeout(() => void t.worker.terminate(), EXIT_GRACE_MS);
  await t.exited;
  clearTimeout(timer);
}
