import { setTimeout as delay } from "node:timers/promises";

/**
 * Running request totals per key (an Envoy of the lab's tier, an Envoy pod), read every
 * `intervalMs` while a scenario runs, on the scenario's clock: how the calls were shared
 * among Envoys in any window, and whether every one of them carries its part.
 */
export interface ShareSampler {
  /** Requests each key took between the samples nearest `from` and `to` (a key seen later counts from 0). */
  between(from: number, to: number): Map<string, number>;
  /**
   * The last `windowMs` of counts of `keys`, once each carries at least `minShare` of its
   * fair share of them (1/2: about even; 1/4: every one reached); undefined until then.
   */
  balanced(keys: readonly string[], windowMs: number, minShare: number): Map<string, number> | undefined;
  /** Stops sampling after one last read. */
  stop(): Promise<void>;
}

/** Starts reading `read()` (totals that never go back) every `intervalMs`; a failed read counts as none. */
export function startShareSampler(
  read: () => Promise<Map<string, number>>,
  now: () => number,
  intervalMs: number,
  signal?: AbortSignal,
): ShareSampler {
  const samples: { at: number; totals: Map<string, number> }[] = [];
  const stopped = new AbortController();
  const sample = async (): Promise<void> => {
    const totals = await read().catch(() => new Map<string, number>());
    samples.push({ at: now(), totals });
  };
  const loop = (async () => {
    while (!stopped.signal.aborted && !signal?.aborted) {
      await sample();
      await delay(intervalMs, undefined, { signal: stopped.signal }).catch(() => {});
    }
    if (!signal?.aborted) await sample();
  })();
  const between = (from: number, to: number): Map<string, number> => {
    const first = samples.find((s) => s.at >= from);
    const last = samples.findLast((s) => s.at <= to);
    const out = new Map<string, number>();
    if (first === undefined || last === undefined) return out;
    for (const [key, n] of last.totals) out.set(key, Math.max(0, n - (first.totals.get(key) ?? 0)));
    return out;
  };
  return {
    between,
    balanced(keys, windowMs, minShare) {
      const at = samples.at(-1)?.at;
      if (at === undefined) return undefined;
      const window = between(at - windowMs, at);
      const counts = new Map(keys.map((k) => [k, window.get(k) ?? 0]));
      const sum = [...counts.values()].reduce((a, b) => a + b, 0);
      const fair = sum / Math.max(1, keys.length);
      return sum > 0 && [...counts.values()].every((c) => c >= fair * minShare) ? counts : undefined;
    },
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}

/** Each count as a percentage of their sum, to 0.1. */
export function sharesPct(counts: Map<string, number>): number[] {
  const sum = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts.values()].map((c) => (sum === 0 ? 0 : Math.round((1000 * c) / sum) / 10));
}
