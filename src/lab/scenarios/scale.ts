import { check, distribution, round, withinBudget } from "../../scenarios/report.js";
import { joinBudgetMs, removalBudgetMs } from "./budgets.js";
import type { LabScenario } from "./lab-scenario.js";

/** 3 → 6 → 2 servers through DNS alone: new ones get traffic, removed ones stop getting it, nothing fails. */
export const scale: LabScenario = {
  name: "scale",
  summary: "grow from 3 to 6 servers and shrink to 2, by DNS changes only, under load",
  labOptions: { servers: 3, envoy: { dnsRefreshMs: 250 } },
  load: "paced",
  async run({ env: lab, load, waitFor, waitForHosts }) {
    const grownAt = load.now();
    const added = await lab.pool.add(3);
    const addedAt = load.now();
    lab.setServerRecords(lab.servers());
    const firstReply = new Map<string, number>();
    await waitFor(
      "every new server to answer a call",
      () => {
        for (const r of load.results) {
          if (r.serverId !== undefined && r.startMs >= addedAt && !firstReply.has(r.serverId)) {
            firstReply.set(r.serverId, r.startMs);
          }
        }
        return added.every((s) => firstReply.has(s.id)) ? true : undefined;
      },
      20_000,
      () => `${added.filter((s) => firstReply.has(s.id)).length} of ${added.length}`,
    );
    const joinMs = added.map((s) => round((firstReply.get(s.id) ?? 0) - addedAt));
    const sixFrom = load.now();
    await load.waitForMore(600);
    const sixTo = load.now();

    const all = lab.servers();
    const keep = all.slice(0, 2);
    const leave = all.slice(2);
    lab.setServerRecords(keep);
    const keepSet = new Set(keep.map((s) => `${s.host}:${s.port}`));
    const removeMs = await waitForHosts(
      "Envoy to drop the servers that left DNS",
      (hosts) => hosts.length === keep.length && hosts.every((h) => keepSet.has(`${h.address}:${h.port}`)),
    );
    const removedAt = load.now();
    await Promise.all(leave.map((s) => lab.pool.stop(s)));
    await load.waitForMore(300);
    const results = await load.finish();
    const atSix = distribution(results, sixFrom, sixTo);
    const atTwo = distribution(results, removedAt);
    const joinBudget = joinBudgetMs(lab.options);
    const removeBudget = removalBudgetMs(lab.options);
    return {
      checks: [
        check(
          "every new server gets traffic in time",
          Math.max(...joinMs) <= joinBudget,
          `${joinMs.join(", ")} ms (budget ${joinBudget} ms)`,
        ),
        check(
          "6 servers share the load",
          Object.keys(atSix).length === 6,
          `${Object.keys(atSix).length} answered`,
        ),
        withinBudget("removed servers dropped in time", removeMs, removeBudget),
        check(
          "only the 2 kept servers answer afterwards",
          Object.keys(atTwo).length === 2 && keep.every((s) => s.id in atTwo),
          `${Object.keys(atTwo).length} answered`,
        ),
      ],
      measurements: {
        startToTrafficMs: joinMs,
        joinBudgetMs: joinBudget,
        dnsRemovalToNoTrafficMs: round(removeMs),
        removalBudgetMs: removeBudget,
      },
      distributions: [
        { phase: "3 servers", backends: distribution(results, 0, grownAt) },
        { phase: "6 servers", backends: atSix },
        { phase: "2 servers", backends: atTwo },
      ],
    };
  },
};
