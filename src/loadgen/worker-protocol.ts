import type { ResolvedEngineOptions } from "./engine-options.js";
import type { RecorderState } from "./recorder.js";

/** The engine options a worker thread is given: plain data only (no signal, callbacks or method types). */
export type PortableEngineOptions = Omit<
  ResolvedEngineOptions,
  "signal" | "onCall" | "onStart" | "startGate" | "recorder" | "envoyCounters"
>;

/** A worker's workerData: its part of the run, and where it posts its progress. */
export interface WorkerPart {
  options: PortableEngineOptions;
  /** Shared by all workers: PROGRESS_FIELDS Int32 per worker. */
  progress: SharedArrayBuffer;
  /** This worker's index among them. */
  index: number;
}

/** ok, failed, in flight: what each worker keeps current in the shared progress buffer. */
export const PROGRESS_FIELDS = 3;

/** From the main thread: start the load (its clock's origin as epoch ms), or stop it. */
export type ToWorker =
  | { kind: "go"; startEpochMs: number }
  | { kind: "stop"; cancel: boolean; interrupted: boolean };

/**
 * From a worker: connected and waiting for "go"; finished, with what it
 * counted; or failed before or during the load.
 */
export type FromWorker =
  | { kind: "ready"; connectMs: number }
  | { kind: "done"; state: RecorderState; durationMs: number }
  | { kind: "failed"; message: string };
