/**
 * The entry of one load worker thread (see worker-load.ts): it owns its
 * connections and runs its part of the load with the one engine, counts into
 * its own recorder, and posts what it counted when done.
 */
import { parentPort, workerData } from "node:worker_threads";
import { messageOf } from "../errors.js";
import { startLoad } from "./engine.js";
import { LoadRecorder } from "./recorder.js";
import { type FromWorker, PROGRESS_FIELDS, type ToWorker, type WorkerPart } from "./worker-protocol.js";

/** How often the shared progress counters are refreshed, in ms. */
const PROGRESS_EVERY_MS = 200;

const port = parentPort;
if (port === null) throw new Error("load-worker.js runs as a worker thread only");
const part = workerData as WorkerPart;
const post = (m: FromWorker): void => port.postMessage(m);

let go: (startEpochMs: number) => void = () => {};
const started = new Promise<number>((r) => (go = r));
const recorder = new LoadRecorder();
const run = startLoad({
  ...part.options,
  recorder,
  startGate: (connectMs) => {
    post({ kind: "ready", connectMs });
    return started;
  },
});

const counts = new Int32Array(part.progress, part.index * PROGRESS_FIELDS * 4, PROGRESS_FIELDS);
const showProgress = (): void => {
  const p = run.progress();
  Atomics.store(counts, 0, p.ok);
  Atomics.store(counts, 1, p.failed);
  Atomics.store(counts, 2, p.inFlight);
};
const timer = setInterval(showProgress, PROGRESS_EVERY_MS);

port.on("message", (m: ToWorker) => {
  if (m.kind === "go") go(m.startEpochMs);
  else void run.stop({ cancel: m.cancel, interrupted: m.interrupted });
});

run.done
  .then(
    (report) => post({ kind: "done", state: recorder.state(), durationMs: report.durationMs }),
    (e: unknown) => post({ kind: "failed", message: messageOf(e) }),
  )
  .finally(() => {
    clearInterval(timer);
    showProgress();
    // Nothing is left to hold the thread: it ends by itself.
    port.close();
  });
