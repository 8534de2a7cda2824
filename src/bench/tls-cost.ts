import { loadavg } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { type LabCluster, startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import type { LabTlsKind } from "../lab/lab-tls.js";
import { type LabOptions, layerLabOptions, resolveLabOptions } from "../lab/options.js";
import { benchLoad, labTargets, loadFigures, machineInfo } from "./bench-load.js";
import { type CpuWindow, coresBusy } from "./cpu-account.js";
import { startCpuWindow } from "./proc-cpu.js";
import type { SizingStep } from "./sizing-result.js";
import {
  type HandshakeRun,
  summarizeTlsCost,
  TLS_COST_MODES,
  type TlsCostIdle,
  type TlsCostPath,
  type TlsCostResult,
  type TlsCostRun,
} from "./tls-cost-result.js";
import { newConnections } from "./tls-handshakes.js";

export interface TlsCostOptions {
  /** The one load every mode runs. Default 400 calls/s open loop. */
  step?: SizingStep;
  /** Length of each load run, and the most a handshake loop may take, in ms. Default 3000. */
  stepMs?: number;
  /** Rounds; each runs every path once, in an order that turns by one each round. Default 3. */
  repeats?: number;
  /** How long the labs' idle cost is measured before the runs, in ms. Default 5000. */
  idleMs?: number;
  /** New connections per handshake loop (fewer if stepMs runs out first). Default 200. */
  connections?: number;
  /** Envoy worker threads (--concurrency) in every lab. Default 1. */
  envoyConcurrency?: number;
  /** Most calls in flight in an open-loop run. Default 64. */
  openLoopMaxInFlight?: number;
  /** Lab options over the bench's (3 servers, the Envoy worker count); tls is the bench's. Default none. */
  lab?: LabOptions;
}

export type ResolvedTlsCostOptions = Required<TlsCostOptions>;

export function resolveTlsCostOptions(o: TlsCostOptions = {}): ResolvedTlsCostOptions {
  return {
    step: o.step ?? { kind: "rate", rps: 400 },
    stepMs: o.stepMs ?? 3000,
    repeats: o.repeats ?? 3,
    idleMs: o.idleMs ?? 5000,
    connections: o.connections ?? 200,
    envoyConcurrency: o.envoyConcurrency ?? 1,
    openLoopMaxInFlight: o.openLoopMaxInFlight ?? 64,
    lab: o.lab ?? {},
  };
}

/** Told of every run and handshake loop as it ends, for a progress line. */
export type TlsCostProgress = (r: TlsCostRun | HandshakeRun) => void;

/**
 * What TLS costs: one lab per mode (plaintext, TLS on the listener only, TLS on both legs,
 * mTLS), all up at once so that runs can alternate. Their idle cost first, then each round
 * runs the load on every path (client-side round robin to the plaintext servers, and each
 * mode's Envoy) and a loop of new connections through each Envoy, reading Envoy's and the
 * servers' CPU from /proc around each. Numbers only; no thresholds.
 */
export async function runTlsCost(
  options: TlsCostOptions,
  onEvent: (e: LabEvent) => void,
  onRun: TlsCostProgress,
  signal?: AbortSignal,
): Promise<TlsCostResult> {
  const o = resolveTlsCostOptions(options);
  const loadAvgStart = loadavg();
  const labs = new Map<LabTlsKind, LabCluster>();
  try {
    for (const mode of TLS_COST_MODES) {
      const lab = await startLabCluster(
        resolveLabOptions(
          layerLabOptions({ servers: 3 }, o.lab, { tls: mode, envoy: { concurrency: o.envoyConcurrency } }),
        ),
        onEvent,
        signal,
      );
      labs.set(mode, lab);
    }
    const labOf = (mode: LabTlsKind): LabCluster => labs.get(mode) as LabCluster;
    const plain = labOf("off");
    const targetOf = (p: TlsCostPath) =>
      p === "direct" ? labTargets(plain).direct : labTargets(labOf(p)).envoy;
    const paths: TlsCostPath[] = ["direct", ...TLS_COST_MODES];
    // Connection set-up and JIT do not count.
    for (const p of paths)
      await benchLoad(targetOf(p), { kind: "closed", concurrency: 4 }, 1000, 300, signal);

    const idleWindows = TLS_COST_MODES.map((mode) => ({ mode, ...cpuWindows(labOf(mode)) }));
    await delay(o.idleMs, undefined, signal ? { signal } : {});
    const idle: TlsCostIdle[] = idleWindows.map((w) => ({
      mode: w.mode,
      envoyCores: coresBusy(w.envoy()),
      serverCores: coresBusy(w.servers()),
    }));

    const runs: TlsCostRun[] = [];
    const handshakes: HandshakeRun[] = [];
    for (let repeat = 0; repeat < o.repeats; repeat++) {
      // Turning the order each round spreads a drift in the machine's load over every path.
      const order = paths.map((_, i) => paths[(i + repeat) % paths.length] as TlsCostPath);
      for (const path of order) {
        const lab = path === "direct" ? plain : labOf(path);
        const cpu = cpuWindows(lab);
        const r = await benchLoad(targetOf(path), o.step, o.stepMs, o.openLoopMaxInFlight, signal);
        signal?.throwIfAborted();
        const run: TlsCostRun = {
          path,
          repeat,
          ...loadFigures(r),
          envoyCpu: path === "direct" ? null : cpu.envoy(),
          serverCpu: cpu.servers(),
        };
        runs.push(run);
        onRun(run);
      }
      for (const mode of order.filter((p): p is LabTlsKind => p !== "direct")) {
        const h = await newConnections(labOf(mode), mode, repeat, o.connections, o.stepMs, signal);
        handshakes.push(h);
        onRun(h);
      }
    }
    return {
      machine: machineInfo(loadAvgStart, plain.envoyBinary.version),
      step: o.step,
      stepMs: o.stepMs,
      repeats: o.repeats,
      servers: plain.servers().length,
      connections: o.connections,
      idle,
      rows: summarizeTlsCost(runs, handshakes, idle),
      runs,
      handshakes,
    };
  } finally {
    for (const [mode, lab] of [...labs].reverse())
      await lab.stop(signal?.aborted ? "interrupted" : `TLS cost measured (${mode})`);
  }
}

/** Envoy's and all the servers' CPU from now; each function gives the window since. */
function cpuWindows(lab: LabCluster): { envoy: () => CpuWindow; servers: () => CpuWindow } {
  const pids = [...new Set(lab.servers().map((s) => s.process.pid))];
  const each = pids.map((pid) => startCpuWindow(pid));
  return {
    envoy: startCpuWindow(lab.envoy.process.pid),
    servers: () => {
      const ws = each.map((w) => w());
      return {
        cpuSec: ws.reduce((n, w) => n + w.cpuSec, 0),
        wallMs: Math.max(0, ...ws.map((w) => w.wallMs)),
      };
    },
  };
}
