import { describeProbe, type ProbeResult, routeProber } from "../loadgen/probe.js";
import { waitFor } from "../util/wait.js";
import type { PeerHandle } from "./process.js";

/** Deadline of one probe call, in ms. */
const PROBE_DEADLINE_MS = 1000;

/**
 * Waits until calls through the proxy reach exactly the servers `want` names (host:port, as
 * each server reports itself), every one of them, with no failed call: 2 × N calls in a row
 * over one connection, which round robin spreads over every server it holds. HAProxy needs
 * this after it listens (its DNS answer and first health checks come after); nginx, whose
 * servers are fixed at start, passes at the first try. Returns how long it took, in ms.
 */
export async function waitForPeerRoutes(
  peer: PeerHandle,
  want: ReadonlySet<string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const started = performance.now();
  const prober = routeProber(peer.listenAddress);
  let last: ProbeResult | undefined;
  try {
    await waitFor(
      `${peer.kind} to route to all ${want.size} servers`,
      async () => {
        peer.ensureUp();
        last = await prober.probe(2 * want.size, PROBE_DEADLINE_MS, Date.now() + timeoutMs);
        const seen = [...last.answered.keys()];
        const done =
          Object.keys(last.failed).length === 0 &&
          seen.length === want.size &&
          seen.every((a) => want.has(a));
        return done ? true : undefined;
      },
      { timeoutMs, intervalMs: 50, ...(signal ? { signal } : {}) },
      () => (last ? describeProbe(last) : "no probe answered yet"),
    );
  } finally {
    prober.close();
  }
  return Math.round(performance.now() - started);
}
