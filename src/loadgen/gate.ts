import { imbalanceOf, type LoadReport } from "./report.js";

/** The balance a CI run requires; each check is off when undefined. */
export interface BalanceGate {
  /** Exactly this many backends must answer. */
  expectBackends: number | undefined;
  /** The busiest backend may answer at most this many percent more calls than the least busy one. */
  maxImbalancePct: number | undefined;
}

/**
 * Why the distribution misses the gate, in one line, or undefined when it
 * passes. Backends expected but silent count as answering zero calls, as do
 * hosts Envoy's counters list as never reached.
 */
export function checkBalance(r: LoadReport, g: BalanceGate): string | undefined {
  const listed = r.perBackend.map((b) => b.count);
  const answered = listed.filter((n) => n > 0);
  if (g.expectBackends !== undefined && answered.length !== g.expectBackends) {
    const silent = listed.length - answered.length;
    return `balance: ${answered.length} backend${answered.length === 1 ? "" : "s"} answered, expected ${g.expectBackends} (--expect-backends)${silent > 0 ? `; ${silent} never reached` : ""}`;
  }
  if (g.maxImbalancePct !== undefined) {
    const { maxMinRatio } = imbalanceOf(listed, g.expectBackends ?? 0);
    if (maxMinRatio === null)
      return "balance: no backend answered, so the imbalance is unknown (--max-imbalance)";
    const pct = (maxMinRatio - 1) * 100;
    if (pct > g.maxImbalancePct) {
      const max = Math.max(...listed);
      const min = listed.length < (g.expectBackends ?? 0) ? 0 : Math.min(...listed);
      return `balance: the busiest backend answered ${max} calls and the least busy ${min}, ${Number.isFinite(pct) ? `${pct.toFixed(1)}%` : "infinitely"} more, above --max-imbalance ${g.maxImbalancePct}%`;
    }
  }
  return undefined;
}
