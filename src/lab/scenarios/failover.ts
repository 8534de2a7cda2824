import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { LabError } from "../../errors.js";
import { addressOf, detectionBudgetMs, finishReport, notRoutedTo, startScenarioLoad } from "./context.js";
import { check, distribution, noFailedCalls, requestTotals, round, withinBudget } from "./report.js";
import type { Scenario } from "./scenario.js";

/** kill -9 one of 3 servers mid-run: health checks and outlier detection take it out, retries hide it. */
export const failover: Scenario = {
  name: "failover",
  summary: "kill -9 one of 3 servers under load; Envoy must stop routing to it with no failed call",
  labOptions: { servers: 3 },
  async run(cluster, signal) {
    const t0 = performance.now();
    const load = startScenarioLoad(cluster, signal);
    try {
      await load.waitForResults(200, 10_000);
      const [, victim] = cluster.servers();
      if (victim === undefined) throw new LabError("failover needs at least 2 servers");
      const killedAt = load.now();
      await cluster.killServer(victim);
      const detectMs = await cluster.waitForHosts(
        `Envoy to stop routing to ${addressOf(victim)}`,
        notRoutedTo(victim),
      );
      const detectedAt = load.now();
      await load.waitForResults(load.results.length + 400, 20_000);
      const results = await load.stop();
      const budget = detectionBudgetMs(cluster);
      const after = distribution(results, detectedAt);
      return finishReport(
        "failover",
        cluster,
        requestTotals(results),
        [
          noFailedCalls(results),
          withinBudget("dead server detected in time", detectMs, budget),
          check(
            "only the survivors answer afterwards",
            Object.keys(after).length === 2 && !(victim.id in after),
            `${Object.keys(after).length} servers answered after detection`,
          ),
        ],
        {
          measurements: {
            deathToNoTrafficMs: round(detectMs),
            detectionBudgetMs: budget,
            // Which mechanism won: outlier detection ejects on failed calls, often before a health check fails twice.
            outlierEjections:
              (await cluster.envoy.admin
                .stat(`cluster.${CLUSTER_NAME}.outlier_detection.ejections_enforced_total`)
                .catch(() => undefined)) ?? 0,
          },
          distributions: [
            { phase: "before the kill", backends: distribution(results, 0, killedAt) },
            { phase: "after detection", backends: after },
          ],
        },
        performance.now() - t0,
      );
    } finally {
      await load.stop();
    }
  },
};
