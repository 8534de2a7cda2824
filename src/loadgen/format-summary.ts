import type { BackendStats } from "./report.js";

/** Up to this many backends, reports list every one; past it they summarise (unless asked for all). */
export const FULL_LISTING_MAX_BACKENDS = 20;
/** Backends named at each end of a summary. */
export const SUMMARY_ENDS = 5;
/** Most bins of a histogram of per-backend counts. */
export const HISTOGRAM_BINS = 10;

/** Options shared by the text and HTML formats. */
export interface BackendListingOptions {
  /** List every backend, however many there are (--all-backends). Default false: summarise past 20. */
  allBackends?: boolean;
}

/** One bin of a histogram of per-backend counts: backends whose count is in [from, to]. */
export interface CountBin {
  from: number;
  to: number;
  backends: number;
}

/** A long backend list in brief: the busiest and the least busy, and how counts spread. */
export interface BackendSummary {
  /** Busiest first, SUMMARY_ENDS of them. */
  top: BackendStats[];
  /** The least busy SUMMARY_ENDS, busiest of them first (as the list they end). */
  bottom: BackendStats[];
  /** Backends by count, lowest bin first; one bin when every count is the same. */
  histogram: CountBin[];
}

/** Whether a report with `backends` rows lists them all. */
export const listsAll = (backends: number, o: BackendListingOptions = {}): boolean =>
  o.allBackends === true || backends <= FULL_LISTING_MAX_BACKENDS;

/** Summarises rows sorted busiest first (LoadReport.perBackend). */
export function summarizeBackends(rows: readonly BackendStats[]): BackendSummary {
  const counts = rows.map((b) => b.count);
  return {
    top: rows.slice(0, SUMMARY_ENDS),
    bottom: rows.slice(Math.max(SUMMARY_ENDS, rows.length - SUMMARY_ENDS)),
    histogram: countHistogram(counts),
  };
}

/**
 * Counts in at most HISTOGRAM_BINS bins of equal width over whole numbers,
 * from the lowest count to the highest; empty bins are kept, so gaps show.
 */
export function countHistogram(counts: readonly number[]): CountBin[] {
  if (counts.length === 0) return [];
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  const width = Math.max(1, Math.ceil((max - min + 1) / HISTOGRAM_BINS));
  const bins: CountBin[] = [];
  for (let from = min; from <= max; from += width)
    bins.push({ from, to: Math.min(max, from + width - 1), backends: 0 });
  for (const c of counts) {
    const bin = bins[Math.floor((c - min) / width)];
    if (bin) bin.backends += 1;
  }
  return bins;
}
