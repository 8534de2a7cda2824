import type { LabTlsKind } from "../lab/lab-tls.js";
import { type CpuWindow, cpuUsPerCall } from "./cpu-account.js";
import { type LoadFigures, type MachineInfo, median, type SizingStep } from "./sizing-result.js";

/** The TLS rows, in the order printed: each is a lab of its own. */
export const TLS_COST_MODES: readonly LabTlsKind[] = ["off", "downstream", "tls", "mtls"];

/** direct: grpc-js round_robin straight to the plaintext lab's servers; otherwise through that mode's Envoy. */
export type TlsCostPath = "direct" | LabTlsKind;

/** One load run on one path. */
export interface TlsCostRun extends LoadFigures {
  path: TlsCostPath;
  repeat: number;
  /** Envoy's CPU over the run; null on the direct path. */
  envoyCpu: CpuWindow | null;
  /** All the servers' processes together over the run. */
  serverCpu: CpuWindow;
}

/** One loop of new connections through a mode's Envoy, each opened, used for one call and closed. */
export interface HandshakeRun {
  mode: LabTlsKind;
  repeat: number;
  connections: number;
  failed: number;
  /** Connect + handshake + one call, per connection: median and 90th percentile. */
  p50Ms: number;
  p90Ms: number;
  envoyCpu: CpuWindow;
  /** The load tool's own CPU (this process): the client's half of every handshake. */
  clientCpu: CpuWindow;
}

/** What a mode's lab costs with no calls, subtracted pro rata from every run. */
export interface TlsCostIdle {
  mode: LabTlsKind;
  envoyCores: number;
  serverCores: number;
}

/** One row: the median over repeats of each figure. */
export interface TlsCostRow {
  mode: LabTlsKind;
  repeats: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Over client-side round robin (direct, plaintext) and over the plaintext Envoy, paired run by run. */
  addedOverDirect: { p50Ms: number; p99Ms: number };
  addedOverPlaintext: { p50Ms: number; p99Ms: number };
  /** CPU per call net of idle; null when no call went through. */
  envoyCpuUsPerCall: number | null;
  serverCpuUsPerCall: number | null;
  /** A new connection with one call: ms (median), and the CPU it cost Envoy and the client. */
  newConnection: { p50Ms: number; p90Ms: number; envoyCpuUs: number | null; clientCpuUs: number | null };
  failed: number;
}

export interface TlsCostResult {
  machine: MachineInfo;
  step: SizingStep;
  stepMs: number;
  repeats: number;
  servers: number;
  /** New connections per handshake loop. */
  connections: number;
  idle: TlsCostIdle[];
  rows: TlsCostRow[];
  runs: TlsCostRun[];
  handshakes: HandshakeRun[];
}

/** Differences of `b - a` over runs of the same repeat. */
function paired(
  as: readonly TlsCostRun[],
  bs: readonly TlsCostRun[],
  f: (r: TlsCostRun) => number,
): number[] {
  return bs.flatMap((b) => {
    const a = as.find((x) => x.repeat === b.repeat);
    return a ? [f(b) - f(a)] : [];
  });
}

const nonNull = <T>(xs: readonly (T | null)[]): T[] => xs.filter((x): x is T => x !== null);
const medianOrNull = (xs: readonly number[]): number | null => (xs.length === 0 ? null : median(xs));

/** The rows from every run and handshake loop, one per mode in TLS_COST_MODES order. */
export function summarizeTlsCost(
  runs: readonly TlsCostRun[],
  handshakes: readonly HandshakeRun[],
  idle: readonly TlsCostIdle[],
): TlsCostRow[] {
  const on = (p: TlsCostPath) => runs.filter((r) => r.path === p);
  const direct = on("direct");
  const plain = on("off");
  return TLS_COST_MODES.flatMap((mode): TlsCostRow[] => {
    const rs = on(mode);
    const hs = handshakes.filter((h) => h.mode === mode);
    if (rs.length === 0 && hs.length === 0) return [];
    const i = idle.find((x) => x.mode === mode) ?? { envoyCores: 0, serverCores: 0 };
    const perCall = (w: CpuWindow | null, cores: number, calls: number): number | null =>
      w === null ? null : cpuUsPerCall(w, cores, calls);
    const p50 = (r: TlsCostRun) => r.p50Ms;
    const p99 = (r: TlsCostRun) => r.p99Ms;
    return [
      {
        mode,
        repeats: rs.length,
        callsPerSec: median(rs.map((r) => r.callsPerSec)),
        p50Ms: median(rs.map(p50)),
        p99Ms: median(rs.map(p99)),
        addedOverDirect: { p50Ms: median(paired(direct, rs, p50)), p99Ms: median(paired(direct, rs, p99)) },
        addedOverPlaintext: { p50Ms: median(paired(plain, rs, p50)), p99Ms: median(paired(plain, rs, p99)) },
        envoyCpuUsPerCall: medianOrNull(nonNull(rs.map((r) => perCall(r.envoyCpu, i.envoyCores, r.calls)))),
        serverCpuUsPerCall: medianOrNull(
          nonNull(rs.map((r) => perCall(r.serverCpu, i.serverCores, r.calls))),
        ),
        newConnection: {
          p50Ms: median(hs.map((h) => h.p50Ms)),
          p90Ms: median(hs.map((h) => h.p90Ms)),
          envoyCpuUs: medianOrNull(
            nonNull(hs.map((h) => cpuUsPerCall(h.envoyCpu, i.envoyCores, h.connections))),
          ),
          // The client has no idle cost of its own worth subtracting: it does nothing between loops.
          clientCpuUs: medianOrNull(nonNull(hs.map((h) => cpuUsPerCall(h.clientCpu, 0, h.connections)))),
        },
        failed: rs.reduce((n, r) => n + r.failed, 0) + hs.reduce((n, h) => n + h.failed, 0),
      },
    ];
  });
}
