import { setTimeout as delay } from "node:timers/promises";
import { EnvoyAdmin } from "../envoy/admin.js";
import { messageOf } from "../errors.js";
import { abortable } from "../util/wait.js";
import { clusterFrame } from "./interval.js";
import { type ClusterChoice, pickCluster } from "./pick-cluster.js";
import { type EnvoyReading, readEnvoy } from "./reading.js";
import type { Section, WatchView } from "./view.js";

/** What `grpc-lb watch` watches, resolved (every field set). */
export interface WatchOptions {
  /** Envoys' admin APIs, host:port: one section each, in this order. */
  admins: readonly string[];
  /** How each section names its Envoy (a pod's name), in the order of admins; default its admin API. */
  names?: readonly string[];
  /** The cluster to show on every Envoy; undefined: each Envoy's cluster with the most hosts. */
  cluster: string | undefined;
  /** Time between two readings, ms (default 1000). */
  intervalMs: number;
  /** Intervals to show before stopping; undefined: until the signal. */
  count: number | undefined;
  /** Ends the watch (Ctrl-C): it stops at once, between or during readings. */
  signal: AbortSignal;
}

/** One Envoy watched: its admin API and name, the cluster shown, its last good reading. */
interface Watched {
  admin: EnvoyAdmin;
  name: string;
  choice: ClusterChoice;
  last: EnvoyReading;
}

/**
 * Reads every Envoy now, shows the first reading, then one interval every `intervalMs` until
 * `count` intervals or the signal. Readings are taken on a fixed cadence (t0 + k × interval), and
 * rates use the time measured between two answers. An Envoy that stops answering is shown as such
 * and read again next time; its rates then cover the whole gap. Resolves with the intervals shown.
 */
export async function watchEnvoys(o: WatchOptions, view: WatchView): Promise<number> {
  const admins = o.admins.map((a) => new EnvoyAdmin(a));
  const t0 = performance.now();
  const names = admins.map((a, i) => o.names?.[i] ?? a.address);
  // A reading carries the name its section shows.
  const read = (a: EnvoyAdmin, i: number): Promise<EnvoyReading> =>
    readEnvoy(a).then((r) => ({ ...r, admin: names[i] ?? r.admin }));
  const first = await abortable(Promise.all(admins.map(read)), o.signal);
  const watched: Watched[] = first.map((r, i) => ({
    admin: admins[i] as EnvoyAdmin,
    name: names[i] ?? r.admin,
    choice: pickCluster(r, o.cluster),
    last: r,
  }));
  const at = Date.now();
  view.first(
    watched.map((w) => ({
      kind: "frame",
      choice: w.choice,
      frame: clusterFrame(undefined, w.last, w.choice.name, at),
    })),
  );
  let shown = 0;
  let tick = 0;
  while (o.count === undefined || shown < o.count) {
    // The next tick still ahead: an answer slower than the interval skips ticks rather than bunching readings.
    tick = Math.max(tick + 1, Math.ceil((performance.now() - t0) / o.intervalMs));
    const wait = t0 + tick * o.intervalMs - performance.now();
    if (wait > 0) await delay(wait, undefined, { signal: o.signal });
    const readings = await abortable(Promise.allSettled(watched.map((w, i) => read(w.admin, i))), o.signal);
    const ts = Date.now();
    view.interval(readings.map((r, i) => section(watched[i] as Watched, r, ts)));
    shown += 1;
  }
  return shown;
}

/** A section from one Envoy's new reading, which becomes its last good one. */
function section(w: Watched, r: PromiseSettledResult<EnvoyReading>, ts: number): Section {
  if (r.status === "rejected")
    return {
      kind: "unread",
      choice: w.choice,
      admin: w.name,
      ts: new Date(ts).toISOString(),
      message: messageOf(r.reason),
    };
  const frame = clusterFrame(w.last, r.value, w.choice.name, ts);
  w.last = r.value;
  return { kind: "frame", choice: w.choice, frame };
}
