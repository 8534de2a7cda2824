import { LabError } from "../../errors.js";
import { check, distribution, round, withinBudget } from "../../scenarios/report.js";
import { addressOf, detectionBudgetMs, notRoutedTo } from "./budgets.js";
import type { LabScenario } from "./lab-scenario.js";

/** SIGTERM one server, as a rolling deploy does: it reports NOT_SERVING, drains, exits 0; no call fails. */
export const drain: LabScenario = {
  name: "drain",
  summary: "SIGTERM one of 3 servers under load (and drop it from DNS, as Kubernetes does); no call may fail",
  labOptions: { servers: 3 },
  load: "paced",
  async run({ env: lab, load, waitForHosts }) {
    const servers = lab.servers();
    const [, victim] = servers;
    if (victim === undefined) throw new LabError("drain needs at least 2 servers");
    const termAt = load.now();
    lab.setServerRecords(servers.filter((s) => s !== victim));
    const exited = victim.process.exited;
    const stopped = lab.pool.stop(victim);
    // Awaited below; until then a failed wait must not leave its rejection unhandled.
    stopped.catch(() => {});
    const detectMs = await waitForHosts(`Envoy to stop routing to ${addressOf(victim)}`, notRoutedTo(victim));
    const detectedAt = load.now();
    await stopped;
    const exit = await exited;
    await load.waitForMore(300);
    const results = await load.finish();
    const budget = detectionBudgetMs(lab.options);
    const after = distribution(results, detectedAt);
    return {
      checks: [
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
      measurements: {
        termToNoTrafficMs: round(detectMs),
        detectionBudgetMs: budget,
        drainDelayMs: lab.options.serverDrainDelayMs,
      },
      distributions: [
        { phase: "before SIGTERM", backends: distribution(results, 0, termAt) },
        { phase: "after it left", backends: after },
      ],
    };
  },
};
