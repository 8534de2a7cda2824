import { LabError } from "../../errors.js";
import { addressOf, detectionBudgetMs, finishReport, notRoutedTo, startScenarioLoad } from "./context.js";
import { check, distribution, noFailedCalls, requestTotals, round, withinBudget } from "./report.js";
import type { Scenario } from "./scenario.js";

/** SIGTERM one server, as a rolling deploy does: it reports NOT_SERVING, drains, exits 0; no call fails. */
export const drain: Scenario = {
  name: "drain",
  summary: "SIGTERM one of 3 servers under load (and drop it from DNS, as Kubernetes does); no call may fail",
  labOptions: { servers: 3 },
  async run(cluster, signal) {
    const t0 = performance.now();
    const load = startScenarioLoad(cluster, signal);
    try {
      await load.waitForResults(200, 10_000);
      const servers = cluster.servers();
      const [, victim] = servers;
      if (victim === undefined) throw new LabError("drain needs at least 2 servers");
      const termAt = load.now();
      cluster.setServerRecords(servers.filter((s) => s !== victim));
      const exited = victim.process.exited;
      const stopped = cluster.stopServer(victim);
      const detectMs = await cluster.waitForHosts(
        `Envoy to stop routing to ${addressOf(victim)}`,
        notRoutedTo(victim),
      );
      const detectedAt = load.now();
      await stopped;
      const exit = await exited;
      await load.waitForResults(load.results.length + 300, 20_000);
      const results = await load.stop();
      const budget = detectionBudgetMs(cluster);
      const after = distribution(results, detectedAt);
      return finishReport(
        "drain",
        cluster,
        requestTotals(results),
        [
          noFailedCalls(results),
          withinBudget("draining server taken out in time", detectMs, budget),
          check(
            "server exited 0 after draining",
            exit.code === 0,
            `exit code ${exit.code}, signal ${exit.signal}`,
          ),
          check(
            "only the others answer afterwards",
            !(victim.id in after),
            `${Object.keys(after).length} servers answered`,
          ),
        ],
        {
          measurements: {
            termToNoTrafficMs: round(detectMs),
            detectionBudgetMs: budget,
            drainDelayMs: cluster.options.serverDrainDelayMs,
          },
          distributions: [
            { phase: "before SIGTERM", backends: distribution(results, 0, termAt) },
            { phase: "after it left", backends: after },
          ],
        },
        performance.now() - t0,
      );
    } finally {
      await load.stop();
    }
  },
};
