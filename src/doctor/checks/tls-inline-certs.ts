import { basename, dirname, extname, join } from "node:path";
import type { Json, TlsContext } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { obj, str } from "../view/json.js";
import { inlineCertificates, tlsPatch } from "../view/tls.js";
import { about, type Check, chainFinding, check, type Draft, managersInScope } from "./check.js";
import { fieldOf } from "./tls.js";

const REDACTED = "[redacted]";
const SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

/**
 * The move to SDS from a file: the context's certificates by name, each from a secret file
 * beside its certificate, watched in that directory (the one a symlink swap or a Kubernetes
 * Secret volume changes). Undefined when a certificate has no file (inline bytes).
 */
function sdsMove(
  root: Json,
  t: TlsContext,
): { patch: Json; files: { path: string; content: Json }[] } | undefined {
  const certs = inlineCertificates(t);
  const files: { path: string; content: Json }[] = [];
  const configs: Json[] = [];
  for (const cert of certs) {
    const chain = str(obj(cert.certificate_chain).filename);
    const shown = str(obj(cert.private_key).filename);
    if (chain === undefined || shown === undefined) return undefined;
    // A running Envoy's dump hides the key's file name (--config puts it back from the file).
    const key =
      shown === REDACTED ? `the key file of ${basename(chain)} (the config dump hides its name)` : shown;
    const dir = dirname(chain);
    const name = basename(chain, extname(chain));
    const path = join(dir, `${name}.sds.yaml`);
    files.push({
      path,
      content: {
        resources: [
          {
            "@type": SECRET,
            name,
            tls_certificate: { certificate_chain: { filename: chain }, private_key: { filename: key } },
          },
        ],
      },
    });
    configs.push({
      name,
      sds_config: {
        path_config_source: { path, watched_directory: { path: dir } },
        resource_api_version: "V3",
      },
    });
  }
  return {
    patch: tlsPatch(root, t, {
      common_tls_context: { tls_certificates: [], tls_certificate_sds_secret_configs: configs },
    }),
    files,
  };
}

const WHY =
  "certificates listed in the TLS context are read once: a renewed file is used only after a restart or a listener or cluster update, which drains connections; SDS from a watched file reloads them in place (needs node.id and node.cluster)";
const DOCS_SDS = `${DOCS}/configuration/security/secret#key-rotation`;

const evidence = (t: TlsContext): Draft["evidence"] => ({
  field: fieldOf(t, "common_tls_context.tls_certificates"),
  value: inlineCertificates(t)
    .map((c) => str(obj(c.certificate_chain).filename) ?? "inline bytes")
    .join(", "),
});

export const tlsInlineCerts: Check = check(
  "tls-inline-certs",
  "certificates inline rather than by SDS: they never rotate",
  (scope) => [
    ...managersInScope(scope).flatMap((m) => {
      if (m.tls === undefined || inlineCertificates(m.tls).length === 0) return [];
      const move = sdsMove(m.chain, m.tls);
      const f = { severity: "info" as const, evidence: evidence(m.tls), why: WHY, docs: DOCS_SDS };
      if (move === undefined) return [{ ...f, subject: `listener ${m.place} filter chain` }];
      return [chainFinding(m.place, f, move.patch, move.files)];
    }),
    ...scope.clusters.flatMap((c) =>
      c.tls.flatMap((t) => {
        if (inlineCertificates(t).length === 0) return [];
        const move = sdsMove(c.config, t);
        const draft = about(c, {
          severity: "info",
          evidence: evidence(t),
          why: WHY,
          docs: DOCS_SDS,
          ...(move === undefined ? {} : { patch: move.patch }),
        });
        return [
          move === undefined || draft.fix === undefined
            ? draft
            : { ...draft, fix: { ...draft.fix, files: move.files } },
        ];
      }),
    ),
  ],
);
