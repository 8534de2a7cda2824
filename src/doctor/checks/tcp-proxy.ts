import { DOCS } from "../finding.js";
import type { Scope } from "../scope.js";
import { type Check, check, type Draft } from "./check.js";

/** Cluster kinds that choose no host of their own per connection: nothing to say about them. */
const NOT_BALANCED = ["ORIGINAL_DST", "AGGREGATE", "DYNAMIC_FORWARD_PROXY"];
const HCM =
  "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

function tcpProxyFindings(scope: Scope): Draft[] {
  // Said where the cluster looks like gRPC, or where this Envoy routes no HTTP at all (an L4 proxy).
  const l4Only = scope.view.listeners.every((l) => l.managers.every((m) => m.routes.length === 0));
  return scope.view.listeners.flatMap((l) =>
    l.tcpProxies.flatMap((p): Draft[] => {
      const clusters = p.clusters.filter((name) => {
        const c = scope.view.clusters.get(name);
        return (
          (scope.named === undefined || name === scope.named) &&
          c !== undefined &&
          !NOT_BALANCED.includes(c.kind) &&
          !scope.localOnly(c) &&
          (l4Only || scope.looksGrpc(c))
        );
      });
      if (clusters.length === 0) return [];
      return [
        {
          severity: "info",
          subject: `listener ${p.place}`,
          evidence: { field: "filters[].tcp_proxy.cluster", value: clusters.join(", ") },
          why: "Envoy picks a host once per downstream connection; if gRPC runs through it, every call of a client's HTTP/2 connection goes to that one host",
          docs: `${DOCS}/intro/arch_overview/other_protocols/grpc`,
          fix: {
            target: { kind: "outside" },
            note: "for gRPC, an http_connection_manager in its place whose route sends each call to the cluster (in a mesh: declare the port's protocol gRPC)",
            patch: {
              name: "envoy.filters.network.http_connection_manager",
              typed_config: {
                "@type": HCM,
                stat_prefix: "grpc",
                route_config: {
                  virtual_hosts: [
                    {
                      name: "grpc",
                      domains: ["*"],
                      routes: [{ match: { prefix: "/" }, route: { cluster: clusters[0] } }],
                    },
                  ],
                },
                http_filters: [
                  {
                    name: "envoy.filters.http.router",
                    typed_config: {
                      "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                    },
                  },
                ],
              },
            },
          },
        },
      ];
    }),
  );
}

export const tcpProxy: Check = check(
  "tcp-proxy",
  "a TCP proxy: whole connections balanced, not the calls on them",
  tcpProxyFindings,
);
