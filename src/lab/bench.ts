import { LabError } from "../errors.js";
import type { LoadReport } from "../loadgen/report.js";
import { runLoad } from "../loadgen/run-load.js";
import { formatHostPort } from "../util/address.js";
import { startLabCluster } from "./cluster.js";
import type { LabEvent } from "./events.js";
import { resolveLabOptions } from "./options.js";

export interface BenchOptions {
  /** Calls per measurement. Default 3000. */
  requests?: number;
  /** Concurrency levels to measure. Default 1, 8, 32. */
  concurrencies?: readonly number[];
}

export interface BenchRow {
  path: "direct" | "envoy";
  concurrency: number;
  requests: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  backends: number;
  failed: number;
}

/**
 * What balancing through Envoy costs: the same calls straight to one server,
 * then through Envoy to all of them, at each concurrency. Numbers only; no
 * thresholds (a benchmark, not a test).
 */
export async function runBench(options: BenchOptions, onEvent: (e: LabEvent) => void, signal?: AbortSignal) {
  const requests = options.requests ?? 3000;
  const concurrencies = options.concurrencies ?? [1, 8, 32];
  const cluster = await startLabCluster(resolveLabOptions({ servers: 3 }), onEvent, signal);
  const load = (target: string, calls: number, concurrency: number) =>
    runLoad({ target, requests: calls, concurrency, ...(signal ? { signal } : {}) });
  const rows: BenchRow[] = [];
  try {
    const first = cluster.servers()[0];
    if (first === undefined) throw new LabError("bench: the cluster has no server");
    const targets = { direct: formatHostPort(first.host, first.port), envoy: cluster.listenAddress } as const;
    for (const concurrency of concurrencies) {
      for (const path of ["direct", "envoy"] as const) {
        // A short warm-up so connection set-up and JIT do not count.
        await load(targets[path], 200, concurrency);
        signal?.throwIfAborted();
        const r: LoadReport = await load(targets[path], requests, concurrency);
        signal?.throwIfAborted();
        rows.push({
          path,
          concurrency,
          requests: r.requests.total,
          callsPerSec: r.durationMs > 0 ? Math.round((r.requests.total * 1000) / r.durationMs) : 0,
          p50Ms: r.latencyMs.p50,
          p99Ms: r.latencyMs.p99,
          backends: Object.keys(r.backends).length,
          failed: r.requests.failed,
        });
      }
    }
  } finally {
    await cluster.stop(signal?.aborted ? "interrupted" : "bench finished");
  }
  return { envoyVersion: cluster.envoyBinary.version, rows };
}

export function formatBench(b: { envoyVersion: string; rows: BenchRow[] }): string {
  const head = "path    concurrency  requests  calls/s   p50 ms   p99 ms  backends  failed";
  const lines = b.rows.map(
    (r) =>
      `${r.path.padEnd(6)}  ${String(r.concurrency).padStart(11)}  ${String(r.requests).padStart(8)}  ${String(r.callsPerSec).padStart(7)}  ${r.p50Ms.toFixed(2).padStart(7)}  ${r.p99Ms.toFixed(2).padStart(7)}  ${String(r.backends).padStart(8)}  ${String(r.failed).padStart(6)}`,
  );
  return `one client channel; direct = one server, envoy = Envoy ${b.envoyVersion} in front of 3\n${head}\n${lines.join("\n")}\n`;
}
