import { availableParallelism, loadavg } from "node:os";
import type { ClientTls } from "../grpc/client-tls.js";
import type { LabCluster } from "../lab/cluster.js";
import { startLoad } from "../loadgen/engine.js";
import type { LoadReport } from "../loadgen/report.js";
import { formatHostPort } from "../util/address.js";
import { clockTicksPerSec } from "./proc-cpu.js";
import type { LoadFigures, MachineInfo, SizingPath, SizingStep } from "./sizing-result.js";

/** A closed-loop run's bound on calls: far above what a 2-core machine makes in its time. */
const CLOSED_LOOP_CALLS_PER_MS = 20;

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
