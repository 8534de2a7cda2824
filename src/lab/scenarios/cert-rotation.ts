import { LabError, messageOf } from "../../errors.js";
import { check, distribution, round, type ScenarioCheck } from "../../scenarios/report.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import { type CertSet, readSet, type WrittenSet, writeSet } from "../../tls/cert-set.js";
import { ENVOY_CLIENT, ENVOY_LISTENER } from "../../tls/plan.js";
import { type RotationKind, rotatedSet } from "../../tls/rotate.js";
import { WaitTimeoutError } from "../../util/wait.js";
import type { LabCluster } from "../cluster.js";
import type { LabTls } from "../lab-tls.js";
import { addressOf, rotationBudgetsMs } from "./budgets.js";
import type { LabScenario } from "./lab-scenario.js";
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
function serverLeaf(tls: LabTls, index: number): string {
  const files = tls.server(index);
  if (files === undefined)
    throw new LabError("cert-rotation needs TLS on both legs: the servers speak plaintext");
  return files.name;
}

/** Ways to break the rotation on purpose, to prove the scenario catches it (tests only). */
export interface CertRotationFaults {
  /** In the servers' step, server 1's new certificate goes beside its old key: a torn write. Default false. */
  tornServerKey?: boolean;
}

/** Calls each step lets through after its change is seen, so every step is judged under load. */
const CALLS_PER_STEP = 100;

/** One change a step waits to see. */
interface Expectation {
  what: string;
  budgetMs: number;
  /** Looks once: whether the change shows, and what was seen. */
  look(): Promise<{ ok: boolean; seen: string }>;
}

/** What was true before a step wrote anything. */
interface Before {
  sds: SdsUpdates;
  /** Reloads each server had applied, by id. */
  reloads: Map<string, number>;
}

interface Step {
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

/** The steps, in order: each is loaded everywhere before the next is written. */
function plan(lab: LabCluster, tls: LabTls): Step[] {
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

/** `next` with server 1's key put back to the one of `before`: a certificate beside a key that is not its own. */
function tear(before: CertSet, next: CertSet, leaf: string): CertSet {
  const oldKey = before.leaves.find((l) => l.record.name === leaf)?.keyPem;
  if (oldKey === undefined) throw new LabError(`cert-rotation: no leaf '${leaf}' to tear`);
  return { ...next, leaves: next.leaves.map((l) => (l.record.name === leaf ? { ...l, keyPem: oldKey } : l)) };
}

/** Waits for one expectation within its budget; a miss is a result, not an error. */
async function waitSeen(
  ctx: ScenarioContext<LabCluster>,
  e: Expectation,
  since: number,
): Promise<{ ok: boolean; ms: number; detail: string }> {
  let last = "nothing yet";
  try {
    await ctx.waitFor(
      e.what,
      async () => {
        const r = await e.look().catch((err: unknown) => ({ ok: false, seen: messageOf(err) }));
        last = r.seen;
        return r.ok ? true : undefined;
      },
      e.budgetMs,
      () => last,
    );
    return { ok: true, ms: performance.now() - since, detail: "" };
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    return {
      ok: false,
      ms: performance.now() - since,
      detail: `${e.what} within ${e.budgetMs} ms: still ${last}`,
    };
  }
}

/** The scenario, with `faults` to break it on purpose. */
export function certRotationScenario(faults: CertRotationFaults = {}): LabScenario {
  return {
    name: "cert-rotation",
    summary:
      "rotate Envoy's listener, the servers', Envoy's client certificate (mTLS) and the CA under load; new serials on the wire, no failed call",
    // TLS is what it is about: on without --tls; --tls --mtls adds Envoy's client certificate.
    labOptions: { servers: 3, tls: "tls" },
    load: "paced",
    async run(ctx) {
      const { env: lab, load } = ctx;
      const tls = lab.tls;
      if (tls === undefined) throw new LabError("cert-rotation needs the lab's TLS (--tls)");
      const dir = tls.envoy.certsDir;
      const checks: ScenarioCheck[] = [];
      const measurements: Record<string, number> = {};
      // Envoy counts its first load of each secret too: per step, only what the step added.
      const sdsPerStep: SdsUpdates[] = [];
      const distributions: { phase: string; backends: Record<string, number> }[] = [];
      const firstServer = serverLeaf(tls, 0);
      for (const step of plan(lab, tls)) {
        const before: Before = {
          sds: await sdsUpdates(lab.envoy.admin),
          reloads: new Map(lab.servers().map((s) => [s.id, s.tlsReloads().applied])),
        };
        const from = load.now();
        const t = performance.now();
        const current = await readSet(dir);
        const next = await rotatedSet(current, step.kind, { only: step.only });
        const torn = faults.tornServerKey === true && step.only?.includes(firstServer) === true;
        const written = await writeSet(dir, torn ? tear(current, next, firstServer) : next, step.kind, t);
        const wroteAt = performance.now();
        const seen = await Promise.all(step.expect(written, before).map((e) => waitSeen(ctx, e, wroteAt)));
        await load.waitForMore(CALLS_PER_STEP);
        const after = await sdsUpdates(lab.envoy.admin);
        sdsPerStep.push({
          listener: after.listener - before.sds.listener,
          cluster: after.cluster - before.sds.cluster,
        });
        const calls = load.results.filter((r) => r.endMs >= from);
        const failed = calls.filter((r) => r.code !== 0).length;
        const missed = seen.filter((s) => !s.ok);
        measurements[step.key] = round(Math.max(0, ...seen.map((s) => s.ms)));
        checks.push(
          check(
            `${step.title}: new certificates in use`,
            missed.length === 0,
            missed.length === 0
              ? `all ${seen.length} seen within ${round(Math.max(...seen.map((s) => s.ms)))} ms`
              : missed.map((m) => m.detail).join("; "),
          ),
          check(`${step.title}: no failed call`, failed === 0, `${failed} of ${calls.length} calls failed`),
        );
        distributions.push({ phase: step.title, backends: distribution(load.results, from) });
        // A step that did not take effect leaves nothing for the next one to build on.
        if (missed.length > 0) break;
      }
      const sds = await sdsUpdates(lab.envoy.admin);
      return {
        checks,
        measurements: {
          ...measurements,
          sslContextUpdateBySdsListener: sds.listener,
          sslContextUpdateBySdsCluster: sds.cluster,
          listenerSdsUpdatesPerStep: sdsPerStep.map((s) => s.listener),
          clusterSdsUpdatesPerStep: sdsPerStep.map((s) => s.cluster),
        },
        distributions,
      };
    },
  };
}

export const certRotation = certRotationScenario();
