import { setTimeout as delay } from "node:timers/promises";
import type { UpstreamHost } from "../../envoy/admin.js";
import { distribution, round } from "../../scenarios/report.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import type { LabCluster } from "../cluster.js";
import type { XdsControlPlane } from "../topologies/xds-control.js";
import { joinBudgetMs } from "./budgets.js";
import type { ProxylessSide } from "./xds-proxyless.js";
import { byStatus, type ProxylessPhase } from "./xds-proxyless-report.js";

/** Calls through Envoy while the xDS server is down, and while the restarted one lists its source. */
const OUTAGE_CALLS = 200;
/** How often Envoy's hosts are read during a phase, in ms. */
const HOST_SAMPLE_MS = 20;
/** Envoy's gauge of its ADS stream: 1 connected, 0 not. */
export const ADS_CONNECTED = "control_plane.connected_state";

/** What one crash and restart of the xDS server did to Envoy and the calls through it. */
export interface CrashPhase {
  /** Calls started in the phase, and those that failed. */
  calls: number;
  failed: number;
  /** Fewest hosts Envoy routed to at any sample of the phase, of `servers`. */
  minRoutedHosts: number;
  servers: number;
  /** Restarted server listening → Envoy's ADS stream up again, in ms. */
  restartToReconnectMs: number;
  /** The source's full list → every server routed again, in ms. */
  listedToAllRoutedMs: number;
  /** Envoy's hosts all dropped → every server routed again, in ms; 0 when never dropped. */
  noHostMs: number;
  /** Failed calls by their status message (the first few kinds). */
  failures: Record<string, number>;
  backends: Record<string, number>;
  /** The proxyless client's side of the phase, when one ran beside Envoy. */
  proxyless: ProxylessPhase | undefined;
}

/**
 * Under the scenario's load: kills the lab's xDS server, lets 200 calls go while it is down,
 * starts it again on the same port with its source still listing (held), lets 200 calls go
 * while Envoy (and the proxyless client, if any) is connected to it, then gives the source its
 * list. With the sync gate the restarted server says nothing until then; without it, it
 * answers at once with no endpoint.
 */
export async function crashAndRestart(
  ctx: ScenarioContext<LabCluster>,
  plane: XdsControlPlane,
  syncGate: boolean,
  proxyless?: ProxylessSide,
): Promise<CrashPhase> {
  const { env: lab, load, waitFor } = ctx;
  const servers = lab.servers().length;
  const connected = async (want: number) =>
    (await lab.envoy.admin.stat(ADS_CONNECTED)) === want ? true : undefined;
  const sampler = sampleRoutedHosts(() => lab.hosts(), ctx.signal);
  const from = load.now();
  proxyless?.mark("from");
  try {
    await plane.kill();
    proxyless?.mark("killed");
    await waitFor("Envoy to see its ADS stream end", () => connected(0));
    await load.waitForMore(OUTAGE_CALLS);
    const { release } = await plane.restart({ syncGate, held: true });
    const restartedAt = load.now();
    proxyless?.mark("restarted");
    await waitFor("Envoy to reconnect to the restarted xDS server", () => connected(1));
    const reconnectedAt = load.now();
    await proxyless?.reconnected(ctx);
    // Without the gate, the empty assignment reaches the client: wait for it to take it.
    if (!syncGate) await proxyless?.ackedSince("restarted", ctx);
    // Admin only: no probe call can reach a cluster with no host.
    if (!syncGate)
      await waitFor("Envoy to drop its hosts on the empty assignment", async () =>
        (await lab.hosts()).length === 0 ? true : undefined,
      );
    const emptiedAt = syncGate ? undefined : load.now();
    await load.waitForMore(OUTAGE_CALLS);
    const listedAt = load.now();
    proxyless?.mark("listed");
    release();
    await ctx.waitForHosts(
      "Envoy to route to every server again",
      (hs) => hs.length === servers && hs.every((h) => h.healthy),
      joinBudgetMs(lab.options) * 2,
    );
    const routedAt = load.now();
    await proxyless?.ackedSince("listed", ctx);
    await proxyless?.reachedAllSince("listed", ctx);
    await load.waitForMore(OUTAGE_CALLS / 2);
    const to = load.now();
    proxyless?.mark("to");
    const phase = load.results.filter((r) => r.startMs >= from && r.startMs < to);
    const failed = phase.filter((r) => r.code !== 0);
    return {
      calls: phase.length,
      failed: failed.length,
      minRoutedHosts: await sampler.stop(),
      servers,
      restartToReconnectMs: round(reconnectedAt - restartedAt),
      listedToAllRoutedMs: round(routedAt - listedAt),
      noHostMs: emptiedAt === undefined ? 0 : round(routedAt - emptiedAt),
      failures: byStatus(failed),
      backends: distribution(load.results, from, to),
      proxyless: proxyless?.result(),
    };
  } finally {
    await sampler.stop();
  }
}

/** Reads Envoy's hosts every HOST_SAMPLE_MS; stop() gives the fewest it routed to (healthy) at once. */
function sampleRoutedHosts(read: () => Promise<UpstreamHost[]>, signal: AbortSignal) {
  let min = Number.POSITIVE_INFINITY;
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted && !signal.aborted) {
      const hosts = await read().catch(() => undefined);
      if (hosts !== undefined) min = Math.min(min, hosts.filter((h) => h.healthy).length);
      await delay(HOST_SAMPLE_MS, undefined, { signal: stopped.signal }).catch(() => {});
    }
  })();
  return {
    async stop(): Promise<number> {
      stopped.abort();
      await loop;
      return min;
    },
  };
}
