import { status } from "@grpc/grpc-js";
import { build, type Histogram } from "hdr-histogram-js";
import {
  type Attribution,
  type BackendStats,
  type CallShape,
  type ConnectionStats,
  imbalanceOf,
  type LatencySummary,
  type LoadReport,
  round3,
  type SecondBucket,
  statusName,
} from "./report.js";
import type { Schedule } from "./schedule.js";

const ECHO_PATH = "/lbdemo.v1.Echo/Echo";

/** One finished call as the engine saw it. */
export interface CallOutcome {
  /** When the call started and ended, in ms since the load started. */
  startMs: number;
  endMs: number;
  /** gRPC status code; 0 is OK. */
  code: number;
  /** The status message of a failed call. */
  details?: string;
  /** Who answered (server_id or peer) and its address; set when code is OK, unless attributed otherwise. */
  serverId?: string;
  address?: string;
  /** The channel that carried it. */
  connection?: { slot: number; generation: number };
}

/** Everything the report says besides what the recorder counted. */
export interface ReportMeta {
  target: string;
  concurrency: number;
  durationMs: number;
  interrupted?: boolean;
  connections?: number;
  /** Default the unary Echo. */
  method?: string;
  call?: CallShape;
  /** Default server-id. */
  attribution?: Attribution;
  schedule?: Schedule;
}

// Latencies in microseconds, 3 significant digits, up to an hour.
const newHistogram = (): Histogram =>
  build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

interface Backend {
  address: string;
  count: number;
  histogram: Histogram;
}

const sortedRecord = (m: Map<string, number>): Record<string, number> =>
  Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
const bump = (m: Map<string, number>, key: string): void => void m.set(key, (m.get(key) ?? 0) + 1);

/**
 * The one place calls are counted: per status, per backend (count and HDR
 * latency), per second and per connection. Every load front end feeds it.
 */
export class LoadRecorder {
  private readonly histogram = newHistogram();
  private readonly backends = new Map<string, Backend>();
  private readonly statuses = new Map<string, number>();
  /** The first status message seen for each failed status. */
  private readonly firstDetails = new Map<string, string>();
  private readonly seconds = new Map<number, { backends: Map<string, number>; failed: number }>();
  private readonly connections = new Map<number, ConnectionStats & { counts: Map<string, number> }>();
  private ok = 0;
  private failed = 0;

  /** Calls recorded so far. */
  get total(): number {
    return this.ok + this.failed;
  }

  record(c: CallOutcome): void {
    const latencyUs = Math.max(1, Math.round((c.endMs - c.startMs) * 1000));
    this.histogram.recordValue(latencyUs);
    const name = statusName(c.code);
    bump(this.statuses, name);
    if (c.code !== status.OK && !this.firstDetails.has(name)) this.firstDetails.set(name, c.details ?? "");
    const second = Math.max(0, Math.floor(c.endMs / 1000));
    let bucket = this.seconds.get(second);
    if (bucket === undefined) {
      bucket = { backends: new Map(), failed: 0 };
      this.seconds.set(second, bucket);
    }
    let conn: (ConnectionStats & { counts: Map<string, number> }) | undefined;
    if (c.connection) {
      // A number key: this runs once per call.
      const key = c.connection.slot * 0x1_0000_0000 + c.connection.generation;
      conn = this.connections.get(key);
      if (conn === undefined) {
        conn = { ...c.connection, calls: 0, failed: 0, backends: {}, counts: new Map() };
        this.connections.set(key, conn);
      }
      conn.calls += 1;
    }
    if (c.code !== status.OK) {
      this.failed += 1;
      bucket.failed += 1;
      if (conn) conn.failed += 1;
      return;
    }
    this.ok += 1;
    // Attributed after the run (by Envoy's counters), or not at all.
    if (c.serverId === undefined) return;
    let b = this.backends.get(c.serverId);
    if (b === undefined) {
      b = { address: c.address ?? "", count: 0, histogram: newHistogram() };
      this.backends.set(c.serverId, b);
    }
    b.count += 1;
    b.histogram.recordValue(latencyUs);
    bump(bucket.backends, c.serverId);
    if (conn) bump(conn.counts, c.serverId);
  }

  /** A success of `latencyUs` answered by `serverId` (for callers without timestamps). */
  recordOk(serverId: string, address: string, latencyUs: number): void {
    this.record({ startMs: 0, endMs: latencyUs / 1000, code: status.OK, serverId, address });
  }

  /** A failure with gRPC status `code` after `latencyUs`. */
  recordError(code: number, latencyUs: number): void {
    this.record({ startMs: 0, endMs: latencyUs / 1000, code });
  }

  report(meta: ReportMeta): LoadReport {
    const total = this.ok + this.failed;
    const backends = [...this.backends].sort(([a], [b]) => a.localeCompare(b));
    const perBackend: BackendStats[] = backends
      .map(([serverId, b]) => ({
        serverId,
        address: b.address,
        count: b.count,
        sharePct: this.ok === 0 ? 0 : round3((100 * b.count) / this.ok),
        latencyMs: summarize(b.histogram, b.count),
      }))
      .sort((a, b) => b.count - a.count || a.serverId.localeCompare(b.serverId));
    const statuses = sortedRecord(this.statuses);
    return {
      target: meta.target,
      requests: { total, ok: this.ok, failed: this.failed },
      backends: Object.fromEntries(backends.map(([id, b]) => [id, b.count])),
      backendAddresses: Object.fromEntries(backends.map(([id, b]) => [id, b.address])),
      latencyMs: summarize(this.histogram, total),
      errors: Object.fromEntries(Object.entries(statuses).filter(([name]) => name !== "OK")),
      errorDetails: Object.fromEntries([...this.firstDetails].sort(([a], [b]) => a.localeCompare(b))),
      statuses,
      perBackend,
      imbalance: imbalanceOf(backends.map(([, b]) => b.count)),
      perSecond: [...this.seconds]
        .sort(([a], [b]) => a - b)
        .map(
          ([second, s]): SecondBucket => ({ second, backends: sortedRecord(s.backends), failed: s.failed }),
        ),
      connectionStats: [...this.connections.values()]
        .sort((a, b) => a.slot - b.slot || a.generation - b.generation)
        .map(({ counts, ...c }) => ({ ...c, backends: sortedRecord(counts) })),
      connections: meta.connections ?? 1,
      concurrency: meta.concurrency,
      method: meta.method ?? ECHO_PATH,
      call: meta.call ?? "unary",
      attribution: meta.attribution ?? "server-id",
      schedule: meta.schedule ?? { kind: "closed" },
      durationMs: round3(meta.durationMs),
      interrupted: meta.interrupted ?? false,
    };
  }
}

function summarize(h: Histogram, count: number): LatencySummary {
  const ms = (us: number): number => (count === 0 ? 0 : round3(us / 1000));
  // A percentile is the top of its HDR bucket, which can lie above the exact maximum: clamp it.
  const at = (p: number): number => ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
  return { p50: at(50), p90: at(90), p99: at(99), max: ms(h.maxValue), mean: ms(h.mean) };
}

/**
 * The report of the outcomes that started in [fromMs, toMs), counted by a
 * fresh recorder: a phase of a run (before a kill, after it) is totalled the
 * same way as a whole run.
 */
export function reportOfWindow(
  outcomes: readonly CallOutcome[],
  meta: ReportMeta,
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): LoadReport {
  const recorder = new LoadRecorder();
  for (const c of outcomes) if (c.startMs >= fromMs && c.startMs < toMs) recorder.record(c);
  return recorder.report(meta);
}
