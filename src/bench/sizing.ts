import { availableParallelism, loadavg } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import type { ClientTls } from "../grpc/client-tls.js";
import { type LabCluster, startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import { type LabOptions, layerLabOptions, resolveLabOptions } from "../lab/options.js";
import { startLoad } from "../loadgen/engine.js";
import type { LoadReport } from "../loadgen/report.js";
import { formatHostPort } from "../util/address.js";
import { coresBusy } from "./cpu-account.js";
import { clockTicksPerSec, startCpuWindow, startOwnCpuWindow } from "./proc-cpu.js";
import {
  type LoadFigures,
  type MachineInfo,
  type SizingIdle,
  type SizingPath,
  type SizingResult,
  type SizingRun,
  type SizingStep,
  summarizeSizing,
} from "./sizing-report.js";

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

/** A closed-loop run's bound on calls: far above what a 2-core machine makes in its time. */
const CLOSED_LOOP_CALLS_PER_MS = 20;

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

/** The figures of a run the tables use, from the load tool's report. */
export const loadFigures = (r: LoadReport): LoadFigures => ({
  calls: r.requests.total,
  failed: r.requests.failed,
  callsPerSec: r.durationMs > 0 ? (r.requests.total * 1000) / r.durationMs : 0,
  p50Ms: r.latencyMs.p50,
  p99Ms: r.latencyMs.p99,
});

/** The machine a bench ran on, read at its end. */
export const machineInfo = (loadAvgStart: number[], envoy: string): MachineInfo => ({
  cores: availableParallelism(),
  loadAvgStart,
  loadAvgEnd: loadavg(),
  node: process.version,
  envoy,
  clockTicksPerSec: clockTicksPerSec(),
});

/** Where a run's calls go, and how: grpc-js's own balancing, plaintext or TLS. */
export interface BenchTarget {
  target: string;
  lb?: "round_robin";
  tls?: ClientTls;
}

/**
 * Where each path's calls go: the servers by name through grpc-js round_robin (plaintext: the
 * lab's servers must be too), or Envoy's listener as the lab's clients reach it.
 */
export function labTargets(lab: LabCluster): Record<SizingPath, BenchTarget> {
  return {
    direct: {
      target: `dns://${formatHostPort(lab.dns.host, lab.dns.port)}/server:${lab.pool.port}`,
      lb: "round_robin",
    },
    envoy: { target: lab.listenAddress, tls: lab.clientTls },
  };
}

/** One run, bounded in time and in calls: an open loop at its rate, or a closed loop. */
export function benchLoad(
  to: BenchTarget,
  step: SizingStep,
  ms: number,
  maxInFlight: number,
  signal: AbortSignal | undefined,
): Promise<LoadReport> {
  const open = step.kind === "rate";
  return startLoad({
    ...to,
    concurrency: open ? maxInFlight : step.concurrency,
    schedule: open ? { kind: "const", rps: step.rps } : { kind: "closed" },
    requests: open ? Math.ceil((step.rps * ms) / 1000) + 1 : ms * CLOSED_LOOP_CALLS_PER_MS,
    durationMs: ms,
    call: { kind: "unary", message: "hello" },
    deadlineMs: 5000,
    signal,
    cancelOnAbort: true,
  }).done;
}
