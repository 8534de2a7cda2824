import type { ClusterView, TlsContext } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { httpOptionsOf } from "../view/clusters.js";
import { obj, str } from "../view/json.js";
import { commonOf, sanMatchers, tlsPatch, validationOf } from "../view/tls.js";
import { about, type Check, perCluster } from "./check.js";
import { fieldOf } from "./tls.js";

/** Whether the router sets SNI and checks the SAN from each request's authority (upstream_http_protocol_options). */
function routerChecksName(c: ClusterView): boolean {
  const u = obj(obj(httpOptionsOf(c.config)).upstream_http_protocol_options);
  const legacy = obj(c.config.upstream_http_protocol_options);
  return (
    (u.auto_sni === true && u.auto_san_validation === true) ||
    (legacy.auto_sni === true && legacy.auto_san_validation === true)
  );
}

/** What checks the server's name on this context, or why nothing does. */
function nameCheck(
  c: ClusterView,
  t: TlsContext,
): "checked" | "no SAN matcher" | "auto_sni_san_validation with no SNI" {
  const v = validationOf(t);
  if (v !== undefined && sanMatchers(v).length > 0) return "checked";
  if (routerChecksName(c)) return "checked";
  // The dynamic forward proxy sends each request's host as SNI and checks it, unless told not to.
  if (
    c.kind === "DYNAMIC_FORWARD_PROXY" &&
    obj(obj(c.config.cluster_type).typed_config).allow_insecure_cluster_options !== true
  )
    return "checked";
  if (t.context.auto_sni_san_validation !== true) return "no SAN matcher";
  const sni = (str(t.context.sni) ?? "") !== "" || t.context.auto_host_sni === true;
  return sni ? "checked" : "auto_sni_san_validation with no SNI";
}

export const tlsNoNameCheck: Check = perCluster(
  "tls-no-name-check",
  "a trusted CA with no check of the server's name",
  (c) => {
    for (const t of c.tls) {
      const v = validationOf(t);
      const common = commonOf(t);
      // A CA from SDS comes with matchers of its own that the dump does not show.
      if (v?.trusted_ca === undefined || common.validation_context_sds_secret_config !== undefined) continue;
      if (obj(common.combined_validation_context).validation_context_sds_secret_config !== undefined)
        continue;
      const found = nameCheck(c, t);
      if (found === "checked") continue;
      const sni = (str(t.context.sni) ?? "") !== "";
      return about(c, {
        severity: "warning",
        evidence:
          found === "no SAN matcher"
            ? {
                field: fieldOf(t, "validation_context.match_typed_subject_alt_names"),
                value: "absent (trusted_ca only)",
              }
            : {
                field: fieldOf(t, "auto_sni_san_validation"),
                value: "true, with no sni and no auto_host_sni: nothing to compare",
              },
        why: "any certificate the CA signed is accepted from every host, whatever name it carries: one leaked server key (or any other service of that CA) can stand in for all of them",
        docs: `${DOCS}/api-v3/extensions/transport_sockets/tls/v3/tls.proto#envoy-v3-api-field-extensions-transport-sockets-tls-v3-upstreamtlscontext-auto-sni-san-validation`,
        patch: tlsPatch(c.config, t, {
          auto_sni_san_validation: true,
          ...(sni ? {} : { auto_host_sni: true }),
        }),
      });
    }
    return undefined;
  },
);
