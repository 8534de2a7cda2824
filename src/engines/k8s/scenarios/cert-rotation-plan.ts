import { EngineError } from "../../../errors.js";
import { type CertExpectation, sameSerial, showsSerial } from "../../../scenarios/cert-expectation.js";
import type { ScenarioContext } from "../../../scenarios/scenario.js";
import type { CertSet } from "../../../tls/cert-set.js";
import { ENVOY_CLIENT, ENVOY_LISTENER } from "../../../tls/plan.js";
import type { RotationKind } from "../../../tls/rotate.js";
import type { K8sEnv } from "../scenario.js";
import { K8S_SERVER_LEAF } from "../tls-secrets.js";
import {
  listenerOnWire,
  presentedSerials,
  type RotationProbes,
  sdsUpdatesOf,
  serverOnWire,
  serverReloads,
} from "./cert-probes.js";

/*
 * The steps of 'grpc-lb k8s scenario cert-rotation', in order, and what each waits to
 * see in every pod before the next is written.
 */
type Ctx = ScenarioContext<K8sEnv>;

/** Counters read before a step writes anything, per pod. */
export interface Before {
  clusterSds: Map<string, number>;
  reloads: Map<string, number>;
}

export interface Step {
  key: string;
  title: string;
  kind: RotationKind;
  only?: string[];
  expect(set: CertSet, before: Before): CertExpectation[];
}

const serialOf = (set: CertSet, leaf: string): string => {
  const serial = set.leaves.find((l) => l.record.name === leaf)?.record.serial;
  if (serial === undefined) throw new EngineError(`cert-rotation: the set has no leaf '${leaf}'`);
  return serial;
};

export function plan(ctx: Ctx, p: RotationProbes): Step[] {
  const kube = ctx.env.kube;
  const listener = (set: CertSet): CertExpectation[] =>
    p.envoys.map((e) => ({
      what: `Envoy pod ${e.pod}'s listener to show serial ${serialOf(set, ENVOY_LISTENER)}`,
      look: async () => showsSerial(await listenerOnWire(kube, e, set), serialOf(set, ENVOY_LISTENER)),
    }));
  const servers = (set: CertSet): CertExpectation[] =>
    p.servers.map((s) => ({
      what: `server pod ${s.pod.name} to show serial ${serialOf(set, K8S_SERVER_LEAF)}`,
      look: async () => showsSerial(await serverOnWire(kube, s.forward, set), serialOf(set, K8S_SERVER_LEAF)),
    }));
  const client = (set: CertSet): CertExpectation[] =>
    p.envoys.map((e) => ({
      what: `Envoy pod ${e.pod} to hold client certificate serial ${serialOf(set, ENVOY_CLIENT)} (its /certs)`,
      look: async () => {
        const held = await presentedSerials(e);
        return {
          ok: held.some((h) => sameSerial(h, serialOf(set, ENVOY_CLIENT))),
          seen: `serials ${held.join(", ")}`,
        };
      },
    }));
  // A trust change shows no new serial: each Envoy rebuilds its upstream context, each server
  // reloads the client CA it checks Envoy's certificate against (a line in its log).
  const trust = (before: Before): CertExpectation[] => [
    ...p.envoys.map((e) => ({
      what: `Envoy pod ${e.pod} to rebuild its upstream TLS context from the new bundle`,
      look: async () => {
        const now = (await sdsUpdatesOf(e)).cluster;
        return {
          ok: now > (before.clusterSds.get(e.pod) ?? 0),
          seen: `cluster ssl_context_update_by_sds ${now}`,
        };
      },
    })),
    ...p.servers.map((s) => ({
      what: `server pod ${s.pod.name} to reload its client CA`,
      look: async () => {
        const now = await serverReloads(kube, s.pod.name, ctx.signal);
        return { ok: now > (before.reloads.get(s.pod.name) ?? 0), seen: `${now} reloads in its log` };
      },
    })),
  ];
  return [
    {
      key: "listenerNewSerialMs",
      title: "Envoy's listener certificate",
      kind: "leaves",
      only: [ENVOY_LISTENER],
      expect: listener,
    },
    {
      key: "serversNewSerialMs",
      title: "the servers' certificate",
      kind: "leaves",
      only: [K8S_SERVER_LEAF],
      expect: servers,
    },
    {
      key: "envoyClientNewSerialMs",
      title: "Envoy's client certificate",
      kind: "leaves",
      only: [ENVOY_CLIENT],
      expect: client,
    },
    {
      key: "newCaTrustedMs",
      title: "a new CA, trusted beside the old one",
      kind: "ca",
      expect: (_s, b) => trust(b),
    },
    {
      key: "newCaLeavesMs",
      title: "every leaf from the new CA",
      kind: "leaves",
      expect: (set) => [...listener(set), ...servers(set), ...client(set)],
    },
    {
      key: "oldCaRetiredMs",
      title: "the old CA retired",
      kind: "retire-old-ca",
      expect: (_s, b) => trust(b),
    },
  ];
}

/** "; server AB12… → CD34…" for each leaf whose serial `next` changed, to show what went on the wire. */
export function changedSerials(current: CertSet, next: CertSet): string {
  const was = new Map(current.leaves.map((l) => [l.record.name, l.record.serial]));
  const changed = next.leaves.filter((l) => was.get(l.record.name) !== l.record.serial);
  return changed.map((l) => `; ${l.record.name} ${was.get(l.record.name)} → ${l.record.serial}`).join("");
}
