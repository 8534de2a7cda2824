import { startLoad } from "../../loadgen/engine.js";
import type { RequestResult } from "../../loadgen/paced-load.js";
import type { LoadReport } from "../../loadgen/report.js";
import { repliesCut } from "../../scenarios/report.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import type { LabCluster } from "../cluster.js";
import type { LabServer } from "../servers.js";
import { addressOf } from "./budgets.js";

/** The removal phase's load: open loop at this rate, capped at this many calls in flight. */
const REMOVAL_LOAD = { rps: 400, concurrency: 64 } as const;
/** How long the load goes on once Envoy has let the removed servers go, in ms: calls land on the rest. */
const AFTER_GONE_MS = 1000;
/** Bound on the whole phase, load included, in ms. */
const PHASE_MS = 60_000;

export interface RemovalOutcome {
  removed: number;
  /** From the DNS change and the kill to /clusters listing none of the removed hosts, in ms. */
  hostsGoneMs: number;
  load: LoadReport;
  /**
   * Failed calls whose reply the SIGKILL cut mid-way (INTERNAL, a reset stream), explained
   * beside the count as the runner does (ScenarioOutcome.cutReplies): no one can retry those.
   */
  cut: { count: number; by: string; budget: number };
  /** Calls answered by a removed server after /clusters had let it go. */
  answeredByRemovedAfterGone: number;
}

/**
 * The servers of every other process, whole: what losing half the nodes takes
 * away at once. The pool deals servers to processes in turn, so with an even
 * number of processes every other server in the DNS answer goes.
 */
export function halfByProcess(servers: readonly LabServer[]): LabServer[] {
  const processes = [...new Set(servers.map((s) => s.process))];
  const lost = new Set(processes.filter((_, i) => i % 2 === 1));
  return servers.filter((s) => lost.has(s.process));
}

/**
 * Under steady load, drops `remove` from DNS and SIGKILLs their processes at
 * the same moment; waits for Envoy's /clusters to let them go, then lets the
 * load run on a little, so calls land on the rest.
 */
export async function removeUnderLoad(
  { env: lab, signal, waitFor }: ScenarioContext<LabCluster>,
  remove: readonly LabServer[],
): Promise<RemovalOutcome> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const removedIds = new Set(remove.map((s) => s.id));
  let goneAt = Number.POSITIVE_INFINITY;
  let answeredByRemovedAfterGone = 0;
  const failures: RequestResult[] = [];
  const run = startLoad({
    target: lab.listenAddress,
    tls: lab.clientTls,
    schedule: { kind: "const", rps: REMOVAL_LOAD.rps },
    concurrency: REMOVAL_LOAD.concurrency,
    durationMs: PHASE_MS,
    call: { kind: "unary", message: "hello" },
    signal: stop.signal,
    onCall: (c) => {
      if (c.code !== 0) failures.push({ ...c, serverId: undefined });
      if (c.serverId !== undefined && removedIds.has(c.serverId) && c.startMs > goneAt)
        answeredByRemovedAfterGone += 1;
    },
  });
  const finished = (): number => {
    const p = run.progress();
    return p.ok + p.failed;
  };
  try {
    // Some calls first, so the load is going when the servers go.
    await waitFor("the removal load to start", () => (finished() >= 200 ? true : undefined));
    const started = performance.now();
    const killFromMs = run.now();
    const keep = lab.servers().filter((s) => !removedIds.has(s.id));
    lab.setServerRecords(keep);
    await lab.pool.killProcesses(remove);
    const killToMs = run.now();
    const removedAddresses = new Set(remove.map(addressOf));
    await waitFor(
      `Envoy's /clusters to let ${remove.length} removed servers go`,
      async () => {
        const hosts = await lab.hosts();
        return hosts.some((h) => removedAddresses.has(`${h.address}:${h.port}`)) ? undefined : true;
      },
      PHASE_MS,
    );
    const hostsGoneMs = performance.now() - started;
    goneAt = run.now();
    const more = finished() + REMOVAL_LOAD.rps * (AFTER_GONE_MS / 1000);
    await waitFor("the load to go on after the removal", () => (finished() >= more ? true : undefined));
    stop.abort();
    const load = await run.done;
    const cutByKill = repliesCut(failures, { fromMs: killFromMs, toMs: killToMs, withinMs: 1000 });
    const cut = { count: cutByKill, by: "the SIGKILL", budget: REMOVAL_LOAD.concurrency };
    return { removed: remove.length, hostsGoneMs, load, cut, answeredByRemovedAfterGone };
  } finally {
    stop.abort();
    signal.removeEventListener("abort", onAbort);
    await run.done.catch(() => undefined);
  }
}
