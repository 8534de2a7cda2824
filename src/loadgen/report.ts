import { status } from "@grpc/grpc-js";
import type { Schedule } from "./schedule.js";

/** Latency percentiles of one group of calls, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * How a run knows who answered: the server_id an Echo reply carries, the peer
 * address of each call (through a proxy, the proxy), or the growth of Envoy's
 * per-host counters over the run (no per-call detail).
 */
export type Attribution = "server-id" | "peer" | "envoy-counters";

/** The shape of the calls: "stream" is server streaming. */
export type CallShape = "unary" | "stream" | "client-stream" | "bidi-stream";

/** One answering instance: how many calls it took and how fast it was. */
export interface BackendStats {
  /** Who it is: a server_id, a peer host:port, or an Envoy upstream host (cluster/host:port with several clusters). */
  serverId: string;
  /** host:port: the one the instance reported in its replies, or the peer's, or Envoy's upstream host's. */
  address: string;
  /** Calls it answered; 0 for an Envoy host never reached. */
  count: number;
  /** Percent of the successful calls, 0 to 100. */
  sharePct: number;
  /** Null when the attribution has no per-call detail (envoy-counters). */
  latencyMs: LatencySummary | null;
}

/** What attribution by Envoy's counters read. */
export interface EnvoyCountersNote {
  /** host:port of Envoy's admin API. */
  admin: string;
  /** The clusters counted. */
  clusters: string[];
  /** The per-host counter whose growth is each backend's count. */
  counter: string;
  /** That growth summed over the hosts; compare with requests.ok (other traffic through Envoy adds to it). */
  counted: number;
  /** Attempts Envoy sent over the run (rq_total), retries included. */
  attempts: number;
  /** Hosts gone by the end of the run: what they answered is not in the counts. */
  vanished: string[];
}

/** Successful calls per backend (and failures) that ended within one second of the run. */
export interface SecondBucket {
  /** Seconds since the load started (0 is the first second). */
  second: number;
  backends: Record<string, number>;
  failed: number;
}

/** One client connection (one channel): where its calls landed. Through an L4 balancer, one backend. */
export interface ConnectionStats {
  /** 1-based slot among --connections. */
  slot: number;
  /** How many times the slot's channel was replaced before this one (--new-connection-every). */
  generation: number;
  calls: number;
  failed: number;
  /** Successful calls per backend (none with envoy-counters attribution). */
  backends: Record<string, number>;
}

/** How evenly the successful calls were spread over the backends that answered. */
export interface Imbalance {
  /** Busiest backend's count over the least busy one's; null when no backend answered. */
  maxMinRatio: number | null;
  /** Coefficient of variation of the per-backend counts (population standard deviation / mean); 0 when fewer than 2. */
  cv: number;
}

/** What a load run measured; `--format json` prints exactly this object. */
export interface LoadReport {
  target: string;
  requests: { total: number; ok: number; failed: number };
  /** Calls in flight that Ctrl-C cancelled: in neither `requests` nor the latencies. Absent when none. */
  cancelledByInterrupt?: number;
  /** Successful replies per answering instance (server_id → count). */
  backends: Record<string, number>;
  /** Address each answering instance reported (server_id → host:port). */
  backendAddresses: Record<string, string>;
  /** Latency of every finished request, ok or failed, in milliseconds. */
  latencyMs: LatencySummary;
  /** Failed requests by gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED, …). */
  errors: Record<string, number>;
  /** The first status message seen for each status in `errors` ("" when the call carried none). */
  errorDetails: Record<string, string>;
  /** Every finished request by gRPC status name, OK included. */
  statuses: Record<string, number>;
  /** Per backend, busiest first. */
  perBackend: BackendStats[];
  imbalance: Imbalance;
  /** Calls per backend per second, by when they ended. */
  perSecond: SecondBucket[];
  /** Every channel the run opened, in slot then generation order. */
  connectionStats: ConnectionStats[];
  /** Number of connections (channels) kept open at once. */
  connections: number;
  concurrency: number;
  /** The method called, "/pkg.Service/Method". */
  method: string;
  call: CallShape;
  attribution: Attribution;
  /** With attribution envoy-counters: what was read. */
  envoyCounters?: EnvoyCountersNote;
  schedule: Schedule;
  durationMs: number;
  /** True when a signal stopped the run before its bound. */
  interrupted: boolean;
  /** With worker threads (--workers above 1): how many, and how long starting them and connecting took. */
  workers?: WorkerThreadsNote;
}

/** The worker threads of a run; their start-up is not part of `durationMs`. */
export interface WorkerThreadsNote {
  threads: number;
  /** From starting the first thread to every thread connected and ready, in ms. */
  startupMs: number;
}

/** The name of a gRPC status code (14 → "UNAVAILABLE"); unknown codes become "CODE_<n>". */
export function statusName(code: number): string {
  const name = (status as unknown as Record<number, string | undefined>)[code];
  return name ?? `CODE_${code}`;
}

/** The spread of per-backend counts; `expected` pads missing backends with zeros. */
export function imbalanceOf(counts: readonly number[], expected = 0): Imbalance {
  const all = [...counts, ...Array<number>(Math.max(0, expected - counts.length)).fill(0)];
  if (all.length === 0) return { maxMinRatio: null, cv: 0 };
  const max = Math.max(...all);
  const min = Math.min(...all);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length;
  return {
    maxMinRatio: min === 0 ? (max === 0 ? null : Number.POSITIVE_INFINITY) : round3(max / min),
    cv: mean === 0 ? 0 : round3(Math.sqrt(variance) / mean),
  };
}

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;
