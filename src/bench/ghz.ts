import { startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import { resolveLabOptions } from "../lab/options.js";
import { defaultWorkers } from "../loadgen/engine-choice.js";
import { usableWorkers } from "../loadgen/worker-load.js";
import { runTool } from "./run-tool.js";
import type { ToolRun } from "./tools.js";

export interface GhzBenchOptions {
  /** Path of the ghz binary. */
  ghz: string;
  /** Connections both tools open. Default 4. */
  connections?: number;
  /** Calls in flight (ghz's -c workers). Default 32. */
  concurrency?: number;
  /** The fixed rate of the CPU-per-call run, calls/s. Default 1000. */
  ratePerSec?: number;
  /** Length of the CPU and throughput runs, in ms. Default 10000. */
  runMs?: number;
  /** Length of the memory run, in ms. Default 60000. */
  memoryRunMs?: number;
  /** Worker threads of our tool. Default its own default (defaultWorkers), at most `connections` and `concurrency`. */
  workers?: number;
}

export interface GhzBench {
  target: string;
  envoyVersion: string;
  connections: number;
  concurrency: number;
  ratePerSec: number;
  /** Our tool's worker threads. */
  workers: number;
  fixedRate: [ToolRun, ToolRun];
  closedLoop: [ToolRun, ToolRun];
  memory: [ToolRun, ToolRun];
}

/**
 * Our load tool beside ghz against the same lab, the same Envoy listener,
 * with the same connections and concurrency: CPU per call at a fixed rate,
 * throughput in a closed loop, and memory over a long run. Each tool is a
 * separate process, measured from /proc while it runs.
 */
export async function runGhzBench(
  o: GhzBenchOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
): Promise<GhzBench> {
  const connections = o.connections ?? 4;
  const concurrency = o.concurrency ?? 32;
  const ratePerSec = o.ratePerSec ?? 1000;
  const runMs = o.runMs ?? 10_000;
  const memoryRunMs = o.memoryRunMs ?? 60_000;
  const workers = usableWorkers(o.workers ?? defaultWorkers("h2"), { connections, concurrency });
  const lab = await startLabCluster(resolveLabOptions({ servers: 3 }), onEvent, signal);
  try {
    const target = lab.listenAddress;
    const both = async (rps: number | undefined, ms: number): Promise<[ToolRun, ToolRun]> => [
      await runTool(
        "grpc-lb load",
        { target, connections, concurrency, rps, ms, ghz: o.ghz, workers },
        signal,
      ),
      await runTool("ghz", { target, connections, concurrency, rps, ms, ghz: o.ghz, workers }, signal),
    ];
    // A short warm-up so Envoy's connections and the servers' JIT do not count against the first tool.
    await runTool(
      "grpc-lb load",
      { target, connections, concurrency, rps: undefined, ms: 2000, ghz: o.ghz, workers },
      signal,
    );
    return {
      target,
      envoyVersion: lab.envoyBinary.version,
      connections,
      concurrency,
      ratePerSec,
      workers,
      fixedRate: await both(ratePerSec, runMs),
      closedLoop: await both(undefined, runMs),
      memory: await both(ratePerSec, memoryRunMs),
    };
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : "bench finished");
  }
}
