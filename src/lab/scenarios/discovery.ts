import { check, noFailedCalls, type ScenarioCheck } from "../../scenarios/report.js";
import { startLabCluster } from "../cluster.js";
import { resolveLabOptions } from "../options.js";
import { type DiscoveryPhase, measureDiscovery } from "./discovery-phase.js";
import type { LabScenario } from "./lab-scenario.js";

/** The goal for discovery by xDS, in the lab: a change reaches the calls within this, in ms. */
export const XDS_GOAL_MS = 1000;

/** Envoy's own DNS refresh (dns_refresh_rate's default): DNS as deployed when nobody tunes it, in ms. */
const ENVOY_DEFAULT_DNS_REFRESH_MS = 5000;

/** What each phase reports, by the suffix of its measurement's name (dnsReadyToFirstCallMs, …). */
const MEASURED: Record<string, (p: DiscoveryPhase) => number> = {
  ReadyToFirstCallMs: (p) => p.readyToFirstCallMs,
  RemovedToLastCallMs: (p) => p.removedToLastCallMs,
  FailedCalls: (p) => p.report.requests.failed,
};

/**
 * DNS, EDS and proxyless side by side: the same join and removal under load, first on the
 * lab's DNS (Envoy re-resolving every 5 s, its default), then on a second lab whose xDS
 * server feeds Envoy by EDS, then on that lab again with grpc-js-xds taking the same
 * xDS server's endpoints itself (proxyless: no Envoy between).
 */
export const discovery: LabScenario = {
  name: "discovery",
  summary:
    "a server joins and one leaves under load, by DNS, by EDS and proxyless: ready → first call, removed → last call",
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
    let proxyless: DiscoveryPhase;
    try {
      xds = await measureDiscovery(xdsLab, ctx);
      proxyless = await measureDiscovery(xdsLab, ctx, "proxyless");
    } finally {
      await xdsLab.stop("scenario discovery: the xDS lab is done");
    }
    const phases = { dns, xds, proxyless } as const;
    const byXds = { xds, proxyless } as const;
    const checks: ScenarioCheck[] = [
      ...Object.entries(phases).map(([way, p]) => ({
        ...noFailedCalls(p.report),
        name: `no failed calls by ${way}`,
      })),
      ...Object.entries(byXds).flatMap(([way, p]) => [
        check(
          `by ${way}, ready → first call within ${XDS_GOAL_MS} ms`,
          p.readyToFirstCallMs <= XDS_GOAL_MS,
          `${p.readyToFirstCallMs} ms (by dns: ${dns.readyToFirstCallMs} ms)`,
        ),
        check(
          `by ${way}, removed → last call within ${XDS_GOAL_MS} ms`,
          p.removedToLastCallMs <= XDS_GOAL_MS,
          `${p.removedToLastCallMs} ms (by dns: ${dns.removedToLastCallMs} ms)`,
        ),
      ]),
    ];
    const all = Object.values(phases);
    const sum = (k: "total" | "ok" | "failed") => all.reduce((n, p) => n + p.report.requests[k], 0);
    const errors: Record<string, number> = {};
    for (const p of all)
      for (const [name, n] of Object.entries(p.report.errors)) errors[name] = (errors[name] ?? 0) + n;
    return {
      checks,
      requests: { total: sum("total"), ok: sum("ok"), failed: sum("failed"), errors },
      measurements: {
        dnsRefreshMs: ctx.env.options.envoy.dnsRefreshMs,
        ...Object.fromEntries(
          Object.entries(MEASURED).flatMap(([what, of]) =>
            Object.entries(phases).map(([way, p]) => [`${way}${what}`, of(p)]),
          ),
        ),
      },
      distributions: Object.entries(phases).flatMap(([way, p]) =>
        p.distributions.map((d) => ({ ...d, phase: `${way}: ${d.phase}` })),
      ),
    };
  },
};
