import { Worker } from "node:worker_threads";
import { LabError } from "../../errors.js";
import type { PacedLoadOptions, RequestResult } from "../../loadgen/paced-load.js";

/** What the worker posts: outcomes as they end, on a clock that starts at `zeroEpochMs`. */
export type FromProxyless =
  | { kind: "results" | "stopped"; zeroEpochMs: number; results: RequestResult[] }
  | { kind: "failed"; message: string };
export type ToProxyless = { kind: "stop" };

/** How long the worker may take to finish its calls once told to stop, in ms: a call's deadline and some. */
const stopGraceMs = (o: Pick<PacedLoadOptions, "deadlineMs">): number => o.deadlineMs + 1000;

/** A proxyless load run in a worker thread, its outcomes mirrored here as they end. */
export interface ProxylessLoad {
  /** Milliseconds since the load started, on the clock of its results. */
  now(): number;
  /** Outcomes so far, in the order they ended (a live array). */
  readonly results: readonly RequestResult[];
  /** Throws, saying why, once the worker has failed: waits on the load end then. */
  throwIfFailed(): void;
  /** Stops the load, waits for the calls in flight, ends the thread; every outcome. */
  stop(): Promise<readonly RequestResult[]>;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * Starts a paced load in a worker thread. Why a thread: grpc-js-xds 1.14.1 arms a 15-minute
 * timer, not unref'd, whenever an assignment empties its priority list (PriorityChildImpl's
 * deactivation timer), and closing the channel does not clear it, so a process that saw an
 * empty assignment would stay up for 15 minutes after its last call. Ending the thread ends it.
 */
export function startProxylessThread(
  options: Omit<PacedLoadOptions, "signal">,
  signal: AbortSignal,
): ProxylessLoad {
  const worker = new Worker(new URL("./xds-proxyless-worker.js", import.meta.url), { workerData: options });
  const results: RequestResult[] = [];
  let zeroEpochMs = epochNow();
  let failure: string | undefined;
  /** The load has stopped, failed, or its thread has exited: nothing more will come. */
  let ended = false;
  let onEnded = (): void => {};
  const end = (): void => {
    ended = true;
    onEnded();
  };
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const terminate = (): Promise<number> => worker.terminate();
  worker.on("message", (m: FromProxyless) => {
    if (m.kind === "failed") {
      failure = m.message;
      end();
      return;
    }
    zeroEpochMs = m.zeroEpochMs;
    results.push(...m.results);
    if (m.kind === "stopped") end();
  });
  worker.on("error", (e) => {
    failure = e.message;
    end();
  });
  void exited.then(() => {
    if (!ended) failure ??= "the proxyless load's thread ended before it was stopped";
    end();
  });
  const onAbort = (): void => void terminate();
  signal.addEventListener("abort", onAbort, { once: true });
  let stopping: Promise<readonly RequestResult[]> | undefined;
  return {
    now: () => epochNow() - zeroEpochMs,
    results,
    throwIfFailed() {
      if (failure !== undefined) throw new LabError(`the proxyless load failed: ${failure}`);
    },
    stop() {
      stopping ??= (async () => {
        if (!ended) {
          const done = new Promise<void>((resolve) => (onEnded = resolve));
          worker.postMessage({ kind: "stop" } satisfies ToProxyless);
          const grace = setTimeout(end, stopGraceMs(options));
          await done;
          clearTimeout(grace);
        }
        signal.removeEventListener("abort", onAbort);
        await terminate();
        await exited;
        return results;
      })();
      return stopping;
    },
  };
}
