import { DEFAULT_INITIAL_FETCH_TIMEOUT_MS } from "../../envoy/options.js";
import { LabError } from "../../errors.js";
import { check, distribution, requestTotals, round } from "../../scenarios/report.js";
import { asXdsTopology } from "../topologies/xds.js";
import { proxylessLoadOptions } from "./discovery-phase.js";
import type { LabScenario } from "./lab-scenario.js";
import { type CrashPhase, crashAndRestart } from "./xds-crash-phase.js";
import { type LateEnvoyPhase, startEnvoyWhileXdsDown } from "./xds-late-envoy.js";
import { killXdsProcess } from "./xds-process-phase.js";
import { type ProcessKillPhase, processChecks, processMeasurements } from "./xds-process-report.js";
import { prepareXdsProcess } from "./xds-process-setup.js";
import { ProxylessSide } from "./xds-proxyless.js";
import { proxylessChecks, proxylessMeasurements } from "./xds-proxyless-report.js";
import { startProxylessThread } from "./xds-proxyless-thread.js";

const hostsLine = (p: CrashPhase): string =>
  `${p.failed} of ${p.calls} calls failed, at least ${p.minRoutedHosts} of ${p.servers} hosts routed`;

const failuresLine = (p: CrashPhase): string =>
  Object.entries(p.failures)
    .map(([why, n]) => `${n}× ${why}`)
    .join("; ");

/**
 * The control plane fails under load. The lab's xDS server is killed and started again on
 * its port, twice: with its sync gate (it answers nothing until its source has the full list)
 * and without (it answers at once, with the nothing it has listed yet). Envoy keeps its last
 * configuration while the server is down; the gate is what keeps a restart from emptying it.
 * A proxyless client (grpc-js-xds, xds:///server) runs its own load through both crashes
 * beside Envoy's, and is judged the same way. Then a second Envoy starts while the xDS
 * server is down: it waits out its initial_fetch_timeout, comes up with no host, and takes
 * the servers once the server is back. Last, a real process death: `grpc-lb xds-server
 * --source file` as a child process, SIGKILLed under an Envoy's and a proxyless load and
 * started again on its port (xds-process-phase.ts).
 */
export const xdsRestart: LabScenario = {
  name: "xds-restart",
  summary:
    "kill the xDS server under load (through Envoy and proxyless) and start it again, with its sync gate then without; an Envoy starting while it is down; a SIGKILL of a grpc-lb xds-server process",
  labOptions: { servers: 3, topology: "xds" },
  load: "paced",
  // Calls are expected to fail without the gate: each phase is judged by its own check.
  allowFailedCalls: true,
  async run(ctx) {
    const { env: lab, load } = ctx;
    const topology = asXdsTopology(lab.topology);
    const eds = lab.topology.envoyEds();
    if (topology === undefined || eds === undefined)
      throw new LabError("xds-restart needs the xds topology (--discovery xds)");
    const plane = topology.controlPlane();
    const side = new ProxylessSide(
      startProxylessThread(proxylessLoadOptions(lab), ctx.signal),
      plane,
      lab.servers().length,
    );
    let gated: CrashPhase;
    let ungated: CrashPhase;
    try {
      await side.warmedUp(ctx);
      gated = await crashAndRestart(ctx, plane, true, side);
      ungated = await crashAndRestart(ctx, plane, false, side);
    } finally {
      await side.load.stop();
    }
    if (gated.proxyless === undefined || ungated.proxyless === undefined)
      throw new LabError("xds-restart: a crash phase ran without its proxyless load");
    const proxyless = { gated: gated.proxyless, ungated: ungated.proxyless };
    // The process phase's xds-server and Envoy start while the late Envoy waits out its timeout.
    const preparing = prepareXdsProcess(lab, eds, ctx.signal);
    preparing.catch(() => {}); // awaited below; this only keeps a failure from being unhandled meanwhile
    let late: LateEnvoyPhase;
    let killed: ProcessKillPhase;
    const lateFrom = load.now();
    let lateTo: number;
    let processFrom = Number.NaN;
    try {
      late = await startEnvoyWhileXdsDown(
        lab,
        plane,
        eds,
        eds.initialFetchTimeoutMs ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
        ctx.signal,
      );
      lateTo = load.now();
      processFrom = performance.now();
      killed = await killXdsProcess(ctx, await preparing);
    } finally {
      await preparing.then(
        (setup) => setup.disposers.dispose(),
        () => {},
      );
    }
    // What the phase adds to the scenario: from the late Envoy's end to its own stop.
    const processPhaseMs = round(performance.now() - processFrom);
    await load.waitForMore(100);
    const results = await load.finish();
    const mainWhileLate = results.filter((r) => r.startMs >= lateFrom && r.startMs < lateTo);
    const mainFailedWhileLate = mainWhileLate.filter((r) => r.code !== 0).length;
    return {
      // Every call of every load (Envoys' and proxyless), counted together: none is left out.
      requests: requestTotals([...results, ...side.load.results, ...killed.results]),
      checks: [
        check(
          "with the sync gate, a crash and restart of the xDS server costs no call and no host",
          gated.failed === 0 && gated.minRoutedHosts === gated.servers,
          hostsLine(gated),
        ),
        check(
          "without the gate, the restarted server's empty answer takes Envoy's hosts (what the gate prevents)",
          ungated.minRoutedHosts === 0 && ungated.failed > 0,
          `${hostsLine(ungated)}${ungated.failed > 0 ? `: ${failuresLine(ungated)}` : ""}`,
        ),
        ...proxylessChecks(proxyless),
        check(
          "an Envoy started while the xDS server is down comes up after its initial_fetch_timeout, with no host",
          late.startToLiveMs >= late.initialFetchTimeoutMs && late.hostsAtLive === 0,
          `LIVE after ${late.startToLiveMs} ms (timeout ${late.initialFetchTimeoutMs} ms), ${late.hostsAtLive} hosts`,
        ),
        check(
          "its calls fail until the xDS server is back, then succeed",
          late.failedWhileDown === late.callsWhileDown && late.restartToFirstOkMs >= 0,
          `${late.failedWhileDown} of ${late.callsWhileDown} failed (${late.firstFailure}); first success ${late.restartToFirstOkMs} ms after the restart`,
        ),
        check(
          "the Envoy that had its hosts loses no call meanwhile",
          mainFailedWhileLate === 0,
          `${mainFailedWhileLate} of ${mainWhileLate.length} failed`,
        ),
        ...processChecks(killed),
      ],
      measurements: {
        gatedFailedCalls: gated.failed,
        gatedMinRoutedHosts: gated.minRoutedHosts,
        gatedRestartToReconnectMs: gated.restartToReconnectMs,
        ungatedFailedCalls: ungated.failed,
        ungatedCalls: ungated.calls,
        ungatedHostsDropped: ungated.servers - ungated.minRoutedHosts,
        ungatedRestartToReconnectMs: ungated.restartToReconnectMs,
        ungatedNoHostMs: ungated.noHostMs,
        ungatedListedToAllRoutedMs: ungated.listedToAllRoutedMs,
        lateInitialFetchTimeoutMs: late.initialFetchTimeoutMs,
        lateStartToLiveMs: late.startToLiveMs,
        lateFailedWhileDown: late.failedWhileDown,
        lateRestartToFirstOkMs: late.restartToFirstOkMs,
        lateWindowMs: round(lateTo - lateFrom),
        ...proxylessMeasurements(proxyless),
        processPhaseMs,
        ...processMeasurements(killed),
      },
      distributions: [
        { phase: "crash and restart, gated", backends: gated.backends },
        { phase: "crash and restart, no gate", backends: ungated.backends },
        { phase: "proxyless: crash and restart, gated", backends: proxyless.gated.backends },
        { phase: "proxyless: crash and restart, no gate", backends: proxyless.ungated.backends },
        { phase: "late Envoy started (the lab's Envoy)", backends: distribution(results, lateFrom, lateTo) },
        { phase: "xds-server process killed: through its Envoy", backends: killed.envoy.backends },
        { phase: "xds-server process killed: proxyless", backends: killed.proxyless.backends },
      ],
    };
  },
};
