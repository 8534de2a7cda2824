import { startLoad } from "../../loadgen/engine.js";
import type { LoadReport } from "../../loadgen/report.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import type { LabCluster } from "../cluster.js";

/** The join phase's load: a closed loop this wide over one connection, as the removal's. */
const JOIN_CONCURRENCY = 16;
/** Bound on the whole phase, load included, in ms. */
const PHASE_MS = 180_000;

export interface JoinOutcome {
  added: number;
  /** From the DNS change to /clusters listing every server as a healthy host, in ms. */
  allHealthyMs: number;
  /** From the DNS change to every added server having answered a call through Envoy, in ms. */
  allAnsweredMs: number;
  load: LoadReport;
}

/**
 * Starts `count` servers, puts them in the DNS answer beside the others, and
 * under load measures how long until Envoy lists every server healthy and
 * until every new one has answered a call: the time to route to all of them.
 */
export async function joinUnderLoad(
  { env: lab, signal, waitFor }: ScenarioContext<LabCluster>,
  count: number,
): Promise<JoinOutcome> {
  const added = await lab.pool.add(count);
  const addedIds = new Set(added.map((s) => s.id));
  const answered = new Set<string>();
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const run = startLoad({
    target: lab.listenAddress,
    tls: lab.clientTls,
    concurrency: JOIN_CONCURRENCY,
    durationMs: PHASE_MS,
    call: { kind: "unary", message: "hello" },
    signal: stop.signal,
    onCall: (c) => {
      if (c.serverId !== undefined && addedIds.has(c.serverId)) answered.add(c.serverId);
    },
  });
  try {
    const all = lab.servers();
    const started = performance.now();
    lab.setServerRecords(all);
    let allHealthyMs: number | undefined;
    await waitFor(
      `Envoy to list all ${all.length} servers healthy and every one of the ${count} added to answer`,
      async () => {
        if (allHealthyMs === undefined) {
          const hosts = await lab.hosts();
          if (hosts.length === all.length && hosts.every((h) => h.healthy))
            allHealthyMs = performance.now() - started;
        }
        return allHealthyMs !== undefined && answered.size === addedIds.size ? true : undefined;
      },
      PHASE_MS,
      () => `${answered.size} of ${addedIds.size} added servers answered`,
    );
    const allAnsweredMs = performance.now() - started;
    stop.abort();
    const load = await run.done;
    return { added: count, allHealthyMs: allHealthyMs ?? allAnsweredMs, allAnsweredMs, load };
  } finally {
    stop.abort();
    signal.removeEventListener("abort", onAbort);
    await run.done.catch(() => undefined);
  }
}
