import type { LabEvent } from "../lab/events.js";
import type { PeerClusterEvent } from "../peers/cluster.js";
import { type CompareMode, modeName } from "./modes.js";
import type { ResolvedCompareOptions } from "./options.js";
import type { CompareModeResult, CompareReport } from "./report.js";
import { runMode } from "./run-mode.js";

/** What one mode's run gives, whatever the workload. */
export interface ModeRun<R> {
  envoyVersion: string | undefined;
  peerVersion: string | undefined;
  result: R;
}

/** How a comparison reports its progress and events. */
export interface CompareHooks {
  onEvent: (e: LabEvent | PeerClusterEvent) => void;
  onMode: (name: string) => void;
  signal?: AbortSignal | undefined;
}

/** Runs `runOne` for every mode in turn, each on a fresh lab: the results and the versions that balanced. */
export async function runEachMode<R>(
  o: ResolvedCompareOptions,
  runOne: (mode: CompareMode) => Promise<ModeRun<R>>,
  h: CompareHooks,
): Promise<{ envoyVersion: string; peerVersions?: string[]; modes: R[] }> {
  const modes: R[] = [];
  let envoyVersion = "";
  const peerVersions: string[] = [];
  for (const mode of o.modes) {
    h.signal?.throwIfAborted();
    h.onMode(modeName(mode));
    const r = await runOne(mode);
    envoyVersion = r.envoyVersion ?? envoyVersion;
    if (r.peerVersion !== undefined) peerVersions.push(r.peerVersion);
    modes.push(r.result);
  }
  return { envoyVersion, ...(peerVersions.length === 0 ? {} : { peerVersions }), modes };
}

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
  const { envoyVersion, peerVersions, modes } = await runEachMode<CompareModeResult>(
    o,
    (mode) => runMode(o, mode, onEvent, signal),
    { onEvent, onMode, signal },
  );
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
    ...(peerVersions === undefined ? {} : { peerVersions }),
    modes,
  };
}
