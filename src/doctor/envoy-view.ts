import type { EnvoyAdmin } from "../envoy/admin.js";
import { DoctorError, messageOf } from "../errors.js";

/** A proto message as /config_dump prints it: JSON, fields at their default left out. */
export type Json = Record<string, unknown>;

/** How Envoy finds a cluster's hosts. */
export type ClusterKind = "STATIC" | "STRICT_DNS" | "LOGICAL_DNS" | "EDS" | "ORIGINAL_DST" | "OTHER";

/** One upstream host as /clusters shows it now. */
export interface HostNow {
  address: string;
  /** The health flags set on it (failed_active_health_check, failed_outlier_check, …); empty when healthy. */
  failed: string[];
}

export interface ClusterView {
  name: string;
  kind: ClusterKind;
  /** The cluster as Envoy runs it. */
  config: Json;
  /** STRICT_DNS and LOGICAL_DNS: the DNS settings (DnsCluster's typed config, or the cluster's own legacy fields). */
  dns?: { refreshMs: number; respectTtl: boolean; names: string[] };
  /** Hosts right now, from /clusters. */
  hosts: HostNow[];
  /** Hosts ejected by outlier detection now, from /stats (outlier_detection.ejections_active). */
  ejectionsActive: number;
}

/** One route of an HTTP connection manager, with where it sends calls. */
export interface RouteView {
  /** "listener/virtual host/#index", for findings. */
  where: string;
  /** The route matches gRPC (a `grpc: {}` match or a content-type application/grpc header). */
  grpc: boolean;
  clusters: string[];
  route: Json;
  /** The virtual host's retry policy, which applies when the route has none. */
  virtualHostRetry?: Json;
}

export interface ListenerView {
  name: string;
  address: string;
  /** The HTTP connection managers of its filter chains. */
  managers: { config: Json; routes: RouteView[] }[];
}

/** What doctor reads from a running Envoy, normalised. */
export interface EnvoyView {
  version: string;
  adminAddress: string;
  listeners: ListenerView[];
  clusters: Map<string, ClusterView>;
}

const HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

/** A duration as the JSON of a google.protobuf.Duration ("5s", "0.250s") in ms; undefined when absent. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(value);
  return m?.[1] === undefined ? undefined : Math.round(Number(m[1]) * 1000);
}

export const obj = (v: unknown): Json => (v !== null && typeof v === "object" ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function socketAddress(v: unknown): string {
  const sa = obj(obj(v).socket_address);
  if (sa.address === undefined) return str(obj(obj(v).pipe).path) ?? "";
  const host = String(sa.address);
  const port = sa.port_value ?? 0;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Reads /server_info, /config_dump, /clusters and /stats of the Envoy at `admin`. A DoctorError
 * when it does not answer or is not an Envoy's admin API.
 */
export async function readEnvoy(admin: EnvoyAdmin): Promise<EnvoyView> {
  const get = async (path: string): Promise<Json> => {
    const body = await admin.send(path).catch((e: unknown) => {
      throw new DoctorError(`no Envoy admin API answers at http://${admin.address}: ${messageOf(e)}`, {
        cause: e,
      });
    });
    try {
      return obj(JSON.parse(body));
    } catch (e) {
      throw new DoctorError(`http://${admin.address}${path} is not Envoy's admin API (not JSON)`, {
        cause: e,
      });
    }
  };
  const info = await get("/server_info");
  const version = /\/(\d+\.\d+\.\d+)\//.exec(str(info.version) ?? "")?.[1];
  if (version === undefined || typeof info.state !== "string")
    throw new DoctorError(
      `http://${admin.address} is not Envoy's admin API (/server_info has no Envoy version)`,
    );
  const [dump, clusters, stats] = await Promise.all([
    get("/config_dump"),
    get("/clusters?format=json"),
    get("/stats?format=json&filter=outlier_detection\\.ejections_active$"),
  ]);
  return buildView(version, dump, clusters, stats);
}

/** The view from the three JSON documents (exported for unit tests). */
export function buildView(version: string, dump: Json, clustersJson: Json, statsJson: Json): EnvoyView {
  const configs = arr(dump.configs);
  const section = (type: string): Json => configs.find((c) => str(c["@type"])?.endsWith(type)) ?? {};
  const bootstrap = obj(section("BootstrapConfigDump").bootstrap);

  const hostsNow = new Map<string, HostNow[]>();
  for (const c of arr(clustersJson.cluster_statuses)) {
    hostsNow.set(
      String(c.name),
      arr(c.host_statuses).map((h) => ({
        address: socketAddress(h.address),
        failed: Object.entries(obj(h.health_status))
          .filter(([k, v]) => v === true || (k === "eds_health_status" && v !== "HEALTHY"))
          .map(([k, v]) => (k === "eds_health_status" ? `eds ${String(v)}` : k)),
      })),
    );
  }
  const ejections = new Map<string, number>();
  for (const s of arr(statsJson.stats)) {
    const m = /^cluster\.(.+)\.outlier_detection\.ejections_active$/.exec(str(s.name) ?? "");
    if (m?.[1] !== undefined) ejections.set(m[1], Number(s.value ?? 0));
  }

  const clusters = new Map<string, ClusterView>();
  const clusterDump = section("ClustersConfigDump");
  for (const entry of [...arr(clusterDump.static_clusters), ...arr(clusterDump.dynamic_active_clusters)]) {
    const config = obj(entry.cluster);
    const name = String(config.name ?? "");
    clusters.set(name, {
      name,
      ...clusterKind(config),
      config,
      hosts: hostsNow.get(name) ?? [],
      ejectionsActive: ejections.get(name) ?? 0,
    });
  }

  const routeDump = section("RoutesConfigDump");
  const routeConfigs = new Map<string, Json>();
  for (const r of [...arr(routeDump.static_route_configs), ...arr(routeDump.dynamic_route_configs)]) {
    const rc = obj(r.route_config);
    routeConfigs.set(String(rc.name ?? ""), rc);
  }
  const listenerDump = section("ListenersConfigDump");
  const listeners = [
    ...arr(listenerDump.static_listeners).map((l) => obj(l.listener)),
    ...arr(listenerDump.dynamic_listeners).map((l) => obj(obj(l.active_state).listener)),
  ]
    .filter((l) => l.name !== undefined)
    .map((l): ListenerView => {
      const name = String(l.name);
      const managers = arr(l.filter_chains)
        .flatMap((fc) => arr(fc.filters))
        .map((f) => obj(f.typed_config))
        .filter((tc) => str(tc["@type"])?.endsWith(HCM))
        .map((config) => {
          const rc =
            config.route_config !== undefined
              ? obj(config.route_config)
              : (routeConfigs.get(String(obj(config.rds).route_config_name ?? "")) ?? {});
          return { config, routes: routesOf(name, rc) };
        });
      return { name, address: socketAddress(l.address), managers };
    });

  return {
    version,
    adminAddress: socketAddress(obj(bootstrap.admin).address),
    listeners,
    clusters,
  };
}

function clusterKind(c: Json): Pick<ClusterView, "kind" | "dns"> {
  const names = arr(obj(c.load_assignment).endpoints)
    .flatMap((e) => arr(e.lb_endpoints))
    .map((e) => str(obj(obj(obj(e.endpoint).address).socket_address).address) ?? "");
  const clusterType = obj(c.cluster_type);
  if (clusterType.name !== undefined) {
    const tc = obj(clusterType.typed_config);
    if (!str(tc["@type"])?.endsWith("DnsCluster")) return { kind: "OTHER" };
    return {
      kind: tc.all_addresses_in_single_endpoint === true ? "LOGICAL_DNS" : "STRICT_DNS",
      dns: {
        refreshMs: durationMs(tc.dns_refresh_rate) ?? 5000,
        respectTtl: tc.respect_dns_ttl === true,
        names,
      },
    };
  }
  const type = str(c.type) ?? "STATIC";
  if (type === "STRICT_DNS" || type === "LOGICAL_DNS")
    return {
      kind: type,
      dns: {
        refreshMs: durationMs(c.dns_refresh_rate) ?? 5000,
        respectTtl: c.respect_dns_ttl === true,
        names,
      },
    };
  if (type === "STATIC" || type === "EDS" || type === "ORIGINAL_DST") return { kind: type };
  return { kind: "OTHER" };
}

function routesOf(listener: string, rc: Json): RouteView[] {
  return arr(rc.virtual_hosts).flatMap((vh) =>
    arr(vh.routes).map((r, i): RouteView => {
      const match = obj(r.match);
      const route = obj(r.route);
      const grpcHeader = arr(match.headers).some(
        (h) =>
          str(h.name)?.toLowerCase() === "content-type" && JSON.stringify(h).includes("application/grpc"),
      );
      const weighted = arr(obj(route.weighted_clusters).clusters).map((w) => String(w.name));
      return {
        where: `${listener}/${String(vh.name ?? "")}/#${i}`,
        grpc: match.grpc !== undefined || grpcHeader,
        clusters: route.cluster !== undefined ? [String(route.cluster)] : weighted,
        route,
        ...(vh.retry_policy === undefined ? {} : { virtualHostRetry: obj(vh.retry_policy) }),
      };
    }),
  );
}
