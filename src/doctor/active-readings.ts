import { setTimeout as delay } from "node:timers/promises";
import type { EnvoyAdmin } from "../envoy/admin.js";
import { pinnedStreams } from "./checks/streams-pinned.js";
import type { EnvoyView } from "./envoy-view.js";
import { hostsFromClusters } from "./view/clusters.js";
import { obj, snakeKeys } from "./view/json.js";

/** Between the two readings of rq_active when streams look pinned, in ms: far longer than a unary call. */
export const ACTIVE_RECHECK_MS = 1000;

/**
 * When one reading of /clusters shows requests in flight spread as round robin would not
 * spread them, reads /clusters again `windowMs` later and adds each host's rq_active to the
 * view, so that streams-pinned judges what lasted, not a burst of short calls. The view as
 * it was when nothing looks pinned (no wait at all).
 */
export async function withSecondReading(
  view: EnvoyView,
  admin: EnvoyAdmin,
  o: { windowMs: number; signal?: AbortSignal | undefined },
): Promise<EnvoyView> {
  if (![...view.clusters.values()].some((c) => pinnedStreams(c) !== undefined)) return view;
  const started = performance.now();
  await delay(o.windowMs, undefined, o.signal ? { signal: o.signal } : {});
  const now = hostsFromClusters(obj(snakeKeys(JSON.parse(await admin.send("/clusters?format=json")))));
  const spanMs = Math.round(performance.now() - started);
  const clusters = new Map(
    [...view.clusters].map(([name, c]) => {
      const fresh = now.get(name);
      if (!c.hostsKnown || fresh === undefined) return [name, c];
      const before = new Map(c.hosts.map((h) => [h.address, h.rqActive]));
      const hosts = fresh.map((h) => ({
        ...h,
        rqActive: [...(before.get(h.address) ?? []), ...h.rqActive],
      }));
      return [name, { ...c, hosts }];
    }),
  );
  return { ...view, clusters, activeSpanMs: spanMs };
}
