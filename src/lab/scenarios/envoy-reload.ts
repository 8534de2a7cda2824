import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { SCHEDULING_SLACK_MS } from "../../envoy/budgets.js";
import { check, distribution, round, withinBudget } from "../../scenarios/report.js";
import { callsStartedSince } from "../../scenarios/results.js";
import { LAB_HOT_RESTART } from "../lab-envoy-options.js";
import type { LabScenario } from "./lab-scenario.js";

/** How long an Envoy told to shut down may take to exit, in ms. */
const ENVOY_SHUTDOWN_MS = 1000;

/**
 * A change of Envoy's own configuration, in place: Envoy's hot restart (a new epoch takes
 * the listening sockets over, the old one tells its connections to go and exits), from
 * round robin to least request, under load. No call may fail.
 */
export const envoyReload: LabScenario = {
  name: "envoy-reload",
  summary:
    "hot-restart Envoy with a changed config (round_robin → least_request) under load; no call may fail",
  labOptions: { servers: 3, envoy: { hotRestart: true, policy: "round_robin" } },
  load: "paced",
  async run({ env: lab, load, waitFor, signal }) {
    const old = lab.envoy;
    const reloadAt = load.now();
    const next = await lab.reloadEnvoy({ policy: "least_request" }, signal);
    const liveAt = load.now();
    // The old epoch exits by itself parentShutdownTimeS after the new one started serving,
    // then takes its own shutdown (measured 20-50 ms; a loaded machine is given 1 s).
    const exitBudgetMs = LAB_HOT_RESTART.parentShutdownTimeS * 1000 + ENVOY_SHUTDOWN_MS + SCHEDULING_SLACK_MS;
    const exit = await waitFor(
      `the old Envoy (epoch ${old.epoch}) to drain and exit`,
      () => {
        const state = old.process.state();
        return state.t === "exited" ? state.exit : undefined;
      },
      exitBudgetMs + 5000,
    );
    const exitedAt = load.now();
    const policy = String((await next.admin.staticCluster(CLUSTER_NAME))?.lb_policy ?? "ROUND_ROBIN");
    const epoch = await next.admin.stat("server.hot_restart_epoch");
    await load.waitForMore(400);
    const results = await load.finish();
    const after = distribution(results, exitedAt);
    return {
      checks: [
        check(
          "the new epoch took the listener over",
          next.listenerPort === old.listenerPort && epoch === old.epoch + 1,
          `epoch ${epoch} on port ${next.listenerPort}`,
        ),
        check("Envoy runs the new configuration", policy === "LEAST_REQUEST", `lb_policy ${policy}`),
        check(
          "the old epoch drained and exited 0",
          exit.code === 0,
          `exit code ${exit.code}, signal ${exit.signal}`,
        ),
        withinBudget("the old epoch was gone in time", exitedAt - liveAt, exitBudgetMs),
        check(
          "every server answers through the new epoch",
          Object.keys(after).length === lab.servers().length,
          `${Object.keys(after).length} answered`,
        ),
      ],
      measurements: {
        reloadToLiveMs: round(liveAt - reloadAt),
        liveToOldExitMs: round(exitedAt - liveAt),
        oldExitBudgetMs: exitBudgetMs,
        callsDuringHandover: callsStartedSince(results, liveAt) - callsStartedSince(results, exitedAt),
      },
      distributions: [
        { phase: "round_robin (epoch 0)", backends: distribution(results, 0, reloadAt) },
        { phase: "least_request (new epoch)", backends: after },
      ],
    };
  },
};
