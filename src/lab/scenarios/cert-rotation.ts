import { LabError } from "../../errors.js";
import { waitSeen } from "../../scenarios/cert-expectation.js";
import { check, distribution, round, type ScenarioCheck } from "../../scenarios/report.js";
import { type CertSet, readSet, writeSet } from "../../tls/cert-set.js";
import { rotatedSet } from "../../tls/rotate.js";
import type { LabScenario } from "./lab-scenario.js";
import { type Before, rotationPlan, serverLeaf } from "./rotation-plan.js";
import { type SdsUpdates, sdsUpdates } from "./rotation-probes.js";

/** Ways to break the rotation on purpose, to prove the scenario catches it (tests only). */
export interface CertRotationFaults {
  /** In the servers' step, server 1's new certificate goes beside its old key: a torn write. Default false. */
  tornServerKey?: boolean;
}

/** Calls each step lets through after its change is seen, so every step is judged under load. */
const CALLS_PER_STEP = 100;

/** `next` with server 1's key put back to the one of `before`: a certificate beside a key that is not its own. */
function tear(before: CertSet, next: CertSet, leaf: string): CertSet {
  const oldKey = before.leaves.find((l) => l.record.name === leaf)?.keyPem;
  if (oldKey === undefined) throw new LabError(`cert-rotation: no leaf '${leaf}' to tear`);
  return { ...next, leaves: next.leaves.map((l) => (l.record.name === leaf ? { ...l, keyPem: oldKey } : l)) };
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
      for (const step of rotationPlan(lab, tls)) {
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
        const seen = await Promise.all(
          step.expect(written, before).map((e) => waitSeen(ctx.waitFor, e, wroteAt, e.budgetMs)),
        );
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
