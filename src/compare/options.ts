import { UsageError } from "../errors.js";
import type { LabTlsKind } from "../lab/lab-tls.js";
import { allModes, type CompareMode, modeName, speaksTls } from "./modes.js";

/** What every mode carries: calls at a fixed rate, or long-lived Subscribe streams. */
export type CompareWorkloadKind =
  | { kind: "unary" }
  | {
      kind: "streams";
      /** Subscribe streams held through the mode. */
      streams: number;
      /** Pause between a stream's replies, in ms. */
      intervalMs: number;
    };

export const WORKLOAD_KINDS = ["unary", "streams"] as const;

export interface CompareOptions {
  /** Servers behind every mode. Default 3. */
  servers?: number;
  /** How much slower server 1 answers, in ms. Default 20. */
  slowServerMs?: number;
  /** Client connections (channels). Default 4. */
  connections?: number;
  /** Calls started per second (a fixed rate). Default 200. */
  ratePerSec?: number;
  /** Most calls in flight at once. Default 64. */
  concurrency?: number;
  /** How long each mode's load runs, in ms. Default 10000. */
  durationMs?: number;
  /** When server 2 gets kill -9, in ms after the load starts; null for no kill. Default half the duration (none with streams). */
  killAtMs?: number | null;
  /** When a new server joins DNS (a scale-out), in ms after the load starts; null for none. Default 60 % of the duration. */
  scaleAtMs?: number | null;
  /** The servers' max_connection_age in the l4-max-age mode, in ms. Default 2000. */
  maxConnectionAgeMs?: number;
  /** Modes by name (see modeName); default every mode, or every Envoy mode with TLS. */
  modes?: readonly string[];
  /** TLS on both legs of the lab ("tls", or "mtls" where servers require Envoy's certificate). Default "off". */
  tls?: LabTlsKind;
  /** "unary" calls at --rate, or "streams" held open. Default "unary". */
  workload?: (typeof WORKLOAD_KINDS)[number];
  /** Subscribe streams per mode with the streams workload. Default 30. */
  streams?: number;
  /** Pause between a stream's replies, in ms, with the streams workload. Default 100. */
  streamIntervalMs?: number;
}

export interface ResolvedCompareOptions {
  servers: number;
  slowServerMs: number;
  connections: number;
  ratePerSec: number;
  concurrency: number;
  durationMs: number;
  killAtMs: number | null;
  scaleAtMs: number | null;
  maxConnectionAgeMs: number;
  modes: CompareMode[];
  tls: LabTlsKind;
  workload: CompareWorkloadKind;
}

/** The workload every mode runs, as the report states it. */
export type CompareWorkload = Omit<
  ResolvedCompareOptions,
  "maxConnectionAgeMs" | "modes" | "tls" | "scaleAtMs" | "workload"
> & {
  /** Absent in reports from before the scale-out. */
  scaleAtMs?: number | null;
  /** Absent in plaintext, so reports from before TLS read the same. */
  tls?: Exclude<LabTlsKind, "off">;
};

export function resolveCompareOptions(o: CompareOptions = {}): ResolvedCompareOptions {
  const durationMs = o.durationMs ?? 10_000;
  const maxConnectionAgeMs = o.maxConnectionAgeMs ?? 2000;
  const tls = o.tls ?? "off";
  const every = allModes(maxConnectionAgeMs);
  const modes =
    o.modes === undefined
      ? every.filter((m) => tls === "off" || speaksTls(m))
      : o.modes.map((name) => {
          const m = every.find((x) => modeName(x) === name);
          if (m === undefined)
            throw new UsageError(
              `lab compare: unknown mode '${name}'; modes: ${every.map(modeName).join(", ")}`,
            );
          return m;
        });
  const workload = workloadOf(o);
  const r: ResolvedCompareOptions = {
    servers: o.servers ?? 3,
    slowServerMs: o.slowServerMs ?? 20,
    connections: o.connections ?? 4,
    ratePerSec: o.ratePerSec ?? 200,
    concurrency: o.concurrency ?? 64,
    durationMs,
    // Streams are about the scale-out: a kill only moves the victim's streams, so none unless asked for.
    killAtMs:
      o.killAtMs !== undefined ? o.killAtMs : workload.kind === "streams" ? null : Math.round(durationMs / 2),
    scaleAtMs: o.scaleAtMs === undefined ? Math.round(durationMs * 0.6) : o.scaleAtMs,
    maxConnectionAgeMs,
    modes,
    tls,
    workload,
  };
  const plain = tls === "off" ? [] : modes.filter((m) => !speaksTls(m));
  if (plain.length > 0)
    throw new UsageError(
      `lab compare: ${plain.map(modeName).join(", ")} cannot run with --tls: ${plain.every((m) => m.kind === "eds") ? "the comparison runs Envoy by EDS in plaintext only" : "their clients reach the servers themselves, while the lab's client TLS is made for Envoy's listener (and with --mtls the servers let in only Envoy's certificate)"}; modes over TLS: ${every.filter(speaksTls).map(modeName).join(", ")}`,
    );
  if (modes.length === 0) throw new UsageError("lab compare: no mode to run");
  if (r.servers < 2 && r.killAtMs !== null)
    throw new UsageError("lab compare: a kill needs at least 2 servers (or no kill)");
  if (r.killAtMs !== null && (r.killAtMs <= 0 || r.killAtMs >= durationMs))
    throw new UsageError(
      `lab compare: the kill must come within the run (0-${durationMs} ms), got ${r.killAtMs}`,
    );
  if (r.scaleAtMs !== null && (r.scaleAtMs <= 0 || r.scaleAtMs >= durationMs))
    throw new UsageError(
      `lab compare: the scale-out must come within the run (0-${durationMs} ms), got ${r.scaleAtMs}`,
    );
  if (r.scaleAtMs !== null && r.killAtMs !== null && r.scaleAtMs <= r.killAtMs)
    throw new UsageError(
      `lab compare: the scale-out (${r.scaleAtMs} ms) must come after the kill (${r.killAtMs} ms): the balance is read before both`,
    );
  return r;
}

/** The workload the options ask for; stream counts without the streams workload are a mistake. */
function workloadOf(o: CompareOptions): CompareWorkloadKind {
  const kind = o.workload ?? "unary";
  if (!(WORKLOAD_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`lab compare: unknown workload '${kind}'; workloads: ${WORKLOAD_KINDS.join(", ")}`);
  if (kind === "unary") {
    if (o.streams !== undefined || o.streamIntervalMs !== undefined)
      throw new UsageError("lab compare: --streams and --stream-interval-ms need --workload streams");
    return { kind };
  }
  if (o.ratePerSec !== undefined || o.concurrency !== undefined)
    throw new UsageError(
      "lab compare: --rate and --concurrency pace calls; --workload streams holds streams instead",
    );
  const streams = o.streams ?? 30;
  const intervalMs = o.streamIntervalMs ?? 100;
  if (!Number.isInteger(streams) || streams < 1)
    throw new UsageError(`lab compare: streams must be a positive integer, got ${streams}`);
  if (!Number.isInteger(intervalMs) || intervalMs < 1)
    throw new UsageError(
      `lab compare: the stream interval must be a positive integer (ms), got ${intervalMs}`,
    );
  return { kind, streams, intervalMs };
}
