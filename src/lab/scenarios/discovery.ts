import { check, noFailedCalls, type ScenarioCheck } from "../../scenarios/report.js";
import { startLabCluster } from "../cluster.js";
import { resolveLabOptions } from "../options.js";
import { type DiscoveryPhase, measureDiscovery } from "./discovery-phase.js";
import type { LabScenario } from "./lab-scenario.js";

/** The goal for discovery by xDS, in the lab: a change reaches the calls within this, in ms. */
export const XDS_GOAL_MS = 1000;

/** Envoy's own DNS refresh (dns_refresh_rate's default): DNS as deployed when nobody tunes it, in ms. */
const ENVOY_DEFAULT_DNS_REFRESH_MS = 5000;

/**
 * DNS and xDS side by side: the same join and removal under load, first on the lab's DNS
 * (Envoy re-resolving every 5 s, its default), then on a second lab whose Envoy takes its
 * hosts by EDS from the lab's xDS server.
 */
export const discovery: LabScenario = {
  name: "discovery",
  summary:
    "a server joins and one leaves under load, by DNS then by xDS: ready → first call, removed → last call",
  labOptions: { servers: 3, topology: "headless", envoy: { dnsRefreshMs: ENVOY_DEFAULT_DNS_REFRESH_MS } },
  load: "none",
  async run(ctx) {
    const dns = await measureDiscovery(ctx.env, ctx);
    const xdsLab = await startLabCluster(
      resolveLabOptions({ ...ctx.env.options, topology: "xds" }),
      () => {},
      ctx.signal,
    );
    let xds: DiscoveryPhase;
    try {
      xds = await measureDiscovery(xdsLab, ctx);
    } finally {
      await xdsLab.stop("scenario discovery: the xDS lab is done");
    }
    const phases = { dns, xds } as const;
    const checks: ScenarioCheck[] = [
      ...Object.entries(phases).map(([way, p]) => ({
        ...noFailedCalls(p.report),
        name: `no failed calls by ${way}`,
      })),
      check(
        `by xds, ready → first call within ${XDS_GOAL_MS} ms`,
        xds.readyToFirstCallMs <= XDS_GOAL_MS,
        `${xds.readyToFirstCallMs} ms (by dns: ${dns.readyToFirstCallMs} ms)`,
      ),
      check(
        `by xds, removed → last call within ${XDS_GOAL_MS} ms`,
        xds.removedToLastCallMs <= XDS_GOAL_MS,
        `${xds.removedToLastCallMs} ms (by dns: ${dns.removedToLastCallMs} ms)`,
      ),
    ];
    const sum = (k: "total" | "ok" | "failed") => dns.report.requests[k] + xds.report.requests[k];
    const errors: Record<string, number> = { ...dns.report.errors };
    for (const [name, n] of Object.entries(xds.report.errors)) errors[name] = (errors[name] ?? 0) + n;
    return {
      checks,
      requests: { total: sum("total"), ok: sum("ok"), failed: sum("failed"), errors },
      measurements: {
        dnsRefreshMs: ctx.env.options.envoy.dnsRefreshMs,
        dnsReadyToFirstCallMs: dns.readyToFirstCallMs,
        xdsReadyToFirstCallMs: xds.readyToFirstCallMs,
        dnsRemovedToLastCallMs: dns.removedToLastCallMs,
        xdsRemovedToLastCallMs: xds.removedToLastCallMs,
        dnsFailedCalls: dns.report.requests.failed,
        xdsFailedCalls: xds.report.requests.failed,
      },
      distributions: Object.entries(phases).flatMap(([way, p]) =>
        p.distributions.map((d) => ({ ...d, phase: `${way}: ${d.phase}` })),
      ),
    };
  },
};
