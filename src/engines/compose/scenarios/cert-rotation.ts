import { readFile } from "node:fs/promises";
import { EngineError } from "../../../errors.js";
import { envoyPresentedSerials, sameSerial, sdsUpdates } from "../../../lab/scenarios/rotation-probes.js";
import {
  type RotationExpectation,
  type RotationStep,
  runRotationSteps,
  serialOf,
} from "../../../scenarios/rotation-steps.js";
import { DEFAULT_SERVER_PORT } from "../../../server/server.js";
import { DEFAULT_TLS_RELOAD_MS } from "../../../server/tls.js";
import type { WrittenSet } from "../../../tls/cert-set.js";
import { ENVOY_CLIENT, ENVOY_LISTENER } from "../../../tls/plan.js";
import { type HandshakeResult, tlsHandshake } from "../../../tls/probe.js";
import type { ComposeCluster } from "../cluster.js";
import { docker } from "../docker.js";
import { onlyEnvoyGetsIn } from "../mtls-gate.js";
import type { ComposeContainer } from "../project.js";
import { type ComposeTls, currentFile, SERVER_LEAF } from "../tls.js";
import type { ComposeScenario } from "./scenario.js";

/**
 * Slack on top of a configured timing for a rotated certificate to show: Envoy's inotify
 * watch and the servers' file poll see the swap across the bind mount, then the probe's
 * handshake (and, for Envoy's /certs, the admin relay's round trip).
 */
const ROTATION_SLACK_MS = 5000;
const PROBE_TIMEOUT_MS = 2000;

/** What was true before a step wrote anything. */
interface Before {
  clusterSds: number;
  /** tls-reloaded lines each server container printed since it started, by container id. */
  reloads: Map<string, number>;
}

const shows = (r: HandshakeResult, serial: string): { ok: boolean; seen: string } => ({
  ok: sameSerial(r.serial, serial) && r.authorized,
  seen: `serial ${r.serial}${r.authorized ? "" : ` (not trusted by the current bundle: ${r.authorizationError})`}`,
});

/** Reloads a server container reported (its tls-reloaded lines) since it started. */
async function reloadsOf(c: ComposeContainer, signal: AbortSignal): Promise<number> {
  const logs = await docker(["logs", "--since", c.startedAt, c.id], { signal });
  return logs.split("\n").filter((l) => l.startsWith('{"event":"tls-reloaded"')).length;
}

/**
 * The steps and what each must show. Envoy's listener is probed where clients reach it, on
 * the published port. The servers are probed from this machine on their addresses in the
 * project network (reachable from the engine's host, as the admin relay is), as Envoy
 * reaches them: SNI `server` and Envoy's client certificate of now (mTLS). Envoy's /certs
 * would not do for them: it lists the certificates Envoy holds, not those its peers show.
 * Envoy's client certificate shows on the wire only to a server, which does not report it,
 * so it is read from /certs: what Envoy presents on its next upstream connection.
 */
function plan(cluster: ComposeCluster, tls: ComposeTls, servers: ComposeContainer[], signal: AbortSignal) {
  const admin = cluster.target.admin;
  const envoyBudgetMs = ROTATION_SLACK_MS;
  const serverBudgetMs = DEFAULT_TLS_RELOAD_MS + ROTATION_SLACK_MS;
  const port = cluster.project.o.envoyPort;
  const listener = (w: WrittenSet): RotationExpectation => ({
    what: `Envoy's listener on 127.0.0.1:${port} to show serial ${serialOf(w, ENVOY_LISTENER)}`,
    budgetMs: envoyBudgetMs,
    look: async () =>
      shows(
        await tlsHandshake({
          host: "127.0.0.1",
          port,
          ca: await readFile(tls.caFile),
          timeoutMs: PROBE_TIMEOUT_MS,
        }),
        serialOf(w, ENVOY_LISTENER),
      ),
  });
  const server = (w: WrittenSet): RotationExpectation[] =>
    servers.map((s) => ({
      what: `${s.name} (${s.ip}) to show serial ${serialOf(w, SERVER_LEAF)}`,
      budgetMs: serverBudgetMs,
      look: async () =>
        shows(
          await tlsHandshake({
            host: s.ip,
            port: DEFAULT_SERVER_PORT,
            servername: SERVER_LEAF,
            ca: await readFile(tls.caFile),
            cert: await readFile(currentFile(tls, `${ENVOY_CLIENT}.crt`)),
            key: await readFile(currentFile(tls, `${ENVOY_CLIENT}.key`)),
            timeoutMs: PROBE_TIMEOUT_MS,
          }),
          serialOf(w, SERVER_LEAF),
        ),
    }));
  const client = (w: WrittenSet): RotationExpectation => ({
    what: `Envoy to hold client certificate serial ${serialOf(w, ENVOY_CLIENT)} (its /certs)`,
    budgetMs: envoyBudgetMs,
    look: async () => {
      const held = await envoyPresentedSerials(admin);
      return {
        ok: held.some((h) => sameSerial(h, serialOf(w, ENVOY_CLIENT))),
        seen: `serials ${held.join(", ")}`,
      };
    },
  });
  // A trust change shows no new serial: Envoy rebuilds its upstream context from the new
  // bundle, and each server reloads the client CA it checks Envoy's certificate against.
  const trust = (before: Before): RotationExpectation[] => [
    {
      what: "Envoy to rebuild its upstream TLS context from the new bundle",
      budgetMs: envoyBudgetMs,
      look: async () => {
        const now = (await sdsUpdates(admin)).cluster;
        return { ok: now > before.clusterSds, seen: `cluster ssl_context_update_by_sds ${now}` };
      },
    },
    ...servers.map(
      (s): RotationExpectation => ({
        what: `${s.name} to reload its client CA (a tls-reloaded line)`,
        budgetMs: serverBudgetMs,
        look: async () => {
          const n = await reloadsOf(s, signal);
          return { ok: n > (before.reloads.get(s.id) ?? 0), seen: `${n} reloads` };
        },
      }),
    ),
  ];
  const steps: RotationStep<Before>[] = [
    {
      key: "listenerNewSerialMs",
      title: "Envoy's listener certificate",
      kind: "leaves",
      only: [ENVOY_LISTENER],
      expect: (w) => [listener(w)],
    },
    {
      key: "serversNewSerialMs",
      title: "the servers' certificate",
      kind: "leaves",
      only: [SERVER_LEAF],
      expect: server,
    },
    {
      key: "envoyClientNewSerialMs",
      title: "Envoy's client certificate",
      kind: "leaves",
      only: [ENVOY_CLIENT],
      expect: (w) => [client(w)],
    },
    {
      key: "newCaTrustedMs",
      title: "a new CA, trusted beside the old one",
      kind: "ca",
      expect: (_w, b) => trust(b),
    },
    {
      key: "newCaLeavesMs",
      title: "every leaf from the new CA",
      kind: "leaves",
      expect: (w) => [listener(w), ...server(w), client(w)],
    },
    {
      key: "oldCaRetiredMs",
      title: "the old CA retired",
      kind: "retire-old-ca",
      expect: (_w, b) => trust(b),
    },
  ];
  return steps;
}

/**
 * Rotates every certificate of the TLS variant under load through its published listener,
 * by writing the next versions of the mounted set on this machine (as `grpc-lb certs
 * --rotate` does): Envoy's listener, the servers', Envoy's client certificate, then the CA
 * with an overlap (ca, leaves, retire-old-ca). No call may fail, and each change must show
 * on the wire (or, for Envoy's client certificate, in Envoy's /certs). Before and after,
 * every replica must refuse a client without Envoy's certificate.
 */
export const certRotation: ComposeScenario = {
  name: "cert-rotation",
  summary:
    "rotate Envoy's listener, the servers', Envoy's client certificate and the CA (with an overlap) under load; new serials on the wire, no failed call",
  load: "paced",
  async run(ctx) {
    const { env: cluster, signal } = ctx;
    const tls = cluster.tls;
    if (tls === undefined)
      throw new EngineError("compose: cert-rotation needs the TLS variant (make docker-cluster TLS=1)");
    const servers = (await cluster.project.containers("server", signal)).filter((c) => c.state === "running");
    await cluster.settled(signal);
    const gate = await onlyEnvoyGetsIn(servers, tls, "before the rotation");
    const outcome = await runRotationSteps(ctx, {
      dir: tls.certsDir,
      steps: plan(cluster, tls, servers, signal),
      before: async () => ({
        clusterSds: (await sdsUpdates(cluster.target.admin)).cluster,
        reloads: new Map(
          await Promise.all(servers.map(async (s) => [s.id, await reloadsOf(s, signal)] as const)),
        ),
      }),
      sds: () => sdsUpdates(cluster.target.admin),
    });
    // Again with the last set: Envoy's certificate from the new CA, the old CA no longer trusted.
    const after = await onlyEnvoyGetsIn(servers, tls, "after it");
    return { ...outcome, checks: [gate, ...outcome.checks, after] };
  },
};
