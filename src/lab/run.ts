import type { LoadReport } from "../loadgen/report.js";
import { runLoad } from "../loadgen/run-load.js";
import { startLabCluster } from "./cluster.js";
import type { LabEvent } from "./events.js";
import { type LabOptions, resolveLabOptions } from "./options.js";

export interface LabRunOptions extends LabOptions {
  /** Echo calls sent through Envoy. Default 100. */
  requests?: number;
  /** Calls in flight at once over the one channel. Default 1. */
  concurrency?: number;
}

/** The lab in one go: start the cluster, send the load through Envoy, stop everything. */
export async function runLab(
  options: LabRunOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
): Promise<LoadReport> {
  const o = resolveLabOptions(options);
  const cluster = await startLabCluster(o, onEvent, signal);
  try {
    return await runLoad({
      target: cluster.listenAddress,
      requests: options.requests ?? 100,
      concurrency: options.concurrency ?? 1,
      ...(signal ? { signal } : {}),
    });
  } finally {
    await cluster.stop(signal?.aborted ? "interrupted" : "load finished");
  }
}
