import { LabError } from "../../errors.js";
import { check, distribution, round, withinBudget } from "../../scenarios/report.js";
import { addressOf, detectionBudgetMs, notRoutedTo } from "./budgets.js";
import type { LabScenario } from "./lab-scenario.js";

/** kill -9 one of 3 servers mid-run: health checks and outlier detection take it out, retries hide it. */
export const failover: LabScenario = {
  name: "failover",
  summary: "kill -9 one of 3 servers under load; Envoy must stop routing to it with no failed call",
  labOptions: { servers: 3 },
  load: "paced",
  async run({ env: lab, load, waitForHosts, stat }) {
    const [, victim] = lab.servers();
    if (victim === undefined) throw new LabError("failover needs at least 2 servers");
    const killedAt = load.now();
    await lab.pool.kill(victim);
    const deadAt = load.now();
    const detectMs = await waitForHosts(`Envoy to stop routing to ${addressOf(victim)}`, notRoutedTo(victim));
    const detectedAt = load.now();
    await load.waitForMore(400);
    const results = await load.finish();
    const budget = detectionBudgetMs(lab.options);
    const after = distribution(results, detectedAt);
    return {
      checks: [
        withinBudget("dead server detected in time", detectMs, budget),
        check(
          "only the survivors answer afterwards",
          Object.keys(after).length === 2 && !(victim.id in after),
          `${Object.keys(after).length} servers answered after detection`,
        ),
      ],
      measurements: {
        deathToNoTrafficMs: round(detectMs),
        detectionBudgetMs: budget,
        // Which mechanism won: outlier detection ejects on failed calls, often before a health check fails twice.
        outlierEjections: await stat("outlier_detection.ejections_enforced_total"),
      },
      distributions: [
        { phase: "before the kill", backends: distribution(results, 0, killedAt) },
        { phase: "after detection", backends: after },
      ],
      cutReplies: { fromMs: killedAt, toMs: deadAt, withinMs: budget, by: "the kill" },
    };
  },
};
