import { atFairShare } from "../lab/scenarios/streams-strategies.js";
import type { StreamLoadRun } from "../loadgen/streams/stream-load.js";
import type { StreamReport, StreamSample } from "../loadgen/streams/stream-report.js";
import { WaitTimeoutError } from "../util/wait.js";
import { round } from "./report.js";
import type { ScenarioContext } from "./scenario.js";
import { countsBetween } from "./stream-phases.js";
import type { StreamsPhaseResult } from "./streams-outcome.js";

/**
 * A phase as a scenario closes it: the tracker adds its end and its counts, and its start
 * when not given (where the last phase ended, or 0).
 */
export type StreamsPhaseEnd = Omit<StreamsPhaseResult, "fromMs" | "toMs" | "counts"> & { fromMs?: number };

/**
 * Follows long-lived streams through the phases of an engine's scenario, on the streams'
 * own samples: waits for a condition on them within a budget, and closes each phase with
 * its window and what became of the streams meanwhile.
 */
export class StreamPhaseTracker {
  readonly phases: StreamsPhaseResult[] = [];
  private last: StreamReport | undefined;
  /** Date.now() when the streams' clock read 0. */
  private readonly wallZero: number;

  constructor(
    private readonly run: StreamLoadRun,
    private readonly streams: number,
    private readonly waitFor: ScenarioContext<unknown>["waitFor"],
  ) {
    this.wallZero = Date.now() - run.now();
  }

  /** Every stream open, each on one of `ids`. */
  onlyOn(ids: readonly string[]): (s: StreamSample) => boolean {
    return (s) => s.open === this.streams && Object.keys(s.byServer).every((id) => ids.includes(id));
  }

  /** Every stream open on `ids` only (atFairShare alone lets some stay elsewhere), each at its fair share within one. */
  fairOn(ids: readonly string[]): (s: StreamSample) => boolean {
    const only = this.onlyOn(ids);
    return (s) => only(s) && atFairShare(s.byServer, ids, this.streams);
  }

  /** A wall-clock time (a ready line's) on the streams' clock. */
  fromWall(ms: number): number {
    return ms - this.wallZero;
  }

  /**
   * Ms from `fromMs` to the first sample since then for which `done` holds, waiting until
   * `budgetMs` after `fromMs`; undefined when none did by then.
   */
  async until(
    what: string,
    done: (s: StreamSample) => boolean,
    fromMs: number,
    budgetMs: number,
  ): Promise<number | undefined> {
    const pick = () => this.run.samples.find((s) => s.atMs >= fromMs && done(s))?.atMs;
    try {
      const at = await this.waitFor(what, pick, Math.max(0, fromMs + budgetMs - this.run.now()));
      return round(at - fromMs);
    } catch (e) {
      if (e instanceof WaitTimeoutError) return undefined;
      throw e;
    }
  }

  /** Closes a phase now: it began where the last one ended. */
  end(p: StreamsPhaseEnd): void {
    const now = this.run.snapshot();
    const fromMs = p.fromMs ?? this.phases.at(-1)?.toMs ?? 0;
    this.phases.push({ ...p, fromMs, toMs: this.run.now(), counts: countsBetween(this.last, now) });
    this.last = now;
  }
}
