import { arr, type Json, obj, str } from "./json.js";

/** The admin API's config dump sections, by the exact message name their type URL ends with after the last "/". */
const SECTION = {
  bootstrap: "BootstrapConfigDump",
  clusters: "ClustersConfigDump",
  listeners: "ListenersConfigDump",
  routes: "RoutesConfigDump",
  scopedRoutes: "ScopedRoutesConfigDump",
  secrets: "SecretsConfigDump",
} as const;

/** Envoy's admin packages whose dumps doctor reads: v3, and v2alpha from Envoys before 1.17. */
const ADMIN_PACKAGES = ["envoy.admin.v3", "envoy.admin.v2alpha"];

/** Where a listener or cluster stands in Envoy (static ones are always active). */
export type DumpState = "static" | "active" | "warming" | "draining";

export interface DumpListener {
  listener: Json;
  state: DumpState;
}
export interface DumpCluster {
  cluster: Json;
  state: DumpState;
}

/** The parts of a /config_dump doctor reads, each section found by its exact type URL. */
export interface DumpSections {
  bootstrap: Json;
  listeners: DumpListener[];
  clusters: DumpCluster[];
  /** Route configurations by name: static, RDS, and those of scoped routes given inline. */
  routeConfigs: Map<string, Json>;
  /** Scoped route configurations by the name of their set (SRDS or inline lists). */
  scopedRouteSets: Map<string, Json[]>;
  /** SDS secrets by name and where they stand: static, loaded (active) or not loaded yet (warming). */
  secrets: { name: string; state: "static" | "active" | "warming" }[];
  /** The sections present, by message name, for notes on what was not read. */
  present: string[];
}

/** Splits a /config_dump into what doctor reads; sections absent from it read as empty. */
export function dumpSections(dump: Json): DumpSections {
  const configs = arr(dump.configs);
  const present = configs.map((c) => str(c["@type"]) ?? "");
  const section = (name: string): Json =>
    configs.find((c) => ADMIN_PACKAGES.some((p) => c["@type"] === `type.googleapis.com/${p}.${name}`)) ?? {};

  const ls = section(SECTION.listeners);
  const listeners: DumpListener[] = arr(ls.static_listeners).map((l) => ({
    listener: obj(l.listener),
    state: "static",
  }));
  for (const d of arr(ls.dynamic_listeners)) {
    // A listener being replaced has both an active and a warming state: the active one serves now.
    const [state, s] = (
      [
        ["active", d.active_state],
        ["warming", d.warming_state],
        ["draining", d.draining_state],
      ] as const
    ).find(([, v]) => v !== undefined) ?? ["active", undefined];
    if (s !== undefined) listeners.push({ listener: obj(obj(s).listener), state });
  }
  // v2alpha dumps list dynamic listeners by state.
  for (const state of ["active", "warming", "draining"] as const)
    for (const d of arr(ls[`dynamic_${state}_listeners`]))
      listeners.push({ listener: obj(d.listener), state });

  const cs = section(SECTION.clusters);
  const clusters: DumpCluster[] = [
    ...arr(cs.static_clusters).map((c): DumpCluster => ({ cluster: obj(c.cluster), state: "static" })),
    ...arr(cs.dynamic_active_clusters).map(
      (c): DumpCluster => ({ cluster: obj(c.cluster), state: "active" }),
    ),
    ...arr(cs.dynamic_warming_clusters).map(
      (c): DumpCluster => ({ cluster: obj(c.cluster), state: "warming" }),
    ),
  ];

  const routeConfigs = new Map<string, Json>();
  const rs = section(SECTION.routes);
  for (const r of [...arr(rs.static_route_configs), ...arr(rs.dynamic_route_configs)]) {
    const rc = obj(r.route_config);
    routeConfigs.set(String(rc.name ?? ""), rc);
  }

  const scopedRouteSets = new Map<string, Json[]>();
  const ss = section(SECTION.scopedRoutes);
  for (const set of [...arr(ss.inline_scoped_route_configs), ...arr(ss.dynamic_scoped_route_configs)]) {
    const scopes = arr(set.scoped_route_configs);
    scopedRouteSets.set(String(set.name ?? ""), scopes);
    for (const s of scopes)
      if (s.route_configuration !== undefined) {
        const rc = obj(s.route_configuration);
        routeConfigs.set(String(rc.name ?? s.route_configuration_name ?? s.name ?? ""), rc);
      }
  }

  const sec = section(SECTION.secrets);
  const secrets: DumpSections["secrets"] = (
    [
      ["static", sec.static_secrets],
      ["active", sec.dynamic_active_secrets],
      ["warming", sec.dynamic_warming_secrets],
    ] as const
  ).flatMap(([state, list]) => arr(list).map((x) => ({ name: String(x.name ?? ""), state })));

  return {
    bootstrap: obj(section(SECTION.bootstrap).bootstrap),
    secrets,
    listeners,
    clusters,
    routeConfigs,
    scopedRouteSets,
    present,
  };
}
