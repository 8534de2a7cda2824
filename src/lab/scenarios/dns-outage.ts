import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { waitFor } from "../../util/wait.js";
import { finishReport, startScenarioLoad } from "./context.js";
import { check, distribution, noFailedCalls, requestTotals, round } from "./report.js";
import type { Scenario } from "./scenario.js";

/** The DNS server goes away for a while: Envoy keeps the hosts it has, and every call still succeeds. */
export const dnsOutage: Scenario = {
  name: "dns-outage",
  summary:
    "stop the DNS server under load until Envoy has failed to resolve 3 times; hosts and calls must survive",
  labOptions: { servers: 3, dnsRefreshMs: 250 },
  async run(cluster, signal) {
    const t0 = performance.now();
    const load = startScenarioLoad(cluster, signal);
    const stat = async (name: string): Promise<number> =>
      (await cluster.envoy.admin.stat(`cluster.${CLUSTER_NAME}.${name}`).catch(() => undefined)) ?? 0;
    try {
      await load.waitForResults(200, 10_000);
      const failuresBefore = await stat("update_failure");
      const downAt = load.now();
      await cluster.dns.suspend();
      let minHealthy = Number.POSITIVE_INFINITY;
      await waitFor(
        "Envoy to fail 3 DNS refreshes",
        async () => {
          const healthy = (await cluster.hosts()).filter((h) => h.healthy).length;
          minHealthy = Math.min(minHealthy, healthy);
          return (await stat("update_failure")) >= failuresBefore + 3 ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 20, ...(signal ? { signal } : {}) },
      );
      const upAt = load.now();
      const successesBefore = await stat("update_success");
      await cluster.dns.resume();
      const recoverMs = await waitForStat(() => stat("update_success"), successesBefore + 1);
      await load.waitForResults(load.results.length + 200, 20_000);
      const results = await load.stop();
      const during = distribution(results, downAt, upAt);
      const servers = cluster.servers().length;
      return finishReport(
        "dns-outage",
        cluster,
        requestTotals(results),
        [
          noFailedCalls(results),
          check(
            "Envoy kept every host during the outage",
            minHealthy === servers,
            `at least ${minHealthy} of ${servers} healthy`,
          ),
          check(
            "load stayed spread during the outage",
            Object.keys(during).length === servers,
            `${Object.keys(during).length} answered`,
          ),
        ],
        {
          measurements: {
            outageMs: round(upAt - downAt),
            failedDnsRefreshes: (await stat("update_failure")) - failuresBefore,
            resumeToResolvedMs: round(recoverMs),
          },
          distributions: [
            { phase: "before", backends: distribution(results, 0, downAt) },
            { phase: "DNS down", backends: during },
            { phase: "DNS back", backends: distribution(results, upAt) },
          ],
        },
        performance.now() - t0,
      );
    } finally {
      await cluster.dns.resume().catch(() => {});
      await load.stop();
    }
  },
};

async function waitForStat(read: () => Promise<number>, atLeast: number): Promise<number> {
  const t = performance.now();
  await waitFor(
    `an Envoy counter to reach ${atLeast}`,
    async () => ((await read()) >= atLeast ? true : undefined),
    {
      timeoutMs: 10_000,
      intervalMs: 20,
    },
  );
  return performance.now() - t;
}
