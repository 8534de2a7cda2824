import type { ClusterView, TlsContext } from "../envoy-view.js";
import { DOCS, type Severity } from "../finding.js";
import { alpnOf } from "../view/tls.js";
import { about, assumingGrpc, type Check, type Draft, perCluster } from "./check.js";
import {
  alpnText,
  fieldOf,
  healthCheckAlpn,
  healthChecksWithoutH2,
  upstreamAlpnPatch,
  withoutH2,
} from "./tls.js";

const ALPN_DOCS = `${DOCS}/api-v3/extensions/transport_sockets/tls/v3/common.proto#envoy-v3-api-field-extensions-transport-sockets-tls-v3-commontlscontext-alpn-protocols`;

/** What is wrong with the context's ALPN, worst first; undefined when nothing is. */
function problem(
  c: ClusterView,
  t: TlsContext,
): { severity: Severity; evidence: Draft["evidence"]; why: string; docs: string } | undefined {
  const alpn = alpnOf(t);
  const onContext = { field: fieldOf(t, "common_tls_context.alpn_protocols"), value: alpnText(alpn) };
  if (alpn.length > 0 && withoutH2(alpn))
    return {
      severity: "error",
      evidence: onContext,
      why: "a configured ALPN list replaces the h2 Envoy would offer: gRPC servers refuse the handshake and every call fails (remote connection failure, ssl.connection_error)",
      docs: ALPN_DOCS,
    };
  const hc = healthChecksWithoutH2(c, t)[0];
  if (hc !== undefined)
    return {
      severity: "error",
      evidence: {
        field: `health_checks[${hc.index}].tls_options.alpn_protocols, else ${onContext.field}`,
        value: alpnText(healthCheckAlpn(hc.hc, t)),
      },
      why: "health-check connections get no ALPN h2 (only data connections get Envoy's fallback): servers that require it drop them, every host turns unhealthy, and Envoy routes in panic mode with health checking off",
      docs: `${DOCS}/api-v3/config/core/v3/health_check.proto#envoy-v3-api-field-config-core-v3-healthcheck-tlsoptions-alpn-protocols`,
    };
  if (alpn.length === 0)
    return {
      severity: "info",
      evidence: onContext,
      why: "works only because Envoy's HTTP/2 pool adds h2 when the list is empty; say it, so that a later health check or protocol change does not go without",
      docs: ALPN_DOCS,
    };
  return undefined;
}

export const tlsUpstreamAlpn: Check = assumingGrpc(
  perCluster(
    "tls-upstream-alpn",
    "upstream TLS without ALPN h2, on the transport socket or the health checks",
    (c) => {
      // An HTTP/1 cluster is tls-http1's: h2 alone would not help it.
      if (c.upstream === "http1") return undefined;
      for (const t of c.tls) {
        const p = problem(c, t);
        if (p !== undefined) return about(c, { ...p, patch: upstreamAlpnPatch(c, t) });
      }
      return undefined;
    },
  ),
);
