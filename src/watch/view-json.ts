import type { Section, ViewOptions, WatchView } from "./view.js";

/**
 * One JSON object per line, per Envoy and interval (the schema is in docs/watch.md). The first
 * reading prints nothing: it has no rates, and every line a reader gets covers one interval.
 */
export function jsonView(o: ViewOptions): WatchView {
  return {
    first: () => {},
    interval: (sections) => {
      for (const s of sections) o.write(`${JSON.stringify(jsonOf(s))}\n`);
    },
    close: () => {},
  };
}

/** A section as its JSON line: the frame, or `error` when the admin API did not answer this time. */
export function jsonOf(s: Section): Record<string, unknown> {
  if (s.kind === "unread") return { ts: s.ts, admin: s.admin, cluster: s.choice.name, error: s.message };
  const f = s.frame;
  return {
    ts: f.ts,
    admin: f.admin,
    cluster: f.cluster,
    intervalMs: f.intervalMs === null ? null : Math.round(f.intervalMs),
    hosts: f.hosts.map((h) => ({
      address: h.address,
      hostname: h.hostname,
      rps: h.rps === null ? null : Math.round(h.rps * 100) / 100,
      calls: h.calls,
      active: h.active,
      share: h.share === null ? null : Math.round(h.share * 10_000) / 10_000,
      errors: h.errors,
      health: h.health,
      flags: h.flags,
      ejected: h.ejected,
      added: h.added,
    })),
    removed: f.removed,
    reset: f.reset,
    ...(f.missing ? { missing: true } : {}),
  };
}
