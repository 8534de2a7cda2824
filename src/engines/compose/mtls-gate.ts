import { status } from "@grpc/grpc-js";
import { healthCaller } from "../../doctor/live.js";
import { tlsTrusting } from "../../grpc/client-tls.js";
import { check, type ScenarioCheck } from "../../scenarios/report.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { ENVOY_CLIENT } from "../../tls/plan.js";
import { formatHostPort } from "../../util/address.js";
import type { ComposeContainer } from "./project.js";
import { type ComposeTls, currentFile, SERVER_LEAF } from "./tls.js";

/** Deadline of each probing call, in ms: a refused handshake ends at once, an answer takes a few ms. */
const CALL_DEADLINE_MS = 3000;

/** One health check of `server` over TLS as Envoy reaches it (SNI `server`), with or without Envoy's certificate. */
async function healthOf(server: ComposeContainer, tls: ComposeTls, withEnvoyCert: boolean) {
  const client = withEnvoyCert
    ? {
        client: {
          certFile: currentFile(tls, `${ENVOY_CLIENT}.crt`),
          keyFile: currentFile(tls, `${ENVOY_CLIENT}.key`),
        },
      }
    : {};
  const caller = healthCaller(
    formatHostPort(server.ip, DEFAULT_SERVER_PORT),
    tlsTrusting(tls.caFile, { serverName: SERVER_LEAF, ...client }),
  );
  try {
    return await caller.call(CALL_DEADLINE_MS);
  } finally {
    caller.close();
  }
}

/**
 * Only Envoy gets in: each replica refuses a client that trusts the set's CA but shows no
 * certificate, and answers one that shows Envoy's (so the refusal is the certificate's,
 * not an unreachable address). Called from this machine on the replicas' addresses.
 */
export async function onlyEnvoyGetsIn(
  servers: ComposeContainer[],
  tls: ComposeTls,
  when: string,
): Promise<ScenarioCheck> {
  const seen = await Promise.all(
    servers.map(async (s) => {
      const without = await healthOf(s, tls, false);
      const withCert = await healthOf(s, tls, true);
      const ok = without.code !== status.OK && withCert.code === status.OK;
      return {
        ok,
        detail: `${s.name}: without ${status[without.code]}, with Envoy's ${status[withCert.code]}`,
      };
    }),
  );
  return check(
    `only Envoy gets in ${when}: every replica refuses a client without Envoy's certificate`,
    seen.length > 0 && seen.every((s) => s.ok),
    seen.map((s) => s.detail).join("; ") || "no replica running",
  );
}
