import { createRequire } from "node:module";
import { status } from "@grpc/grpc-js";
import type { JsHistogram } from "hdr-histogram-js";
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
  /** Cancelled because the user interrupted the run (Ctrl-C): counted apart, never as failed. */
  interrupted?: boolean;
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

/**
 * The JavaScript histogram alone: the package's entry also decodes and
 * compiles its WebAssembly build, 14 MB of RSS that a load never uses.
 */
const { default: Int32Histogram } = createRequire(import.meta.url)(
  "hdr-histogram-js/dist/Int32Histogram.js",
) as typeof import("hdr-histogram-js/dist/Int32Histogram.js");

// Latencies in microseconds, 3 significant digits, up to an hour (what build() makes by default, typed).
const newHistogram = (): JsHistogram => new Int32Histogram(1, 3_600_000_000, 3);

/** A histogram's non-empty buckets: the lowest value of each, then its count, flat. */
type Buckets = number[];

function bucketsOf(h: JsHistogram): Buckets {
  const out: Buckets = [];
  for (let i = 0; i < h.countsArrayLength; i++) {
    const n = h.getCountAtIndex(i);
    if (n > 0) out.push(h.valueFromIndex(i), n);
  }
  return out;
}

/** Adds the buckets of another histogram of the same layout: every count lands in the bucket it came from. */
function addBuckets(h: JsHistogram, b: Buckets): void {
  for (let i = 0; i + 1 < b.length; i += 2) h.recordValueWithCount(b[i] as number, b[i + 1] as number);
}

interface Backend {
  address: string;
  count: number;
  histogram: JsHistogram;
  /** The exact longest latency, in µs: a merged histogram knows only its bucket. */
  maxUs: number;
}

/**
 * What a recorder counted, as plain data a worker thread can post: each HDR
 * histogram as its non-empty buckets, so that merging adds the real
 * histograms, not their percentiles.
 */
export interface RecorderState {
  ok: number;
  failed: number;
  /** Calls the user's interrupt cancelled. */
  cancelled: number;
  histogram: Buckets;
  /** The exact longest latency, in µs (a bucket keeps only its range). */
  maxUs: number;
  /** [serverId, address, count, histogram, longest latency in µs] */
  backends: [string, string, number, Buckets, number][];
  statuses: [string, number][];
  /** [status name, first status message, when that call ended (ms on the run's clock)] */
  firstDetails: [string, string, number][];
  /** [second, [serverId, count][], failed] */
  seconds: [number, [string, number][], number][];
  connections: {
    slot: number;
    generation: number;
    calls: number;
    failed: number;
    counts: [string, number][];
  }[];
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
  /** The first status message seen for each failed status, and when its call ended. */
  private readonly firstDetails = new Map<string, { details: string; atMs: number }>();
  private readonly seconds = new Map<number, { backends: Map<string, number>; failed: number }>();
  private readonly connections = new Map<number, ConnectionStats & { counts: Map<string, number> }>();
  private ok = 0;
  private failed = 0;
  private cancelled = 0;
  private maxUs = 0;

  /** Calls recorded so far. */
  get total(): number {
    return this.ok + this.failed;
  }

  record(c: CallOutcome): void {
    // Cut short by Ctrl-C: neither a status of the target nor a latency.
    if (c.interrupted === true) {
      this.cancelled += 1;
      return;
    }
    const latencyUs = Math.max(1, Math.round((c.endMs - c.startMs) * 1000));
    this.histogram.recordValue(latencyUs);
    if (latencyUs > this.maxUs) this.maxUs = latencyUs;
    const name = statusName(c.code);
    bump(this.statuses, name);
    if (c.code !== status.OK && !this.firstDetails.has(name))
      this.firstDetails.set(name, { details: c.details ?? "", atMs: c.endMs });
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
      b = { address: c.address ?? "", count: 0, histogram: newHistogram(), maxUs: 0 };
      this.backends.set(c.serverId, b);
    }
    b.count += 1;
    b.histogram.recordValue(latencyUs);
    if (latencyUs > b.maxUs) b.maxUs = latencyUs;
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

  /** Everything counted so far, as data another thread can post (see merge). */
  state(): RecorderState {
    const pairs = (m: Map<string, number>): [string, number][] => [...m];
    return {
      ok: this.ok,
      failed: this.failed,
      cancelled: this.cancelled,
      histogram: bucketsOf(this.histogram),
      maxUs: this.maxUs,
      backends: [...this.backends].map(([id, b]) => [
        id,
        b.address,
        b.count,
        bucketsOf(b.histogram),
        b.maxUs,
      ]),
      statuses: pairs(this.statuses),
      firstDetails: [...this.firstDetails].map(([name, d]) => [name, d.details, d.atMs]),
      seconds: [...this.seconds].map(([second, s]) => [second, pairs(s.backends), s.failed]),
      connections: [...this.connections.values()].map(({ counts, backends: _, ...c }) => ({
        ...c,
        counts: pairs(counts),
      })),
    };
  }

  /**
   * Adds what another recorder counted (its state()), as if it had been fed
   * those calls too: histograms are added bucket by bucket; of two first
   * messages for a status the earlier call's is kept. Recorders of one run
   * must share its clock and number their connections apart.
   */
  merge(s: RecorderState): void {
    const add = (m: Map<string, number>, pairs: [string, number][]): void => {
      for (const [k, n] of pairs) m.set(k, (m.get(k) ?? 0) + n);
    };
    this.ok += s.ok;
    this.failed += s.failed;
    this.cancelled += s.cancelled;
    addBuckets(this.histogram, s.histogram);
    this.maxUs = Math.max(this.maxUs, s.maxUs);
    for (const [id, address, count, histogram, maxUs] of s.backends) {
      let b = this.backends.get(id);
      if (b === undefined) {
        b = { address, count: 0, histogram: newHistogram(), maxUs: 0 };
        this.backends.set(id, b);
      }
      b.count += count;
      addBuckets(b.histogram, histogram);
      b.maxUs = Math.max(b.maxUs, maxUs);
    }
    add(this.statuses, s.statuses);
    for (const [name, details, atMs] of s.firstDetails) {
      const mine = this.firstDetails.get(name);
      if (mine === undefined || atMs < mine.atMs) this.firstDetails.set(name, { details, atMs });
    }
    for (const [second, backends, failed] of s.seconds) {
      let bucket = this.seconds.get(second);
      if (bucket === undefined) {
        bucket = { backends: new Map(), failed: 0 };
        this.seconds.set(second, bucket);
      }
      add(bucket.backends, backends);
      bucket.failed += failed;
    }
    for (const { counts, ...c } of s.connections) {
      const key = c.slot * 0x1_0000_0000 + c.generation;
      let conn = this.connections.get(key);
      if (conn === undefined) {
        conn = {
          slot: c.slot,
          generation: c.generation,
          calls: 0,
          failed: 0,
          backends: {},
          counts: new Map(),
        };
        this.connections.set(key, conn);
      }
      conn.calls += c.calls;
      conn.failed += c.failed;
      add(conn.counts, counts);
    }
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
        latencyMs: summarize(b.histogram, b.count, b.maxUs),
      }))
      .sort((a, b) => b.count - a.count || a.serverId.localeCompare(b.serverId));
    const statuses = sortedRecord(this.statuses);
    return {
      target: meta.target,
      requests: { total, ok: this.ok, failed: this.failed },
      backends: Object.fromEntries(backends.map(([id, b]) => [id, b.count])),
      backendAddresses: Object.fromEntries(backends.map(([id, b]) => [id, b.address])),
      latencyMs: summarize(this.histogram, total, this.maxUs),
      errors: Object.fromEntries(Object.entries(statuses).filter(([name]) => name !== "OK")),
      errorDetails: Object.fromEntries(
        [...this.firstDetails].sort(([a], [b]) => a.localeCompare(b)).map(([name, d]) => [name, d.details]),
      ),
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
      ...(this.cancelled > 0 ? { cancelledByInterrupt: this.cancelled } : {}),
    };
  }
}

function summarize(h: JsHistogram, count: number, maxUs: number): LatencySummary {
  const ms = (us: number): number => (count === 0 ? 0 : round3(us / 1000));
  // A percentile is the top of its HDR bucket, which can lie above the exact maximum: clamp it.
  const at = (p: number): number => ms(Math.min(h.getValueAtPercentile(p), maxUs));
  return { p50: at(50), p90: at(90), p99: at(99), max: ms(maxUs), mean: ms(h.mean) };
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
