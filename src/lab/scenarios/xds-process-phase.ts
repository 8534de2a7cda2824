import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { LabError } from "../../errors.js";
import { PROXYLESS_NODE_PREFIX } from "../../grpc/xds-channel.js";
import { startPacedLoad } from "../../loadgen/paced-load.js";
import { describeExit } from "../../proc/child.js";
import { round } from "../../scenarios/report.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import {
  CALL_DEADLINE_MS,
  SCENARIO_CONCURRENCY,
  SCENARIO_RATE_PER_SEC,
} from "../../scenarios/scenario-load.js";
import { formatHostPort } from "../../util/address.js";
import { writeEndpointsFile } from "../../xds/sources/file-format.js";
import type { LabCluster } from "../cluster.js";
import { joinBudgetMs } from "./budgets.js";
import { ADS_CONNECTED } from "./xds-crash-phase.js";
import { startXdsServerProcess, streamsOpened } from "./xds-process.js";
import { answeredSince, type LoadSide, type ProcessKillPhase, sideResult } from "./xds-process-report.js";
import { ENVOY_NODE, endpointsOf, type ProcessPhaseSetup } from "./xds-process-setup.js";

/** Calls of each load in each window: before the kill, while the process is dead, once it is back. */
const WINDOW_CALLS = 100;
/** Calls of each load before the phase counts them: a fresh channel's first calls connect. */
const WARM_UP_CALLS = 20;

/**
 * A real process death of the control plane, on a setup from prepareXdsProcess: its Envoy
 * and its proxyless client each under a load of 200 calls/s. The process is sent SIGKILL
 * and started again on the same port at once; once both clients have their ADS stream back,
 * the last server is added to the file, and both must route to it. The setup's owner
 * disposes of it.
 */
export async function killXdsProcess(
  ctx: ScenarioContext<LabCluster>,
  setup: ProcessPhaseSetup,
): Promise<ProcessKillPhase> {
  const { env: lab, signal, waitFor } = ctx;
  const { file, envoy, proxyless, disposers } = setup;
  const servers = lab.servers();
  const added = servers.at(-1);
  if (servers.length < 2 || added === undefined)
    throw new LabError("the xDS process phase needs at least 2 servers: one is added after the restart");
  const ids = { first: servers.slice(0, -1).map((s) => s.id), all: servers.map((s) => s.id) };
  let xds = setup.xds;
  disposers.defer(() => xds.stop());
  const routed = async (n: number) => {
    const hosts = await envoy.admin.clusterHosts(CLUSTER_NAME);
    return hosts.length === n && hosts.every((h) => h.healthy) ? true : undefined;
  };
  await waitFor(
    `the xds-process Envoy to route to ${ids.first.length} servers`,
    () => routed(ids.first.length),
    joinBudgetMs(lab.options) * 2,
  );
  const viaEnvoy = startPacedLoad({
    target: formatHostPort("127.0.0.1", envoy.listenerPort),
    tls: lab.clientTls,
    ratePerSec: SCENARIO_RATE_PER_SEC,
    concurrency: SCENARIO_CONCURRENCY,
    maxRequests: SCENARIO_RATE_PER_SEC * 60,
    maxDurationMs: 60_000,
    deadlineMs: CALL_DEADLINE_MS,
    signal,
  });
  disposers.defer(() => viaEnvoy.stop());
  const sides: LoadSide[] = [
    { name: "Envoy", load: viaEnvoy, marks: new Map() },
    { name: "proxyless", load: proxyless, marks: new Map() },
  ];
  const mark = (m: string): number => {
    for (const s of sides) s.marks.set(m, s.load.now());
    return performance.now();
  };
  /** Waits until each load has `more` calls started after `m` and they reached every one of `want`. */
  const reached = (m: string, want: readonly string[], more = WINDOW_CALLS) =>
    waitFor(
      `${more} calls of each load after '${m}', reaching ${want.join(", ")}`,
      () => {
        proxyless.throwIfFailed();
        return sides.every((s) => answeredSince(s, m, want, more)) ? true : undefined;
      },
      undefined,
      () => sides.map((s) => `${s.name}: ${s.load.results.length} calls`).join("; "),
    );

  mark("start");
  await reached("start", ids.first, WARM_UP_CALLS);
  mark("from");
  await reached("from", ids.first);
  const killedAt = mark("killed");
  const exit = await xds.kill();
  const killed = { pid: xds.pid, port: xds.port };
  await waitFor("the xds-process Envoy to see its ADS stream end", async () =>
    (await envoy.admin.stat(ADS_CONNECTED)) === 0 ? true : undefined,
  );
  // Started again at once: the new process's own start (Node, the protos) is the outage.
  const spawnedAt = performance.now();
  xds = await startXdsServerProcess({
    endpointsFile: file,
    port: killed.port,
    startTimeoutMs: lab.options.startTimeoutMs,
    signal,
  });
  const restartedAt = mark("restarted");
  const seen = await streamsOpened(
    xds,
    { envoy: (node) => node === ENVOY_NODE, proxyless: (node) => node.startsWith(PROXYLESS_NODE_PREFIX) },
    waitFor,
    restartedAt,
  );
  await reached("restarted", ids.first);
  // Marked before the write: the source may read the file and Envoy route to the new server
  // before this process gets back from the rename (a busy event loop).
  const changedAt = mark("changed");
  await writeEndpointsFile(file, endpointsOf(servers));
  await waitFor(
    `the xds-process Envoy to route to all ${servers.length} servers`,
    () => routed(servers.length),
    joinBudgetMs(lab.options) * 2,
  );
  const routedAt = performance.now();
  await reached("changed", ids.all);
  mark("to");
  const results = await Promise.all([viaEnvoy.stop(), proxyless.stop()]);
  return {
    exit: describeExit(exit),
    pids: [killed.pid, xds.pid],
    port: xds.port,
    listedBefore: ids.first.length,
    listedAfter: ids.all.length,
    downMs: round(restartedAt - killedAt),
    restartStartMs: round(restartedAt - spawnedAt),
    changeToEnvoyRoutedMs: round(routedAt - changedAt),
    envoy: sideResult(sides[0] as LoadSide, results[0], added.id, seen.envoy),
    proxyless: sideResult(sides[1] as LoadSide, results[1], added.id, seen.proxyless),
    results: results.flat(),
  };
}
