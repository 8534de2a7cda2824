import type { LabServer } from "../lab/servers.js";
import type { StreamReport } from "../loadgen/streams/stream-report.js";
import { serverLabel } from "./mode-result.js";
import { balancerOf, type CompareMode, describeMode, modeName } from "./modes.js";

/** One server's streams in one mode, around the scale-out. */
export interface CompareStreamsServer {
  /** 1-based lab server number (127.77.0.N). */
  server: number;
  /** "server 1 (slow)", "server 4 (new)", … */
  label: string;
  /** Streams open on it the moment every stream was open (the run's zero). */
  atStart: number;
  /** Streams open on it the moment the newcomer joined (at the end without a scale-out). */
  before: number;
  /** Streams open on it at the end of the run. */
  after: number;
  /** Replies it sent over the whole run. */
  messages: number;
}

/** What the newcomer got of the streams. */
export interface CompareStreamsNewcomer {
  /** 1-based lab server number. */
  server: number;
  /** When it joined, in ms since every stream was open. */
  joinedAtMs: number;
  /** Streams open on it at the end, and their percent of the streams held. */
  streams: number;
  sharePct: number;
  /** Its fair share: 100 over the live servers. */
  fairSharePct: number;
  /** From joining to the first sample with a stream on it, in ms; null when none came. */
  firstStreamMs: number | null;
}

/** Streams per server (by label) at one sample, in ms since every stream was open. */
export interface CompareStreamsSample {
  atMs: number;
  byServer: Record<string, number>;
}

/** The stream load's ledger totals, as it counts them: failedStreams counts as failed in every report. */
export interface CompareStreamsModeResult
  extends Pick<
    StreamReport,
    "endsByStatus" | "resumes" | "delivered" | "lost" | "duplicated" | "failedStreams" | "failures"
  > {
  mode: string;
  description: string;
  balancer: string;
  /** Every server, the newcomer last. */
  servers: CompareStreamsServer[];
  /** Streams open the moment the newcomer joined, and at the end. */
  openBefore: number;
  openAfter: number;
  newcomer: CompareStreamsNewcomer | null;
  /** When server 2 was killed, in ms since every stream was open; null without a kill. */
  killAtMs: number | null;
  /** Streams that ended before the run did (endsByStatus counts them by status). */
  ended: number;
  samples: CompareStreamsSample[];
}

/** What one mode's streams run measured, as streamsResultOf reads it. */
export interface StreamsRunFacts {
  /** The lab's servers at the start, in order. */
  servers: readonly LabServer[];
  newcomer: LabServer | undefined;
  /** When every stream was open, in ms of the stream load's clock: the run's zero. */
  startedAtMs: number;
  /** Both in ms since the run's zero; null when not done. */
  killAtMs: number | null;
  joinedAtMs: number | null;
  /** Streams open per server_id at the run's zero, the moment the newcomer joined, and at the end. */
  atStart: Record<string, number>;
  before: Record<string, number>;
  after: Record<string, number>;
  /** Servers alive at the end, for the fair share. */
  liveServers: number;
  report: StreamReport;
}

/** The mode as the streams run it: the hash policies get no key, a stream carrying none. */
const describeStreamsMode = (m: CompareMode): string =>
  m.kind === "envoy" && (m.policy === "ring_hash" || m.policy === "maglev")
    ? `Envoy ${m.policy}, no hash key on the streams: a random host per stream`
    : describeMode(m);

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const round = (ms: number): number => Math.round(ms);

/** One mode's streams result: per server before and after the scale-out, the newcomer, the ledger's totals. */
export function streamsResultOf(mode: CompareMode, f: StreamsRunFacts): CompareStreamsModeResult {
  const all = [...f.servers, ...(f.newcomer ? [f.newcomer] : [])];
  const labelOf = new Map(all.map((s) => [s.id, serverLabel(s, f.killAtMs, f.newcomer)]));
  const label = (id: string): string => labelOf.get(id) ?? id;
  const samples = f.report.samples
    .filter((s) => s.atMs >= f.startedAtMs)
    .map((s) => ({
      atMs: round(s.atMs - f.startedAtMs),
      byServer: Object.fromEntries(Object.entries(s.byServer).map(([id, n]) => [label(id), n])),
    }));
  const newcomer = f.newcomer;
  const joined = f.joinedAtMs;
  const streams = f.report.streams;
  const firstSample =
    newcomer === undefined || joined === null
      ? undefined
      : f.report.samples.find((s) => s.atMs - f.startedAtMs >= joined && (s.byServer[newcomer.id] ?? 0) > 0);
  const ended = sum(f.report.endsByStatus);
  return {
    mode: modeName(mode),
    description: describeStreamsMode(mode),
    balancer: balancerOf(mode),
    servers: all.map((s) => ({
      server: s.index + 1,
      label: label(s.id),
      atStart: f.atStart[s.id] ?? 0,
      before: f.before[s.id] ?? 0,
      after: f.after[s.id] ?? 0,
      messages: f.report.messagesByServer[s.id] ?? 0,
    })),
    openBefore: sum(f.before),
    openAfter: sum(f.after),
    newcomer:
      newcomer === undefined || joined === null
        ? null
        : {
            server: newcomer.index + 1,
            joinedAtMs: round(joined),
            streams: f.after[newcomer.id] ?? 0,
            sharePct: Math.round((1000 * (f.after[newcomer.id] ?? 0)) / streams) / 10,
            fairSharePct: Math.round(1000 / f.liveServers) / 10,
            firstStreamMs:
              firstSample === undefined
                ? null
                : Math.max(0, round(firstSample.atMs - f.startedAtMs - joined)),
          },
    killAtMs: f.killAtMs === null ? null : round(f.killAtMs),
    ended,
    endsByStatus: f.report.endsByStatus,
    resumes: f.report.resumes,
    delivered: f.report.delivered,
    lost: f.report.lost,
    duplicated: f.report.duplicated,
    failedStreams: f.report.failedStreams,
    failures: f.report.failures,
    samples,
  };
}
