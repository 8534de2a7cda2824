/** The names a dump gives its clusters, route configurations and listeners. */
function namesOf(dump: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (v: unknown, key: string): void => {
    if (Array.isArray(v)) for (const x of v) visit(x, key);
    else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      for (const inner of ["cluster", "route_config", "listener"])
        if (
          key.endsWith("_clusters") ||
          key.endsWith("route_configs") ||
          key.endsWith("_listeners") ||
          key.endsWith("_state")
        ) {
          const n = (o[inner] as { name?: unknown } | undefined)?.name;
          if (typeof n === "string") names.add(n);
        }
      for (const [k, x] of Object.entries(o)) visit(x, k);
    }
  };
  visit(dump, "");
  return names;
}

/** A copy in which every string equal to one of `names` gets `suffix`: the copy's references stay whole. */
function renamed(v: unknown, names: Set<string>, suffix: string): unknown {
  if (typeof v === "string") return names.has(v) ? `${v}${suffix}` : v;
  if (Array.isArray(v)) return v.map((x) => renamed(x, names, suffix));
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renamed(x, names, suffix)]));
}

/**
 * A larger dump made of a real one: its dynamic clusters, route configurations and listeners
 * repeated until the JSON is at least `targetBytes`, each copy's names (and the references to
 * them) suffixed "~k". For timing doctor on the size of a large mesh's sidecar.
 */
export function scaleDump(dump: unknown, targetBytes: number): { dump: unknown; copies: number } {
  const size = JSON.stringify(dump, null, 2).length;
  const copies = Math.max(1, Math.ceil(targetBytes / size));
  const names = namesOf(dump);
  const configs = (dump as { configs: Record<string, unknown>[] }).configs.map((section) => {
    const out: Record<string, unknown> = { ...section };
    for (const key of ["dynamic_active_clusters", "dynamic_route_configs", "dynamic_listeners"]) {
      const list = section[key];
      if (!Array.isArray(list)) continue;
      out[key] = [
        ...list,
        ...Array.from({ length: copies - 1 }, (_, k) =>
          list.map((e) => renamed(e, names, `~${k + 1}`)),
        ).flat(),
      ];
    }
    return out;
  });
  return { dump: { ...(dump as object), configs }, copies };
}
