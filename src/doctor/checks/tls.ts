import type { ClusterView, Json, TlsContext } from "../envoy-view.js";
import { arr, obj } from "../view/json.js";
import { alpnOf, tlsPatch } from "../view/tls.js";

/** ALPN protocol ids of HTTP itself; a list with others (a mesh's own, "istio") is for a peer proxy that knows them. */
const HTTP_ALPN = ["h2", "http/1.1", "http/1.0", "h3"];

/**
 * Whether a list of ALPN protocols keeps a gRPC server from speaking h2: it is empty (no ALPN at
 * all) or lists only HTTP ids other than h2. A list with a protocol of its own is not judged.
 */
export const withoutH2 = (alpn: readonly string[]): boolean =>
  !alpn.includes("h2") && alpn.every((p) => HTTP_ALPN.includes(p));

/** How an ALPN list reads in a finding. */
export const alpnText = (alpn: readonly string[]): string =>
  alpn.length === 0 ? "absent (no ALPN offered)" : `[${alpn.join(", ")}]`;

/** The health checks that open connections of their own to the servers (HTTP or gRPC), with their index. */
export function connectionHealthChecks(c: ClusterView): { hc: Json; index: number }[] {
  return arr(c.config.health_checks)
    .map((hc, index) => ({ hc, index }))
    .filter(({ hc }) => hc.grpc_health_check !== undefined || hc.http_health_check !== undefined);
}

/**
 * The ALPN a health check's connections offer: its tls_options' list if it has one, else the TLS
 * context's, and never the HTTP pools' h2 fallback.
 */
export function healthCheckAlpn(hc: Json, t: TlsContext): string[] {
  const own = arr(obj(hc.tls_options).alpn_protocols).map(String);
  return own.length > 0 ? own : alpnOf(t);
}

/** The health checks whose connections offer no h2 over this context. */
export const healthChecksWithoutH2 = (c: ClusterView, t: TlsContext): { hc: Json; index: number }[] =>
  connectionHealthChecks(c).filter(({ hc }) => withoutH2(healthCheckAlpn(hc, t)));

/**
 * The fix for ALPN on an upstream context: h2 on the context (data and health-check connections),
 * and on each health check whose own tls_options list lacks it.
 */
export function upstreamAlpnPatch(c: ClusterView, t: TlsContext): Json {
  const patch = tlsPatch(c.config, t, { common_tls_context: { alpn_protocols: ["h2"] } });
  const own = arr(c.config.health_checks).some((hc) => {
    const list = arr(obj(hc.tls_options).alpn_protocols).map(String);
    return list.length > 0 && withoutH2(list);
  });
  if (!own) return patch;
  return {
    ...patch,
    health_checks: arr(c.config.health_checks).map((hc) =>
      obj(hc.tls_options).alpn_protocols === undefined
        ? hc
        : { ...hc, tls_options: { ...obj(hc.tls_options), alpn_protocols: ["h2"] } },
    ),
  };
}

/** Where a context's field is, in a finding's evidence. */
export const fieldOf = (t: TlsContext, field: string): string =>
  `${t.where}${t.where === "tls_context" ? "" : " TLS context"}: ${field}`;
