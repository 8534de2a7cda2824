import type { LabEvent } from "../lab/events.js";
import type { PeerClusterEvent } from "../peers/cluster.js";
import { modeName } from "./modes.js";
import type { ResolvedCompareOptions } from "./options.js";
import type { CompareModeResult, CompareReport } from "./report.js";
import { runMode } from "./run-mode.js";

/**
 * Runs the one workload through every mode, each on a fresh lab (so a kill
 * or a policy never carries over): the load at a fixed rate over the
 * connections, server 2 killed mid-run, a fourth server joining DNS after it, the
 * balancer's CPU measured.
 */
export async function runCompare(
  o: ResolvedCompareOptions,
  onEvent: (e: LabEvent | PeerClusterEvent) => void,
  onMode: (name: string) => void,
  signal?: AbortSignal,
): Promise<CompareReport> {
  const modes: CompareModeResult[] = [];
  let envoyVersion = "";
  const peerVersions: string[] = [];
  for (const mode of o.modes) {
    signal?.throwIfAborted();
    onMode(modeName(mode));
    const r = await runMode(o, mode, onEvent, signal);
    envoyVersion = r.envoyVersion ?? envoyVersion;
    if (r.peerVersion !== undefined) peerVersions.push(r.peerVersion);
    modes.push(r.result);
  }
  return {
    workload: {
      servers: o.servers,
      slowServerMs: o.slowServerMs,
      connections: o.connections,
      ratePerSec: o.ratePerSec,
      concurrency: o.concurrency,
      durationMs: o.durationMs,
      killAtMs: o.killAtMs,
      scaleAtMs: o.scaleAtMs,
      ...(o.tls === "off" ? {} : { tls: o.tls }),
    },
    envoyVersion,
    ...(peerVersions.length === 0 ? {} : { peerVersions }),
    modes,
  };
}
