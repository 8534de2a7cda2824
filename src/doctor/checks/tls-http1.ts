import { DOCS } from "../finding.js";
import { HTTP_OPTIONS } from "../view/clusters.js";
import { alpnOf, tlsPatch } from "../view/tls.js";
import { about, assumingGrpc, type Check, perCluster } from "./check.js";
import { alpnText, withoutH2 } from "./tls.js";

export const tlsHttp1: Check = assumingGrpc(
  perCluster("tls-http1", "an HTTP/1 codec over TLS to gRPC servers", (c, scope) => {
    const t = c.tls[0];
    if (t === undefined || c.kind === "AGGREGATE") return undefined;
    const alpn = alpnOf(t);
    // auto_config speaks what ALPN picks: HTTP/1.1 when the list leaves h2 out.
    const autoWithoutH2 = c.upstream === "auto" && alpn.length > 0 && withoutH2(alpn);
    if (c.upstream !== "http1" && !autoWithoutH2) return undefined;
    const routes = scope.routesTo(c.name);
    // The bridge filters carry each gRPC call to the servers as an HTTP/1.1 request, by design.
    if (routes.length > 0 && routes.every((r) => r.bridge !== undefined)) return undefined;
    const http2 = {
      typed_extension_protocol_options: {
        [HTTP_OPTIONS]: {
          "@type": `type.googleapis.com/${HTTP_OPTIONS}`,
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    };
    return about(c, {
      severity: "error",
      evidence: autoWithoutH2
        ? { field: `auto_config with ${t.where} ALPN`, value: alpnText(alpn) }
        : { field: `typed_extension_protocol_options["${HTTP_OPTIONS}"] over ${t.where}`, value: "HTTP/1.1" },
      why: "the servers negotiate h2 (or nothing) in the TLS handshake, then Envoy's HTTP/1 codec speaks HTTP/1.1 on it: every call resets (protocol error, upstream_cx_protocol_error)",
      docs: `${DOCS}/api-v3/extensions/upstreams/http/v3/http_protocol_options.proto`,
      patch:
        withoutH2(alpn) && alpn.length > 0
          ? { ...http2, ...tlsPatch(c.config, t, { common_tls_context: { alpn_protocols: ["h2"] } }) }
          : http2,
    });
  }),
);
