import type { ClusterView } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { listOf } from "../list-of.js";
import { about, type Check, hostsJudged, perCluster } from "./check.js";

/** Requests in flight per healthy host, at least, before a split of them means anything. */
export const MIN_ACTIVE_PER_HOST = 2;

/** One healthy host's requests in flight at one reading. */
export interface ActiveCount {
  address: string;
  active: number;
}

/** What one reading says: the hosts carrying little or nothing, and those carrying much more than their share. */
export interface PinnedReading {
  total: number;
  fairShare: number;
  starved: string[];
  crowded: string[];
}

/**
 * Whether requests in flight are spread as round robin never spreads them. Round robin (and
 * least request) keep every host within a request or two of the others; a spread of at least
 * a fair share (and of 3) with 2 or more in flight per host is streams that stayed where they
 * started. Undefined when the reading shows no such thing.
 */
export function pinnedAt(counts: readonly ActiveCount[]): PinnedReading | undefined {
  if (counts.length < 2) return undefined;
  const actives = counts.map((c) => c.active);
  const total = actives.reduce((a, b) => a + b, 0);
  if (total < MIN_ACTIVE_PER_HOST * counts.length) return undefined;
  const fairShare = total / counts.length;
  if (Math.max(...actives) - Math.min(...actives) < Math.max(3, fairShare)) return undefined;
  return {
    total,
    fairShare,
    starved: counts.filter((c) => c.active <= fairShare / 2).map((c) => c.address),
    crowded: counts.filter((c) => c.active >= fairShare * 1.5).map((c) => c.address),
  };
}

/** Hash policies put calls where the key says, streams or not: hash-without-key judges those. */
const HASHED = ["RING_HASH", "MAGLEV"];

/**
 * The cluster's streams pinned: every reading of its healthy hosts' rq_active shows the spread
 * pinnedAt() describes. The hosts named starved or crowded are so at every reading.
 */
export function pinnedStreams(
  c: ClusterView,
): (PinnedReading & { last: ActiveCount[]; readings: number }) | undefined {
  if (!hostsJudged(c) || HASHED.includes(String(c.config.lb_policy ?? ""))) return undefined;
  const healthy = c.hosts.filter((h) => h.failed.length === 0);
  const readings = Math.min(...healthy.map((h) => h.rqActive.length));
  if (healthy.length < 2 || readings < 1) return undefined;
  const at = (k: number): ActiveCount[] =>
    healthy.map((h) => ({ address: h.address, active: h.rqActive[h.rqActive.length - readings + k] ?? 0 }));
  const judged = Array.from({ length: readings }, (_, k) => pinnedAt(at(k)));
  if (judged.some((j) => j === undefined)) return undefined;
  const everyTime = (pick: (j: PinnedReading) => string[]): string[] =>
    judged.reduce<string[]>(
      (keep, j) => keep.filter((a) => j && pick(j).includes(a)),
      pick(judged[0] as PinnedReading),
    );
  const last = at(readings - 1);
  const lastJudged = judged[readings - 1] as PinnedReading;
  return {
    ...lastJudged,
    starved: everyTime((j) => j.starved),
    crowded: everyTime((j) => j.crowded),
    last,
    readings,
  };
}

export const streamsPinned: Check = perCluster(
  "streams-pinned",
  "long-lived streams pinned to some hosts while others carry few (live, from rq_active)",
  (c, scope) => {
    const p = pinnedStreams(c);
    if (p === undefined) return undefined;
    const spanMs = scope.view.activeSpanMs;
    const when = p.readings > 1 ? `at ${p.readings} readings ${spanMs} ms apart` : "at one reading";
    const few =
      p.starved.length > 0
        ? p.starved
        : p.last.filter((h) => !p.crowded.includes(h.address)).map((h) => h.address);
    return about(c, {
      severity: "warning",
      evidence: {
        field: `/clusters rq_active ${when}`,
        value: `${p.total} in flight on ${p.last.length} healthy hosts (fair share ${p.fairShare.toFixed(1)}): ${p.last.map((h) => `${h.address} ${h.active}`).join(", ")}`,
      },
      why: `${listOf(few)} carr${few.length === 1 ? "ies" : "y"} ${p.starved.length > 0 ? "few or none" : "less than the others"}: a stream stays on the host it started on for its whole life, so hosts that joined since (a scale-out, a restart) get only new streams while the old ones keep theirs; have the servers end each stream with OK after a maximum lifetime so that clients resume it and Envoy places it anew (docs/streams.md measures it), or give the servers a max connection age with a grace${p.readings > 1 ? "" : " (one reading: a burst of short calls can look so; read again)"}`,
      docs: `${DOCS}/intro/arch_overview/upstream/load_balancing/load_balancers`,
    });
  },
);
