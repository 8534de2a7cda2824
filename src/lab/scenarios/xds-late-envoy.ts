import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import type { EdsOptions } from "../../envoy/options.js";
import { LabError } from "../../errors.js";
import { startPacedLoad } from "../../loadgen/paced-load.js";
import { round } from "../../scenarios/report.js";
import { WAIT_MS } from "../../scenarios/scenario-load.js";
import { formatHostPort } from "../../util/address.js";
import { waitFor } from "../../util/wait.js";
import type { LabCluster } from "../cluster.js";
import type { XdsControlPlane } from "../topologies/xds-control.js";
import { startSideEnvoy } from "./xds-side-envoy.js";

/** Calls sent through the new Envoy while the xDS server is still down. */
const CALLS_WHILE_DOWN = 50;
/** Its own small load: calls per second, and each call's deadline in ms. */
const RATE_PER_SEC = 100;
const DEADLINE_MS = 1000;

/** What an Envoy started while the xDS server is down does, and when it recovers. */
export interface LateEnvoyPhase {
  /** Its EDS initial_fetch_timeout, in ms. */
  initialFetchTimeoutMs: number;
  /** Process start → admin LIVE and listener bound, in ms: Envoy waits out the fetch timeout. */
  startToLiveMs: number;
  /** Hosts of cluster 'server' once LIVE. */
  hostsAtLive: number;
  /** Calls sent before the xDS server came back, how many failed, and why the first did. */
  callsWhileDown: number;
  failedWhileDown: number;
  firstFailure: string;
  /** xDS server listening again → the start of the first call that succeeded through this Envoy, in ms. */
  restartToFirstOkMs: number;
}

/**
 * Kills the lab's xDS server, starts a second Envoy on the same bootstrap (its own ports and
 * node id) and times how it comes up without its control plane; sends it calls, starts the
 * xDS server again and times the first call that gets through. The lab's own Envoy, which
 * had its hosts before, is not touched.
 */
export async function startEnvoyWhileXdsDown(
  lab: LabCluster,
  plane: XdsControlPlane,
  eds: EdsOptions,
  initialFetchTimeoutMs: number,
  signal: AbortSignal,
): Promise<LateEnvoyPhase> {
  if (initialFetchTimeoutMs === 0)
    throw new LabError("an Envoy with initial_fetch_timeout 0 never starts without its xDS server");
  await plane.kill();
  const dir = await mkdtemp(join(tmpdir(), "grpc-lb-late-envoy-"));
  try {
    const startedAt = performance.now();
    const envoy = await startSideEnvoy(
      lab,
      dir,
      "late Envoy",
      { ...eds, initialFetchTimeoutMs, nodeId: "grpc-lb-envoy-late" },
      signal,
    );
    try {
      const startToLiveMs = performance.now() - startedAt;
      const hostsAtLive = (await envoy.admin.clusterHosts(CLUSTER_NAME)).length;
      const load = startPacedLoad({
        target: formatHostPort("127.0.0.1", envoy.listenerPort),
        tls: lab.clientTls,
        ratePerSec: RATE_PER_SEC,
        concurrency: 4,
        maxRequests: RATE_PER_SEC * 60,
        maxDurationMs: 60_000,
        deadlineMs: DEADLINE_MS,
        signal,
      });
      try {
        await load.waitForResults(CALLS_WHILE_DOWN, WAIT_MS, signal);
        const down = [...load.results];
        await plane.restart({ syncGate: true, held: false });
        const restartedAt = load.now();
        const firstOk = await waitFor(
          "a call through the late Envoy to succeed once the xDS server is back",
          () => load.results.find((r) => r.code === 0 && r.startMs >= restartedAt),
          { timeoutMs: WAIT_MS, intervalMs: 10, signal },
        );
        const failed = down.filter((r) => r.code !== 0);
        return {
          initialFetchTimeoutMs,
          startToLiveMs: round(startToLiveMs),
          hostsAtLive,
          callsWhileDown: down.length,
          failedWhileDown: failed.length,
          firstFailure: failed[0] === undefined ? "" : `${failed[0].code} ${failed[0].details ?? ""}`.trim(),
          restartToFirstOkMs: round(firstOk.startMs - restartedAt),
        };
      } finally {
        await load.stop();
      }
    } finally {
      await envoy.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
