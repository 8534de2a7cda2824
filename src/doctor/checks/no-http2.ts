import { DOCS } from "../finding.js";
import { HTTP_OPTIONS, httpOptionsOf } from "../view/clusters.js";
import { about, assumingGrpc, type Check, perCluster } from "./check.js";

export const noHttp2: Check = assumingGrpc(
  perCluster("no-http2", "no HTTP/2 to the upstream", (c, scope) => {
    // Over TLS, tls-http1 says it with what the handshake negotiated.
    if (c.upstream !== "http1" || c.kind === "AGGREGATE" || c.tls.length > 0) return undefined;
    const routes = scope.routesTo(c.name);
    // The bridge filters carry each gRPC call to the servers as an HTTP/1.1 request, by design.
    if (routes.length > 0 && routes.every((r) => r.bridge !== undefined)) return undefined;
    const typed = httpOptionsOf(c.config);
    return about(c, {
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
);
