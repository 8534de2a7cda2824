import { LabError } from "../../errors.js";
import type { CertExpectation } from "../../scenarios/cert-expectation.js";
import type { WrittenSet } from "../../tls/cert-set.js";
import { ENVOY_CLIENT, ENVOY_LISTENER } from "../../tls/plan.js";
import type { RotationKind } from "../../tls/rotate.js";
import type { LabCluster } from "../cluster.js";
import type { LabTls } from "../lab-tls.js";
import { addressOf, rotationBudgetsMs } from "./budgets.js";
import {
  envoyPresentedSerials,
  listenerCertificate,
  type SdsUpdates,
  sameSerial,
  sdsUpdates,
  serverCertificate,
  type WireCertificate,
} from "./rotation-probes.js";

/** The name of server `index`'s leaf; the servers must speak TLS (not the listener-only mode). */
export function serverLeaf(tls: LabTls, index: number): string {
  const files = tls.server(index);
  if (files === undefined)
    throw new LabError("cert-rotation needs TLS on both legs: the servers speak plaintext");
  return files.name;
}

/** One change a step waits to see, within its own budget. */
export interface Expectation extends CertExpectation {
  budgetMs: number;
}

/** What was true before a step wrote anything. */
export interface Before {
  sds: SdsUpdates;
  /** Reloads each server had applied, by id. */
  reloads: Map<string, number>;
}

export interface Step {
  /** Measurement name, e.g. "listenerNewSerialMs". */
  key: string;
  title: string;
  kind: RotationKind;
  /** With `leaves`: only these leaves. Default every one. */
  only?: string[];
  expect(written: WrittenSet, before: Before): Expectation[];
}

const serialOf = (written: WrittenSet, leaf: string): string => {
  const serial = written.manifest.leaves.find((l) => l.name === leaf)?.serial;
  if (serial === undefined) throw new LabError(`cert-rotation: the set has no leaf '${leaf}'`);
  return serial;
};

const shows = (c: WireCertificate, serial: string): { ok: boolean; seen: string } => ({
  ok: sameSerial(c.serial, serial) && c.trusted,
  seen: `serial ${c.serial}${c.trusted ? "" : " (not trusted by the current bundle)"}`,
});

/** cert-rotation's steps, in order: each is loaded everywhere before the next is written. */
export function rotationPlan(lab: LabCluster, tls: LabTls): Step[] {
  const budgets = rotationBudgetsMs(lab.options);
  const mtls = tls.kind === "mtls";
  const servers = [...lab.servers()];
  const listener = (w: WrittenSet): Expectation => ({
    what: `Envoy's listener to show serial ${serialOf(w, ENVOY_LISTENER)}`,
    budgetMs: budgets.envoy,
    look: async () => shows(await listenerCertificate(lab, tls), serialOf(w, ENVOY_LISTENER)),
  });
  const server = (w: WrittenSet) =>
    servers.map((s): Expectation => {
      const serial = serialOf(w, serverLeaf(tls, s.index));
      return {
        what: `server ${s.index + 1} (${addressOf(s)}) to show serial ${serial}`,
        budgetMs: budgets.servers,
        look: async () => {
          const r = shows(await serverCertificate(s, tls), serial);
          const said = s.tlsReloads().lastFailure;
          return said === undefined ? r : { ...r, seen: `${r.seen}; it said: ${said}` };
        },
      };
    });
  const client = (w: WrittenSet): Expectation => ({
    what: `Envoy to hold client certificate serial ${serialOf(w, ENVOY_CLIENT)} (its /certs)`,
    budgetMs: budgets.envoy,
    look: async () => {
      const held = await envoyPresentedSerials(lab.envoy.admin);
      const serial = serialOf(w, ENVOY_CLIENT);
      return { ok: held.some((h) => sameSerial(h, serial)), seen: `serials ${held.join(", ")}` };
    },
  });
  // A trust change shows no new serial: Envoy rebuilds its cluster context, and a server under
  // mTLS reloads the client CA it checks Envoy's certificate against.
  const trust = (before: Before): Expectation[] => [
    {
      what: "Envoy to rebuild its upstream TLS context from the new bundle",
      budgetMs: budgets.envoy,
      look: async () => {
        const now = (await sdsUpdates(lab.envoy.admin)).cluster;
        return { ok: now > before.sds.cluster, seen: `cluster ssl_context_update_by_sds ${now}` };
      },
    },
    ...(mtls
      ? servers.map(
          (s): Expectation => ({
            what: `server ${s.index + 1} (${addressOf(s)}) to reload its client CA`,
            budgetMs: budgets.servers,
            look: async () => {
              const r = s.tlsReloads();
              return {
                ok: r.applied > (before.reloads.get(s.id) ?? 0),
                seen: `${r.applied} reloads${r.lastFailure === undefined ? "" : `; it said: ${r.lastFailure}`}`,
              };
            },
          }),
        )
      : []),
  ];
  return [
    {
      key: "listenerNewSerialMs",
      title: "Envoy's listener certificate",
      kind: "leaves",
      only: [ENVOY_LISTENER],
      expect: (w) => [listener(w)],
    },
    {
      key: "serversNewSerialMs",
      title: "the servers' certificates",
      kind: "leaves",
      only: servers.map((s) => serverLeaf(tls, s.index)),
      expect: server,
    },
    ...(mtls
      ? [
          {
            key: "envoyClientNewSerialMs",
            title: "Envoy's client certificate",
            kind: "leaves",
            only: [ENVOY_CLIENT],
            expect: (w: WrittenSet) => [client(w)],
          } satisfies Step,
        ]
      : []),
    {
      key: "newCaTrustedMs",
      title: "a new CA, trusted beside the old one",
      kind: "ca",
      expect: (_w, before) => trust(before),
    },
    {
      key: "newCaLeavesMs",
      title: "every leaf from the new CA",
      kind: "leaves",
      expect: (w) => [listener(w), ...server(w), ...(mtls ? [client(w)] : [])],
    },
    {
      key: "oldCaRetiredMs",
      title: "the old CA retired",
      kind: "retire-old-ca",
      expect: (_w, before) => trust(before),
    },
  ];
}
