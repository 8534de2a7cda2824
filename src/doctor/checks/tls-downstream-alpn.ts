import { DOCS } from "../finding.js";
import { alpnOf, tlsPatch } from "../view/tls.js";
import { assumingGrpc, type Check, chainFinding, check, managersInScope } from "./check.js";
import { alpnText, fieldOf, withoutH2 } from "./tls.js";

export const tlsDownstreamAlpn: Check = assumingGrpc(
  check("tls-downstream-alpn", "downstream TLS without h2 in ALPN", (scope) =>
    managersInScope(scope).flatMap((m) => {
      if (m.tls === undefined) return [];
      const alpn = alpnOf(m.tls);
      if (!withoutH2(alpn)) return [];
      return [
        chainFinding(
          m.place,
          {
            severity: "error",
            evidence: { field: fieldOf(m.tls, "common_tls_context.alpn_protocols"), value: alpnText(alpn) },
            why: "gRPC clients that insist on ALPN h2 cannot connect: grpcio and other C-core clients (missing selected ALPN property), grpc-go since 1.67, Java; grpc-js does not check, so tests with it pass",
            docs: `${DOCS}/api-v3/extensions/transport_sockets/tls/v3/common.proto#envoy-v3-api-field-extensions-transport-sockets-tls-v3-commontlscontext-alpn-protocols`,
          },
          tlsPatch(m.chain, m.tls, { common_tls_context: { alpn_protocols: ["h2", "http/1.1"] } }),
        ),
      ];
    }),
  ),
);
