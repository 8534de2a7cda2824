import { LISTENER_NAME } from "../../envoy/bootstrap.js";
import type { EnvoyHandle } from "../../envoy/process.js";
import type { EnvoyTier } from "../envoy-tier.js";

/**
 * Each Envoy's requests (http.<listener>.downstream_rq_total) by its place in the tier
 * ("envoy-1", …): a restarted Envoy counts from 0, so its old total is carried over and the
 * totals never go back.
 */
export function tierTotals(tier: EnvoyTier): () => Promise<Map<string, number>> {
  const seen = tier.envoys.map(() => ({
    handle: undefined as EnvoyHandle | undefined,
    value: 0,
    carried: 0,
  }));
  return async () =>
    new Map(
      await Promise.all(
        tier.envoys.map(async (e, i): Promise<[string, number]> => {
          const s = seen[i] ?? { handle: undefined, value: 0, carried: 0 };
          if (s.handle !== undefined && s.handle !== e) {
            s.carried += s.value;
            s.value = 0;
          }
          s.handle = e;
          // A stopped or starting Envoy has served nothing more than it had.
          const value = await e.admin
            .stat(`http.${LISTENER_NAME}.downstream_rq_total`)
            .catch(() => undefined);
          if (value !== undefined) s.value = value;
          seen[i] = s;
          return [`envoy-${i + 1}`, s.carried + s.value];
        }),
      ),
    );
}
