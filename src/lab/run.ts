import type { LoadReport } from "../loadgen/report.js";
import { runLoad } from "../loadgen/run-load.js";
import { startLabCluster } from "./cluster.js";
import { type CrossCheck, envoyAgrees } from "./cross-check.js";
import type { LabEvent } from "./events.js";
import { type LabOptions, resolveLabOptions } from "./options.js";

export interface LabRunOptions extends LabOptions {
  /** Echo calls sent through Envoy. Default 100. */
  requests?: number;
  /** Calls in flight at once over the one channel. Default 1. */
  concurrency?: number;
}

/**
 * The load report, and Envoy's per-host requests against the client's per-server replies
 * (absent where Envoy's host is not a server: behind the ClusterIP stand-in).
 */
export type LabRunReport = LoadReport & { envoyHosts?: CrossCheck };

/** The lab in one go: start the cluster, send the load through Envoy, stop everything. */
export async function runLab(
  options: LabRunOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
): Promise<LabRunReport> {
  const { requests = 100, concurrency = 1, ...labOptions } = options;
  const lab = await startLabCluster(resolveLabOptions(labOptions), onEvent, signal);
  try {
    const before = await lab.requestsPerHost();
    const report = await runLoad({
      target: lab.listenAddress,
      tls: lab.clientTls,
      requests,
      concurrency,
      ...(signal ? { signal } : {}),
    });
    if (!lab.topology.envoySeesServers) return report;
    const envoyHosts = envoyAgrees(lab.servers(), report.backends, before, await lab.requestsPerHost());
    return { ...report, envoyHosts };
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : "load finished");
  }
}

/** The cross-check as lines under the load report. */
export function formatCrossCheck(c: CrossCheck): string {
  const rows = c.hosts.map(
    (h) =>
      `  ${h.address.padEnd(21)} client ${String(h.client).padStart(6)}  envoy ${String(h.envoy).padStart(6)}`,
  );
  return `Envoy's requests per host ${c.agree ? "agree with" : "DIFFER from"} the client's replies per server: ${c.detail}\n${rows.join("\n")}\n`;
}
