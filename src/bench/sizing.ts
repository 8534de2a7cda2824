import { loadavg } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import { type LabOptions, layerLabOptions, resolveLabOptions } from "../lab/options.js";
import { benchLoad, labTargets, loadFigures, machineInfo } from "./bench-load.js";
import { coresBusy } from "./cpu-account.js";
import { startCpuWindow, startOwnCpuWindow } from "./proc-cpu.js";
import {
  type SizingIdle,
  type SizingPath,
  type SizingResult,
  type SizingRun,
  type SizingStep,
  summarizeSizing,
} from "./sizing-result.js";

export interface SizingOptions {
  /** Envoy worker counts (--concurrency), each measured on a lab of its own. Default 1, 2. */
  envoyConcurrencies?: readonly number[];
  /** The loads, in order. Default 200, 400, 800 calls/s open loop, then closed loop at 1 and 32 in flight. */
  steps?: readonly SizingStep[];
  /** Length of each run, in ms. Default 3000. */
  stepMs?: number;
  /** Runs of each step on each path, direct and via Envoy alternating. Default 3. */
  repeats?: number;
  /** How long Envoy's idle cost is measured before the steps, in ms. Default 5000. */
  idleMs?: number;
  /** Most calls in flight in an open-loop run, so a slow moment does not stall the schedule. Default 64. */
  openLoopMaxInFlight?: number;
  /** Lab options over the bench's (3 servers, the Envoy worker count). Default none. */
  lab?: LabOptions;
}

export type ResolvedSizingOptions = Required<SizingOptions>;

export const DEFAULT_SIZING_STEPS: readonly SizingStep[] = [
  { kind: "rate", rps: 200 },
  { kind: "rate", rps: 400 },
  { kind: "rate", rps: 800 },
  { kind: "closed", concurrency: 1 },
  { kind: "closed", concurrency: 32 },
];

export function resolveSizingOptions(o: SizingOptions = {}): ResolvedSizingOptions {
  return {
    envoyConcurrencies: o.envoyConcurrencies ?? [1, 2],
    steps: o.steps ?? DEFAULT_SIZING_STEPS,
    stepMs: o.stepMs ?? 3000,
    repeats: o.repeats ?? 3,
    idleMs: o.idleMs ?? 5000,
    openLoopMaxInFlight: o.openLoopMaxInFlight ?? 64,
    lab: o.lab ?? {},
  };
}

/** Told of every run as it ends, for a progress line. */
export type SizingProgress = (r: SizingRun) => void;

/**
 * What the Envoy hop costs: for each Envoy worker count, on a lab of its own,
 * Envoy's idle CPU, then every step sent straight to the servers (grpc-js
 * round_robin over the lab's DNS) and through Envoy, alternating, with Envoy's
 * CPU read from /proc around each run. Numbers only; no thresholds.
 */
export async function runSizing(
  options: SizingOptions,
  onEvent: (e: LabEvent) => void,
  onRun: SizingProgress,
  signal?: AbortSignal,
): Promise<SizingResult> {
  const o = resolveSizingOptions(options);
  const loadAvgStart = loadavg();
  const runs: SizingRun[] = [];
  const idle: SizingIdle[] = [];
  let envoyVersion = "";
  let servers = 0;
  for (const envoyConcurrency of o.envoyConcurrencies) {
    const lab = await startLabCluster(
      resolveLabOptions(layerLabOptions({ servers: 3 }, o.lab, { envoy: { concurrency: envoyConcurrency } })),
      onEvent,
      signal,
    );
    try {
      envoyVersion = lab.envoyBinary.version;
      servers = lab.servers().length;
      const targets = labTargets(lab);
      // Connection set-up and JIT do not count.
      for (const path of ["direct", "envoy"] as const)
        await benchLoad(targets[path], { kind: "closed", concurrency: 4 }, 1000, 300, signal);
      const idleWindow = startCpuWindow(lab.envoy.process.pid);
      await delay(o.idleMs, undefined, signal ? { signal } : {});
      const w = idleWindow();
      idle.push({ envoyConcurrency, window: w, cores: coresBusy(w) });
      for (const step of o.steps) {
        for (let repeat = 0; repeat < o.repeats; repeat++) {
          // Alternating which path goes first cancels a drift in the machine's load.
          const order: SizingPath[] = repeat % 2 === 0 ? ["direct", "envoy"] : ["envoy", "direct"];
          for (const path of order) {
            const cpu = path === "envoy" ? startCpuWindow(lab.envoy.process.pid) : undefined;
            const client = startOwnCpuWindow();
            const r = await benchLoad(targets[path], step, o.stepMs, o.openLoopMaxInFlight, signal);
            signal?.throwIfAborted();
            const run: SizingRun = {
              envoyConcurrency,
              step,
              path,
              repeat,
              ...loadFigures(r),
              envoyCpu: cpu ? cpu() : null,
              clientCpu: client(),
            };
            runs.push(run);
            onRun(run);
          }
        }
      }
    } finally {
      await lab.stop(signal?.aborted ? "interrupted" : `Envoy with ${envoyConcurrency} workers measured`);
    }
  }
  return {
    machine: machineInfo(loadAvgStart, envoyVersion),
    stepMs: o.stepMs,
    repeats: o.repeats,
    servers,
    idle,
    rows: summarizeSizing(runs, idle),
    runs,
  };
}
