import type { StreamReport } from "../../loadgen/streams/stream-report.js";
import { startScenarioStreams } from "../../scenarios/scenario-streams.js";
import { WaitTimeoutError, waitFor } from "../../util/wait.js";
import type { LabCluster } from "../cluster.js";
import {
  atFairShare,
  fairShareBudgetMs,
  moveBudgetMs,
  type StreamStrategy,
  type StreamsTimings,
} from "./streams-strategies.js";

/** What one strategy did on its lab. */
export interface StrategyResult {
  /** From the scale-out to the first sample at the fair share, in ms; undefined when not reached. */
  fairShareMs: number | undefined;
  /** How long the fair share was waited for, in ms (the strategy's budget, or the longest for none). */
  budgetMs: number;
  /** Streams per server at the end of the wait. */
  sharesAfterScale: Record<string, number>;
  /** From SIGTERM to the drained server's streams all open elsewhere, in ms; undefined when not. */
  drainMoveMs: number | undefined;
  /** From SIGKILL to the killed server's streams all open elsewhere, in ms; undefined when not. */
  killMoveMs: number | undefined;
  moveBudgetMs: number;
  report: StreamReport;
}

/**
 * On a lab of 3 servers: opens the streams, scales to 6 and waits for the
 * fair share (at most `observeMs` when the strategy never moves streams),
 * then drains one server and kills another, each time waiting for their
 * streams to resume elsewhere.
 */
export async function runStrategy(
  lab: LabCluster,
  strategy: StreamStrategy,
  t: StreamsTimings,
  observeMs: number,
  signal: AbortSignal,
): Promise<StrategyResult> {
  const load = await startScenarioStreams({ listenAddress: lab.listenAddress, tls: lab.clientTls }, t, {
    maxLifetimeMs: 0,
    connectTimeoutMs: lab.options.startTimeoutMs,
  });
  const open = (): number => Object.values(load.openByServer()).reduce((a, b) => a + b, 0);
  /** Polls `done` until it holds: the time it took, or undefined when `timeoutMs` passed first. */
  const timeUntil = async (
    what: string,
    done: () => boolean,
    timeoutMs: number,
  ): Promise<number | undefined> => {
    const from = load.now();
    try {
      await waitFor(what, () => (done() ? true : undefined), {
        timeoutMs,
        intervalMs: t.sampleMs / 2,
        signal,
      });
      return Math.round(load.now() - from);
    } catch (e) {
      if (e instanceof WaitTimeoutError) return undefined;
      throw e;
    }
  };
  try {
    await waitFor("every stream to open", () => (open() === t.streams ? true : undefined), {
      timeoutMs: lab.options.startTimeoutMs,
      intervalMs: 20,
      signal,
    });
    await lab.pool.add(3);
    lab.setServerRecords(lab.servers());
    const budget = fairShareBudgetMs(strategy, t, lab.options);
    const ids = lab.servers().map((s) => s.id);
    const fairShareMs = await timeUntil(
      "the fair share",
      () => atFairShare(load.openByServer(), ids, t.streams),
      budget ?? observeMs,
    );
    const sharesAfterScale = load.openByServer();
    const move = moveBudgetMs(t, lab.options);
    const movedFrom = (id: string) => () => (load.openByServer()[id] ?? 0) === 0 && open() === t.streams;

    const [, drained, killed] = lab.servers();
    if (drained === undefined || killed === undefined) throw new Error("streams needs 3 servers or more");
    lab.setServerRecords(lab.servers().filter((s) => s !== drained));
    const stopped = lab.pool.stop(drained);
    stopped.catch(() => {});
    const drainMoveMs = await timeUntil("the drained server's streams to move", movedFrom(drained.id), move);
    await stopped;
    lab.setServerRecords(lab.servers().filter((s) => s !== killed));
    await lab.pool.kill(killed);
    const killMoveMs = await timeUntil("the killed server's streams to move", movedFrom(killed.id), move);
    return {
      fairShareMs,
      budgetMs: budget ?? observeMs,
      sharesAfterScale,
      drainMoveMs,
      killMoveMs,
      moveBudgetMs: move,
      report: await load.stop(),
    };
  } finally {
    await load.stop();
  }
}
