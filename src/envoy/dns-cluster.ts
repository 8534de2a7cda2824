import { duration, socket } from "./fields.js";
import type { DnsResolvers } from "./options.js";
import type { CaresDnsResolverConfig, DnsCluster, TypedExtension } from "./types.js";

/**
 * envoy.clusters.dns with STRICT_DNS semantics: every A record of the name is its own host,
 * asked every `refreshMs` (not by the record's TTL, so how fast hosts come and go is this
 * setting, the same everywhere), IPv4 only, from `resolvers` alone when they are given.
 */
export function dnsClusterType(refreshMs: number, resolvers: DnsResolvers): TypedExtension<DnsCluster> {
  const resolver: CaresDnsResolverConfig = {
    "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
    use_resolvers_as_fallback: false,
    // Past this an answer is truncated and c-ares asks again over TCP: 100 hosts still arrive whole.
    edns0_max_payload_size: 1232,
    // The name is asked exactly as given: no search domains appended behind the user's back.
    dns_resolver_options: {
      use_tcp_for_dns_lookups: false,
      no_default_search_domain: resolvers.kind === "servers",
    },
  };
  if (resolvers.kind === "servers")
    resolver.resolvers = resolvers.servers.map((s) => socket(s.address, s.port));
  return {
    name: "envoy.clusters.dns",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster",
      dns_refresh_rate: duration(refreshMs),
      // While DNS fails Envoy keeps the hosts it has and asks again with backoff.
      dns_failure_refresh_rate: {
        base_interval: duration(Math.min(refreshMs, 1000)),
        max_interval: duration(Math.max(refreshMs, 10_000)),
      },
      respect_dns_ttl: false,
      dns_lookup_family: "V4_ONLY",
      // false: every A record is its own upstream host (STRICT_DNS semantics).
      all_addresses_in_single_endpoint: false,
      typed_dns_resolver_config: { name: "envoy.network.dns_resolver.cares", typed_config: resolver },
    },
  };
}
