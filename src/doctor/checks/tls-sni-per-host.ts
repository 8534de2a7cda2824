import { DOCS } from "../finding.js";
import { arr, obj, str } from "../view/json.js";
import { tlsPatch } from "../view/tls.js";
import { about, type Check, perCluster } from "./check.js";
import { fieldOf } from "./tls.js";

/** Whether any endpoint names its own host (endpoint.hostname), which auto_host_sni then sends. */
const endpointHostnames = (cluster: Record<string, unknown>): boolean =>
  arr(obj(cluster.load_assignment).endpoints)
    .flatMap((e) => arr(e.lb_endpoints))
    .some((e) => (str(obj(e.endpoint).hostname) ?? "") !== "");

export const tlsSniPerHost: Check = perCluster(
  "tls-sni-per-host",
  "SNI that cannot match per-host certificates",
  (c) => {
    for (const t of c.tls) {
      if (t.context.auto_sni_san_validation !== true) continue;
      const sni = str(t.context.sni) ?? "";
      const dnsShared =
        t.context.auto_host_sni === true && c.dns !== undefined && !endpointHostnames(c.config);
      if (sni === "" && !dnsShared) continue;
      const names = sni !== "" ? [sni] : (c.dns?.names ?? []);
      const refused = c.failVerifySan > 0;
      const evidence = {
        field: fieldOf(t, sni !== "" ? "sni" : `auto_host_sni under ${c.kind}`),
        value: `${names.join(", ")} for every host${refused ? `; ssl.fail_verify_san ${c.failVerifySan}` : ""}`,
      };
      const why = `every host is asked for and checked against ${names.join(", ")}: a server whose certificate names only itself fails the handshake (ssl.fail_verify_san); each certificate needs that name as a DNS SAN${sni === "" ? ", as STRICT_DNS gives every host the name it resolved" : ""}`;
      const docs = `${DOCS}/api-v3/extensions/transport_sockets/tls/v3/tls.proto#envoy-v3-api-field-extensions-transport-sockets-tls-v3-upstreamtlscontext-auto-host-sni`;
      const severity = refused ? ("error" as const) : ("info" as const);
      if (sni !== "" && c.dns === undefined)
        // Hosts named one by one (EDS, STATIC with endpoint.hostname): each can be asked for its own name.
        return about(c, {
          severity,
          evidence,
          why,
          docs,
          patch: tlsPatch(c.config, t, { sni: "", auto_host_sni: true }),
        });
      return {
        ...about(c, { severity, evidence, why, docs }),
        fix: {
          target: { kind: "outside" },
          note: "each server's certificate, with the shared name beside its own (grpc-lb certs --shared-name NAME)",
          patch: { subject_alt_names: names.map((n) => `DNS:${n}`) },
        },
      };
    }
    return undefined;
  },
);
