import type { StreamReport, StreamSample } from "../loadgen/streams/stream-report.js";
import { round } from "./report.js";

/** Streams per server over one phase of a stream run, one value a step. */
export interface StreamSpread {
  /** The fewest streams any of the phase's servers carried (a server with none counts 0). */
  fewest: number[];
  /** The most streams any server carried, also one the phase no longer counts (a stopped one). */
  most: number[];
}

/**
 * How the streams were shared over [fromMs, toMs): the sample nearest after each step
 * (every `stepMs` from `fromMs`), then the window's last one, each as its fewest and most
 * streams per server. With the fair share of every server within one, both close in on
 * streams / servers.
 */
export function spreadOverTime(
  samples: readonly StreamSample[],
  fromMs: number,
  toMs: number,
  servers: readonly string[],
  stepMs = 1000,
): StreamSpread {
  const out: StreamSpread = { fewest: [], most: [] };
  const inWindow = samples.filter((x) => x.atMs >= fromMs && x.atMs < toMs);
  const picked: StreamSample[] = [];
  for (let at = fromMs; at < toMs; at += stepMs) {
    const s = inWindow.find((x) => x.atMs >= at);
    if (s === undefined) break;
    picked.push(s);
  }
  const last = inWindow.at(-1);
  if (last !== undefined && picked.at(-1) !== last) picked.push(last);
  for (const s of picked) {
    out.fewest.push(Math.min(...servers.map((id) => s.byServer[id] ?? 0)));
    out.most.push(Math.max(0, ...Object.values(s.byServer)));
  }
  return out;
}

/**
 * From `fromMs` (a replica told to go) until the last stream `gone` carried had ended and
 * every one of `streams` was open again elsewhere, in ms, as the samples show it; undefined
 * when that never happened, or a gone server still carried a stream in the last sample.
 */
export function movedOffMs(
  samples: readonly StreamSample[],
  gone: readonly string[],
  fromMs: number,
  streams: number,
): number | undefined {
  const after = samples.filter((s) => s.atMs >= fromMs);
  const carries = (s: StreamSample): boolean => gone.some((id) => (s.byServer[id] ?? 0) > 0);
  const lastOn = after.findLastIndex(carries);
  const back = after.slice(lastOn + 1).find((s) => s.open === streams);
  return back === undefined ? undefined : round(back.atMs - fromMs);
}

/** What became of the streams between two reports of one run (a phase). */
export interface StreamPhaseCounts {
  /** Streams that ended, whatever their status. */
  ended: number;
  /** Of those, the ones that ended with a status other than OK. */
  endedNotOk: number;
  resumes: number;
  delivered: number;
  lost: number;
  duplicated: number;
}

const endsOf = (r: StreamReport | undefined, notOk: boolean): number =>
  Object.entries(r?.endsByStatus ?? {}).reduce((a, [k, v]) => (notOk && k === "OK" ? a : a + v), 0);

/** The counts of `to` less those of `from` (undefined: the start of the run). */
export function countsBetween(from: StreamReport | undefined, to: StreamReport): StreamPhaseCounts {
  return {
    ended: endsOf(to, false) - endsOf(from, false),
    endedNotOk: endsOf(to, true) - endsOf(from, true),
    resumes: to.resumes - (from?.resumes ?? 0),
    delivered: to.delivered - (from?.delivered ?? 0),
    lost: to.lost - (from?.lost ?? 0),
    duplicated: to.duplicated - (from?.duplicated ?? 0),
  };
}
