import { LabError } from "../../errors.js";
import {
  type PacedLoad,
  type PacedLoadOptions,
  type RequestResult,
  startPacedLoad,
} from "../../loadgen/paced-load.js";
import type { LoadReport } from "../../loadgen/report.js";
import { distribution, round } from "../../scenarios/report.js";
import { WARM_UP_CALLS } from "../../scenarios/runner.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import {
  CALL_DEADLINE_MS,
  LAB_LOAD,
  SCENARIO_CONCURRENCY,
  SCENARIO_RATE_PER_SEC,
  startScenarioLoad,
  WAIT_MS,
} from "../../scenarios/scenario-load.js";
import { formatHostPort } from "../../util/address.js";
import { type LabCluster, SERVER_NAME } from "../cluster.js";
import type { LabServer } from "../servers.js";

/** Who balances the phase's calls: the lab's Envoy, or grpc-js-xds in this process (proxyless). */
export type DiscoveryClient = "envoy" | "proxyless";

/** Calls after each change before the next, so that each phase has traffic. */
const CALLS_PER_STEP = 200;

/** What one way of discovery did with a server joining and one leaving, under its own load. */
export interface DiscoveryPhase {
  /** From the new server's ready line to the start of the first call it answered, in ms. */
  readyToFirstCallMs: number;
  /** From a server's removal (its SIGTERM; with DNS, its record dropped too) to the start of the last call it answered, in ms; 0 when none started after. */
  removedToLastCallMs: number;
  /** The phase's load, by the engine's own totals. */
  report: LoadReport;
  distributions: { phase: string; backends: Record<string, number> }[];
}

/**
 * Under a paced load of its own on `lab`: adds a server and times its first call, then stops
 * one of the first servers and times its last. With DNS the records change at once, as an
 * endpoints controller does; with xDS the lab's server pool tells the xDS server by itself.
 * The calls go through Envoy, or, proxyless, to xds:///server from this process.
 */
export async function measureDiscovery(
  lab: LabCluster,
  ctx: Pick<ScenarioContext<unknown>, "signal" | "waitFor">,
  client: DiscoveryClient = "envoy",
): Promise<DiscoveryPhase> {
  const byDns = lab.topology.kind !== "xds";
  const load = client === "envoy" ? loadThroughEnvoy(lab, ctx.signal) : proxylessLoad(lab, ctx.signal);
  const more = async (n: number) => load.waitForResults(load.results.length + n, WAIT_MS, ctx.signal);
  try {
    await more(WARM_UP_CALLS);
    let readyAt: number | undefined;
    const unwatch = lab.pool.watch((c) => {
      if (c.kind === "ready") readyAt ??= load.now();
    });
    const [added] = await lab.pool.add(1).finally(unwatch);
    const joinedAt = readyAt ?? load.now();
    if (byDns) lab.setServerRecords(lab.servers());
    await ctx.waitFor(`the new server ${added?.id} to answer a call`, () =>
      load.results.some((r) => r.serverId === added?.id) ? true : undefined,
    );
    const fourFrom = load.now();
    await more(CALLS_PER_STEP);
    const fourTo = load.now();

    const victim = lab.servers()[0] as LabServer;
    const removedAt = load.now();
    if (byDns) lab.setServerRecords(lab.servers().filter((s) => s !== victim));
    await lab.pool.stop(victim);
    const goneAt = load.now();
    await more(CALLS_PER_STEP);
    const results = await load.stop();
    return {
      readyToFirstCallMs: round(firstStart(results, added?.id) - joinedAt),
      removedToLastCallMs: round(Math.max(0, lastStart(results, victim.id) - removedAt)),
      report: load.report(),
      distributions: [
        { phase: "4 servers", backends: distribution(results, fourFrom, fourTo) },
        { phase: "after the removal", backends: distribution(results, goneAt) },
      ],
    };
  } finally {
    await load.stop();
  }
}

const loadThroughEnvoy = (lab: LabCluster, signal: AbortSignal): PacedLoad =>
  startScenarioLoad(
    { listenAddress: lab.listenAddress, tls: lab.clientTls, admin: lab.envoy.admin },
    LAB_LOAD,
    signal,
  );

/** The scenario's steady load, from grpc-js-xds to the lab's xDS server's endpoints. */
const proxylessLoad = (lab: LabCluster, signal: AbortSignal): PacedLoad =>
  startPacedLoad({ ...proxylessLoadOptions(lab), signal });

/** The options of that load (no signal: a worker thread takes them as plain data). */
export function proxylessLoadOptions(lab: LabCluster): Omit<PacedLoadOptions, "signal"> {
  const eds = lab.topology.envoyEds();
  if (eds === undefined) throw new LabError("a proxyless load needs the lab's xDS server");
  return {
    target: `xds:///${SERVER_NAME}`,
    xdsServer: formatHostPort(eds.xdsAddress, eds.xdsPort),
    ratePerSec: SCENARIO_RATE_PER_SEC,
    concurrency: SCENARIO_CONCURRENCY,
    maxRequests: LAB_LOAD.maxRequests,
    maxDurationMs: LAB_LOAD.maxDurationMs,
    deadlineMs: CALL_DEADLINE_MS,
  };
}

const startsOf = (results: readonly RequestResult[], id: string | undefined): number[] =>
  results.filter((r) => r.serverId === id).map((r) => r.startMs);

const firstStart = (results: readonly RequestResult[], id: string | undefined): number =>
  Math.min(...startsOf(results, id));

const lastStart = (results: readonly RequestResult[], id: string): number =>
  Math.max(Number.NEGATIVE_INFINITY, ...startsOf(results, id));
