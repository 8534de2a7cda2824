import type { DumpCluster } from "./dump-sections.js";
import { addressText, arr, durationMs, type Json, obj, str, typeOf } from "./json.js";
import { type TlsContext, upstreamTls } from "./tls.js";

/** How Envoy finds a cluster's hosts. */
export type ClusterKind =
  | "STATIC"
  | "STRICT_DNS"
  | "LOGICAL_DNS"
  | "EDS"
  | "ORIGINAL_DST"
  | "AGGREGATE"
  | "DYNAMIC_FORWARD_PROXY"
  | "OTHER";

/** The protocol Envoy speaks to the hosts (HttpProtocolOptions, or the legacy cluster fields). */
export type UpstreamProtocol = "http2" | "http1" | "http3" | "auto" | "downstream";

/** One upstream host as /clusters shows it now. */
export interface HostNow {
  address: string;
  /** The health flags set on it (failed_active_health_check, failed_outlier_check, …); empty when healthy. */
  failed: string[];
  /**
   * Requests in flight to it (the rq_active gauge), one entry per reading of /clusters, oldest
   * first: long-lived streams stay there from one reading to the next.
   */
  rqActive: number[];
}

export interface ClusterView {
  name: string;
  kind: ClusterKind;
  /** Static, or where a cluster from CDS stands. */
  state: DumpCluster["state"];
  /** The cluster as Envoy runs it. */
  config: Json;
  /** cluster_type's extension name for OTHER. */
  typeName?: string;
  /** AGGREGATE: the clusters it tries, in order. */
  children?: string[];
  /** STRICT_DNS and LOGICAL_DNS: the DNS settings (DnsCluster's typed config, or the cluster's own legacy fields). */
  dns?: { refreshMs: number; respectTtl: boolean; names: string[] };
  upstream: UpstreamProtocol;
  /** The cluster is in /clusters; false for a dump read without it, or in a throwaway Envoy. */
  hostsKnown: boolean;
  /** Hosts right now, from /clusters (empty when not known). */
  hosts: HostNow[];
  /** Hosts ejected by outlier detection now, from /stats (outlier_detection.ejections_active). */
  ejectionsActive: number;
  /** Requests routed in panic mode so far, from /stats (lb_healthy_panic); 0 when not read. */
  panicRouted: number;
  /** Server certificates refused for their names so far, from /stats (ssl.fail_verify_san); 0 when not read. */
  failVerifySan: number;
  /** Its upstream TLS contexts: the transport socket's (or legacy tls_context), then transport_socket_matches'. */
  tls: TlsContext[];
}

export const HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** The cluster's HttpProtocolOptions: the entry of typed_extension_protocol_options of that exact type. */
export function httpOptionsOf(c: Json): Json | undefined {
  return Object.values(obj(c.typed_extension_protocol_options))
    .map(obj)
    .find((o) => typeOf(o) === HTTP_OPTIONS);
}

function upstreamOf(c: Json): UpstreamProtocol {
  const typed = httpOptionsOf(c);
  if (typed !== undefined) {
    if (typed.use_downstream_protocol_config !== undefined) return "downstream";
    if (typed.auto_config !== undefined) return "auto";
    const explicit = obj(typed.explicit_http_config);
    if (explicit.http2_protocol_options !== undefined) return "http2";
    if (explicit.http3_protocol_options !== undefined) return "http3";
    return "http1";
  }
  // Fields of the Cluster itself, deprecated since 1.17 and still printed by older Envoys' dumps.
  if (c.http2_protocol_options !== undefined) return "http2";
  if (c.protocol_selection === "USE_DOWNSTREAM_PROTOCOL") return "downstream";
  return "http1";
}

const DNS_CLUSTER = "envoy.extensions.clusters.dns.v3.DnsCluster";
const AGGREGATE = "envoy.extensions.clusters.aggregate.v3.ClusterConfig";
const DFP = "envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig";

/** The addresses a cluster lists: its load_assignment's endpoints, or the `hosts` of Envoys before 1.17. */
export function endpointAddresses(c: Json): Json[] {
  return [
    ...arr(obj(c.load_assignment).endpoints)
      .flatMap((e) => arr(e.lb_endpoints))
      .map((e) => obj(obj(e.endpoint).address)),
    ...arr(c.hosts),
  ];
}

function kindOf(c: Json): Pick<ClusterView, "kind" | "dns" | "children" | "typeName"> {
  const names = endpointAddresses(c)
    .map((a) => str(obj(a.socket_address).address) ?? "")
    .filter((n) => n !== "");
  const clusterType = obj(c.cluster_type);
  if (clusterType.name !== undefined) {
    const tc = obj(clusterType.typed_config);
    switch (typeOf(tc)) {
      case DNS_CLUSTER:
        return {
          kind: tc.all_addresses_in_single_endpoint === true ? "LOGICAL_DNS" : "STRICT_DNS",
          dns: {
            refreshMs: durationMs(tc.dns_refresh_rate) ?? 5000,
            respectTtl: tc.respect_dns_ttl === true,
            names,
          },
        };
      case AGGREGATE:
        return { kind: "AGGREGATE", children: arr(tc.clusters).map(String) };
      case DFP:
        return { kind: "DYNAMIC_FORWARD_PROXY" };
      default:
        return { kind: "OTHER", typeName: String(clusterType.name) };
    }
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
  return { kind: "OTHER", typeName: type };
}

/** The per-cluster stats doctor reads, by cluster name. */
export interface ClusterStats {
  ejectionsActive: Map<string, number>;
  panicRouted: Map<string, number>;
  failVerifySan: Map<string, number>;
}

/** The stats doctor asks /stats for: a regex on their names. */
export const STATS_FILTER = "(outlier_detection\\.ejections_active|lb_healthy_panic|ssl\\.fail_verify_san)$";

/** Per-cluster stats from /stats?format=json. */
export function clusterStats(statsJson: Json): ClusterStats {
  const out: ClusterStats = { ejectionsActive: new Map(), panicRouted: new Map(), failVerifySan: new Map() };
  const into: Record<string, Map<string, number>> = {
    "outlier_detection.ejections_active": out.ejectionsActive,
    lb_healthy_panic: out.panicRouted,
    "ssl.fail_verify_san": out.failVerifySan,
  };
  for (const stat of arr(statsJson.stats)) {
    const m =
      /^cluster\.(.+)\.(outlier_detection\.ejections_active|lb_healthy_panic|ssl\.fail_verify_san)$/.exec(
        str(stat.name) ?? "",
      );
    if (m?.[1] !== undefined && m[2] !== undefined) into[m[2]]?.set(m[1], Number(stat.value ?? 0));
  }
  return out;
}

/** Hosts per cluster from /clusters?format=json. */
export function hostsFromClusters(clustersJson: Json): Map<string, HostNow[]> {
  const hosts = new Map<string, HostNow[]>();
  for (const c of arr(clustersJson.cluster_statuses))
    hosts.set(
      String(c.name),
      arr(c.host_statuses).map((h) => ({
        address: addressText(h.address),
        failed: Object.entries(obj(h.health_status))
          .filter(([k, v]) => v === true || (k === "eds_health_status" && v !== "HEALTHY"))
          .map(([k, v]) => (k === "eds_health_status" ? `eds ${String(v)}` : k)),
        rqActive: [Number(arr(h.stats).find((st) => st.name === "rq_active")?.value ?? 0)],
      })),
    );
  return hosts;
}

/** One cluster of the dump, with its hosts now when /clusters has it. */
export function clusterView(d: DumpCluster, hosts: Map<string, HostNow[]>, stats: ClusterStats): ClusterView {
  const name = String(d.cluster.name ?? "");
  const now = hosts.get(name);
  return {
    name,
    state: d.state,
    config: d.cluster,
    ...kindOf(d.cluster),
    upstream: upstreamOf(d.cluster),
    hostsKnown: now !== undefined,
    hosts: now ?? [],
    ejectionsActive: stats.ejectionsActive.get(name) ?? 0,
    panicRouted: stats.panicRouted.get(name) ?? 0,
    failVerifySan: stats.failVerifySan.get(name) ?? 0,
    tls: upstreamTls(d.cluster),
  };
}
