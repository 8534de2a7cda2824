import { status } from "@grpc/grpc-js";
import { build, type Histogram } from "hdr-histogram-js";

/** What a load run measured; `--json` prints exactly this object. */
export interface LoadReport {
  target: string;
  requests: { total: number; ok: number; failed: number };
  /** Successful replies per answering instance (server_id → count). */
  backends: Record<string, number>;
  /** Address each answering instance reported (server_id → host:port). */
  backendAddresses: Record<string, string>;
  /** Latency of every finished request, ok or failed, in milliseconds. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Failed requests by gRPC status name (UNAVAILABLE, DEADLINE_EXCEEDED, …). */
  errors: Record<string, number>;
  concurrency: number;
  durationMs: number;
  /** True when a signal stopped the run before every call was made. */
  interrupted: boolean;
}

/** The name of a gRPC status code (14 → "UNAVAILABLE"); unknown codes become "CODE_<n>". */
export function statusName(code: number): string {
  const name = (status as unknown as Record<number, string | undefined>)[code];
  return name ?? `CODE_${code}`;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Collects per-request outcomes; latencies go to an HDR histogram (3 significant digits, microseconds). */
export class LoadRecorder {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  private readonly backends = new Map<string, number>();
  private readonly addresses = new Map<string, string>();
  private readonly errors = new Map<string, number>();
  private ok = 0;
  private failed = 0;

  recordOk(serverId: string, address: string, latencyUs: number): void {
    this.ok += 1;
    this.backends.set(serverId, (this.backends.get(serverId) ?? 0) + 1);
    if (!this.addresses.has(serverId)) this.addresses.set(serverId, address);
    this.recordLatency(latencyUs);
  }

  recordError(code: number, latencyUs: number): void {
    this.failed += 1;
    const name = statusName(code);
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
    this.recordLatency(latencyUs);
  }

  private recordLatency(latencyUs: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(latencyUs)));
  }

  report(meta: {
    target: string;
    concurrency: number;
    durationMs: number;
    interrupted?: boolean;
  }): LoadReport {
    const total = this.ok + this.failed;
    const h = this.histogram;
    const ms = (us: number): number => (total === 0 ? 0 : round3(us / 1000));
    // A percentile is the top of its HDR bucket, which can lie above the exact maximum: clamp it.
    const at = (p: number): number => ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
    return {
      target: meta.target,
      requests: { total, ok: this.ok, failed: this.failed },
      backends: Object.fromEntries([...this.backends].sort(([a], [b]) => a.localeCompare(b))),
      backendAddresses: Object.fromEntries([...this.addresses].sort(([a], [b]) => a.localeCompare(b))),
      latencyMs: {
        p50: at(50),
        p90: at(90),
        p99: at(99),
        max: ms(h.maxValue),
        mean: ms(h.mean),
      },
      errors: Object.fromEntries([...this.errors].sort(([a], [b]) => a.localeCompare(b))),
      concurrency: meta.concurrency,
      durationMs: round3(meta.durationMs),
      interrupted: meta.interrupted ?? false,
    };
  }
}
