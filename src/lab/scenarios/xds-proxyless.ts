import { LabError } from "../../errors.js";
import { PROXYLESS_NODE_PREFIX } from "../../grpc/xds-channel.js";
import type { RequestResult } from "../../loadgen/paced-load.js";
import { distribution, round } from "../../scenarios/report.js";
import { WARM_UP_CALLS } from "../../scenarios/runner.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import type { XdsEvent } from "../../xds/events.js";
import type { XdsControlPlane } from "../topologies/xds-control.js";
import { byStatus, type ProxylessPhase } from "./xds-proxyless-report.js";
import type { ProxylessLoad } from "./xds-proxyless-thread.js";

/** The proxyless calls that show what the client had before the crash: those of the last second, in ms. */
const BEFORE_MS = 1000;

/** The moments of a crash phase, as the proxyless side counts its windows by them. */
type Moment = "from" | "killed" | "restarted" | "listed" | "to";

const proxyless = (e: XdsEvent): boolean => "node" in e && e.node.startsWith(PROXYLESS_NODE_PREFIX);

/**
 * A proxyless load beside the crash phase: the phase marks its moments, and this counts the
 * calls of each window on the load's clock and watches the xDS server's events for the
 * client's new stream and ACKs (on performance.now(), the events' clock).
 */
export class ProxylessSide {
  private readonly at = new Map<Moment, { load: number; perf: number }>();

  constructor(
    readonly load: ProxylessLoad,
    private readonly plane: XdsControlPlane,
    private readonly servers: number,
  ) {}

  /** Waits for the warm-up calls and for calls to have reached every server. */
  async warmedUp(ctx: Pick<ScenarioContext<unknown>, "waitFor">): Promise<void> {
    await ctx.waitFor(
      `${WARM_UP_CALLS} proxyless calls and all ${this.servers} servers answering`,
      () =>
        this.failedOr() &&
        this.load.results.length >= WARM_UP_CALLS &&
        answeredBy(this.load.results, 0, Number.POSITIVE_INFINITY) >= this.servers
          ? true
          : undefined,
      undefined,
      () => `${this.load.results.length} calls`,
    );
  }

  mark(m: Moment): void {
    this.at.set(m, { load: this.load.now(), perf: performance.now() });
  }

  /** Waits for the client's ADS stream on the restarted server. */
  async reconnected(ctx: Pick<ScenarioContext<unknown>, "waitFor">): Promise<void> {
    await ctx.waitFor("the proxyless client to open its ADS stream on the restarted xDS server", () =>
      this.since("restarted", "stream-opened"),
    );
  }

  /** Waits for the client to ACK an assignment (EDS) sent after `m`. */
  async ackedSince(m: Moment, ctx: Pick<ScenarioContext<unknown>, "waitFor">): Promise<void> {
    await ctx.waitFor(`the proxyless client to ACK an assignment sent after '${m}'`, () =>
      this.since(m, "ack"),
    );
  }

  /** How long after `m` the client's first event of `kind` (an ACK: of EDS) came, in ms. */
  private since(m: Moment, kind: "stream-opened" | "ack"): number | undefined {
    const at = this.eventAt(m, kind);
    return at === undefined ? undefined : at - this.when(m).perf;
  }

  /** When (performance.now()) the client's first event of `kind` since `m` came. */
  private eventAt(m: Moment, kind: "stream-opened" | "ack"): number | undefined {
    const t = this.when(m).perf;
    return this.plane.events.find(
      ({ atMs, e }) =>
        atMs >= t && e.kind === kind && (e.kind !== "ack" || e.type === "endpoint") && proxyless(e),
    )?.atMs;
  }

  /** The window in which the client held an empty assignment, on the load's clock; [0, 0) if none. */
  private emptyWindow(): [number, number] {
    const emptyAt = this.eventAt("restarted", "ack");
    const fullAt = this.eventAt("listed", "ack");
    const { load, perf } = this.when("listed");
    // An ACK between the restart and the list can only be of the assignment with no endpoint.
    if (emptyAt === undefined || fullAt === undefined || emptyAt >= perf) return [0, 0];
    return [load + emptyAt - perf, load + fullAt - perf];
  }

  /** Waits until calls started after `m` have reached every server. */
  async reachedAllSince(m: Moment, ctx: Pick<ScenarioContext<unknown>, "waitFor">): Promise<void> {
    const from = this.when(m).load;
    await ctx.waitFor(
      `proxyless calls to reach all ${this.servers} servers after '${m}'`,
      () =>
        this.failedOr() && answeredBy(this.load.results, from, Number.POSITIVE_INFINITY) >= this.servers
          ? true
          : undefined,
      undefined,
      () => `${answeredBy(this.load.results, from, Number.POSITIVE_INFINITY)} servers`,
    );
  }

  /** The phase as counted between its marks (all five must be set). */
  result(): ProxylessPhase {
    const [from, killed, restarted, listed, to] = (
      ["from", "killed", "restarted", "listed", "to"] as const
    ).map((m) => this.when(m).load) as [number, number, number, number, number];
    const results = this.load.results;
    const windows = {
      before: [from - BEFORE_MS, from],
      down: [killed, restarted],
      relisting: [restarted, listed],
      after: [listed, to],
    } as const;
    const each = (f: (a: number, b: number) => number) =>
      Object.fromEntries(
        Object.entries(windows).map(([k, [a, b]]) => [k, f(a, b)]),
      ) as ProxylessPhase["answered"];
    const phase = started(results, from, to);
    const failed = phase.filter((r) => r.code !== 0);
    const [emptyFrom, emptyTo] = this.emptyWindow();
    const whileEmpty = started(results, emptyFrom, emptyTo);
    return {
      calls: phase.length,
      failed: failed.length,
      failures: byStatus(failed),
      answered: each((a, b) => answeredBy(results, a, b)),
      failedIn: each((a, b) => started(results, a, b).filter((r) => r.code !== 0).length),
      empty: {
        ms: round(emptyTo - emptyFrom),
        calls: whileEmpty.length,
        failed: whileEmpty.filter((r) => r.code !== 0).length,
      },
      servers: this.servers,
      restartToReconnectMs: round(this.since("restarted", "stream-opened") ?? Number.NaN),
      listedToAckMs: round(this.since("listed", "ack") ?? Number.NaN),
      backends: distribution(results, from, to),
    };
  }

  /** true, or throws once the load has failed: every wait on its calls ends then. */
  private failedOr(): true {
    this.load.throwIfFailed();
    return true;
  }

  private when(m: Moment): { load: number; perf: number } {
    const t = this.at.get(m);
    if (t === undefined) throw new LabError(`xds-restart: the crash phase has not marked '${m}' yet`);
    return t;
  }
}

const started = (results: readonly RequestResult[], from: number, to: number): RequestResult[] =>
  results.filter((r) => r.startMs >= from && r.startMs < to);

/** How many servers answered calls started in [from, to). */
const answeredBy = (results: readonly RequestResult[], from: number, to: number): number =>
  new Set(started(results, from, to).flatMap((r) => (r.code === 0 && r.serverId ? [r.serverId] : []))).size;
