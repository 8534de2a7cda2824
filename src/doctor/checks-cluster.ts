import { type ClusterView, type Json, obj } from "./envoy-view.js";
import { DOCS, type Finding } from "./finding.js";
import type { Scope } from "./scope.js";
import { HTTP_OPTIONS, httpOptionsOf } from "./view/clusters.js";

/** One check: an id that names it in findings, a title for --help and the docs, what it does. */
export interface Check {
  id: string;
  title: string;
  run(scope: Scope): Finding[];
}

/**
 * Whether a cluster's host count means something: /clusters has it, and its kind chooses among
 * hosts it knows (an aggregate, the dynamic forward proxy and ORIGINAL_DST take hosts per request).
 */
export const hostsJudged = (c: ClusterView): boolean =>
  c.hostsKnown && c.kind !== "AGGREGATE" && c.kind !== "DYNAMIC_FORWARD_PROXY" && c.kind !== "ORIGINAL_DST";

/** A finding about one cluster, its fix merged into that cluster. */
export function about(c: ClusterView, f: Omit<Finding, "subject" | "fix"> & { patch?: Json }): Finding {
  const { patch, ...rest } = f;
  return {
    ...rest,
    subject: `cluster ${c.name}`,
    ...(patch === undefined ? {} : { fix: { target: { kind: "cluster", name: c.name }, patch } }),
  };
}

export const perCluster = (
  id: string,
  title: string,
  run: (c: ClusterView, scope: Scope) => Finding | undefined,
): Check => ({
  id,
  title,
  run: (scope) => scope.clusters.flatMap((c) => run(c, scope) ?? []),
});

/** The DNS settings' patch, where this cluster keeps them (DnsCluster's typed config, or the legacy fields). */
const dnsPatch = (c: ClusterView, fields: Json): Json =>
  obj(c.config.cluster_type).name === undefined ? fields : { cluster_type: { typed_config: fields } };

export const clusterChecks: Check[] = [
  perCluster("logical-dns", "LOGICAL_DNS uses one address of the name at a time", (c) =>
    c.kind !== "LOGICAL_DNS"
      ? undefined
      : about(c, {
          check: "logical-dns",
          severity: "error",
          evidence: {
            field:
              obj(c.config.cluster_type).name === undefined
                ? "type"
                : "DnsCluster.all_addresses_in_single_endpoint",
            value: obj(c.config.cluster_type).name === undefined ? "LOGICAL_DNS" : "true",
          },
          why: "Envoy connects to one address of the name at a time, so every call lands on one server; STRICT_DNS makes each A record a host",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#logical-dns`,
          patch: dnsPatch(
            c,
            obj(c.config.cluster_type).name === undefined
              ? { type: "STRICT_DNS" }
              : { all_addresses_in_single_endpoint: false },
          ),
        }),
  ),
  perCluster("original-dst", "ORIGINAL_DST follows each connection's destination", (c) =>
    c.kind !== "ORIGINAL_DST"
      ? undefined
      : about(c, {
          check: "original-dst",
          severity: "warning",
          evidence: { field: "type", value: "ORIGINAL_DST" },
          why: "each call goes where its downstream connection was going, so Envoy does not choose a server per request",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#original-destination`,
        }),
  ),
  perCluster("no-hosts", "a cluster with no host", (c) =>
    !hostsJudged(c) || c.hosts.length > 0
      ? undefined
      : about(c, {
          check: "no-hosts",
          severity: "error",
          evidence: { field: "/clusters hosts", value: "0" },
          why: "every call through it fails with UNAVAILABLE (no healthy upstream)",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery`,
        }),
  ),
  perCluster("one-host", "one host only: the signature of a ClusterIP or L4 balancer behind Envoy", (c) =>
    !hostsJudged(c) || c.hosts.length !== 1 || c.kind === "LOGICAL_DNS"
      ? undefined
      : {
          check: "one-host",
          severity: "warning",
          subject: `cluster ${c.name}`,
          evidence: {
            field: "/clusters hosts",
            value: `1 (${c.hosts[0]?.address ?? ""}${c.dns ? ` for ${c.dns.names.join(", ")}` : ""})`,
          },
          why: "per-request balancing has one server to choose; if that address is a Kubernetes ClusterIP or another connection balancer, it pins each of Envoy's connections to one pod",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#strict-dns`,
          fix: {
            target: { kind: "outside" },
            note: "a headless Service, so that DNS answers every pod's address (and STRICT_DNS on its name)",
            patch: { apiVersion: "v1", kind: "Service", spec: { clusterIP: "None" } },
          },
        },
  ),
  perCluster("no-http2", "no HTTP/2 to the upstream", (c, scope) => {
    if (c.upstream !== "http1" || c.kind === "AGGREGATE") return undefined;
    const routes = scope.routesTo(c.name);
    // grpc_http1_reverse_bridge sends each gRPC call to the servers as an HTTP/1.1 request, by design.
    if (routes.length > 0 && routes.every((r) => r.reverseBridged)) return undefined;
    const typed = httpOptionsOf(c.config);
    return about(c, {
      check: "no-http2",
      severity: "error",
      evidence: {
        field: `typed_extension_protocol_options["${HTTP_OPTIONS}"]`,
        value: typed === undefined ? "absent (HTTP/1.1)" : "explicit HTTP/1.1",
      },
      why: "Envoy speaks HTTP/1.1 to the servers, and gRPC calls fail (protocol error, or UNAVAILABLE/INTERNAL)",
      docs: `${DOCS}/api-v3/extensions/upstreams/http/v3/http_protocol_options.proto`,
      patch: {
        typed_extension_protocol_options: {
          [HTTP_OPTIONS]: {
            "@type": `type.googleapis.com/${HTTP_OPTIONS}`,
            explicit_http_config: { http2_protocol_options: {} },
          },
        },
      },
    });
  }),
  perCluster(
    "hash-without-key",
    "a hash policy (ring_hash, maglev) with no hash key on the route",
    (c, scope) => {
      const policy = String(c.config.lb_policy ?? "ROUND_ROBIN");
      if (policy !== "RING_HASH" && policy !== "MAGLEV") return undefined;
      const keyless = scope.routesTo(c.name).find((r) => !Array.isArray(r.route.hash_policy));
      if (keyless === undefined) return undefined;
      return {
        check: "hash-without-key",
        severity: "warning",
        subject: `route ${keyless.where}`,
        evidence: { field: "route.hash_policy", value: `absent (cluster ${c.name} lb_policy ${policy})` },
        why: "with nothing to hash, Envoy picks a random host for each call: no affinity, and less even than round robin",
        docs: `${DOCS}/api-v3/config/route/v3/route_components.proto#envoy-v3-api-msg-config-route-v3-routeaction-hashpolicy`,
        fix: {
          target: { kind: "route", where: keyless.where },
          patch: { hash_policy: [{ header: { header_name: "x-hash-key" } }] },
        },
      };
    },
  ),
  perCluster("dns-refresh-slow", "DNS refreshed less often than every 5 s", (c) =>
    c.dns === undefined || c.dns.respectTtl || c.dns.refreshMs <= 5000
      ? undefined
      : about(c, {
          check: "dns-refresh-slow",
          severity: "warning",
          evidence: { field: "dns_refresh_rate", value: `${c.dns.refreshMs / 1000}s` },
          why: "a new server gets calls only after the next refresh, and a removed one keeps getting them until then",
          docs: `${DOCS}/api-v3/extensions/clusters/dns/v3/dns_cluster.proto`,
          patch: dnsPatch(c, { dns_refresh_rate: "5s" }),
        }),
  ),
  perCluster("dns-respect-ttl", "the DNS refresh follows the records' TTL", (c) =>
    c.dns === undefined || !c.dns.respectTtl
      ? undefined
      : about(c, {
          check: "dns-respect-ttl",
          severity: "warning",
          evidence: { field: "respect_dns_ttl", value: "true" },
          why: "Envoy re-resolves only when the TTL runs out, so the records' TTL, not dns_refresh_rate, decides how late new and removed servers are seen",
          docs: `${DOCS}/api-v3/extensions/clusters/dns/v3/dns_cluster.proto`,
          patch: dnsPatch(c, { respect_dns_ttl: false, dns_refresh_rate: "5s" }),
        }),
  ),
];
