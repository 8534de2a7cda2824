import { UsageError } from "../errors.js";
import type { LabOptions } from "../lab/options.js";
import { resolveLabOptions } from "../lab/options.js";
import type { LoadReport } from "../loadgen/report.js";
import { runLoad } from "../loadgen/run-load.js";
import { type PeerClusterEvent, startPeerCluster } from "./cluster.js";
import type { PeerKind } from "./options.js";

/** The lab's options a peer cannot honour (they shape Envoy or its topology), as flag names. */
export function peerLabConflicts(o: LabOptions): string[] {
  return [
    ...(o.envoys !== undefined && o.envoys !== 1 ? ["--envoys"] : []),
    ...(o.tls !== undefined && o.tls !== "off" ? ["--tls"] : []),
    ...(o.topology !== undefined && o.topology !== "headless" ? ["--discovery"] : []),
    ...(o.envoy?.policy !== undefined && o.envoy.policy !== "round_robin" ? ["--policy"] : []),
    ...(o.envoy?.adminPort ? ["--admin-port"] : []),
  ];
}

/**
 * `grpc-lb lab --proxy haproxy|nginx`: the seed's demo with the peer where Envoy would be.
 * Starts the cluster, sends the calls through the peer over one channel, stops everything.
 */
export async function runPeerLab(
  kind: PeerKind,
  options: LabOptions & { requests: number; concurrency: number },
  onEvent: (e: PeerClusterEvent) => void,
  signal?: AbortSignal,
): Promise<LoadReport> {
  const { requests, concurrency, ...labOptions } = options;
  const conflicts = peerLabConflicts(labOptions);
  if (conflicts.length > 0) {
    throw new UsageError(
      `grpc-lb lab: ${conflicts.join(", ")} ${conflicts.length === 1 ? "shapes" : "shape"} Envoy's lab; with --proxy ${kind} use the defaults (round robin, headless DNS, plaintext, one proxy)`,
    );
  }
  const o = resolveLabOptions(labOptions);
  const listenPort = labOptions.envoy?.listenPort ?? 0;
  const { concurrency: workers, dnsRefreshMs } = labOptions.envoy ?? {};
  const lab = await startPeerCluster(
    kind,
    o,
    {
      listenPort,
      ...(workers === undefined ? {} : { workers }),
      ...(dnsRefreshMs === undefined ? {} : { dnsRefreshMs }),
    },
    onEvent,
    signal,
  );
  try {
    return await runLoad({ target: lab.listenAddress, requests, concurrency, ...(signal ? { signal } : {}) });
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : "load finished");
  }
}
