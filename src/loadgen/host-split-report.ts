import type { HostSplit } from "../envoy/host-split.js";
import { imbalanceOf, type LoadReport, round3 } from "./report.js";

/**
 * The report with who answered taken from Envoy's counters: one backend per
 * upstream host of the counted clusters, those never reached included with 0.
 * Counters carry no per-call timing, so no backend has a latency; the calls'
 * own counts (statuses, per second, per connection) stay as recorded.
 */
export function reportWithHostSplit(report: LoadReport, split: HostSplit, admin: string): LoadReport {
  const sorted = [...split.hosts].sort((a, b) => a.name.localeCompare(b.name));
  return {
    ...report,
    backends: Object.fromEntries(sorted.map((h) => [h.name, h.answered])),
    backendAddresses: Object.fromEntries(sorted.map((h) => [h.name, h.host])),
    perBackend: split.hosts.map((h) => ({
      serverId: h.name,
      address: h.host,
      count: h.answered,
      sharePct: split.total === 0 ? 0 : round3((100 * h.answered) / split.total),
      latencyMs: null,
    })),
    imbalance: imbalanceOf(split.hosts.map((h) => h.answered)),
    attribution: "envoy-counters",
    envoyCounters: {
      admin,
      clusters: split.clusters,
      counter: split.counter,
      counted: split.total,
      attempts: split.hosts.reduce((n, h) => n + h.attempts, 0),
      vanished: split.vanished,
    },
  };
}
