import { LabError } from "../../errors.js";
import { runRotationSteps } from "../../scenarios/rotation-steps.js";
import type { CertSet } from "../../tls/cert-set.js";
import type { LabScenario } from "./lab-scenario.js";
import { type Before, rotationPlan, serverLeaf } from "./rotation-plan.js";
import { sdsUpdates } from "./rotation-probes.js";

/** Ways to break the rotation on purpose, to prove the scenario catches it (tests only). */
export interface CertRotationFaults {
  /** In the servers' step, server 1's new certificate goes beside its old key: a torn write. Default false. */
  tornServerKey?: boolean;
}

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
      const { env: lab } = ctx;
      const tls = lab.tls;
      if (tls === undefined) throw new LabError("cert-rotation needs the lab's TLS (--tls)");
      const firstServer = serverLeaf(tls, 0);
      return runRotationSteps(ctx, {
        dir: tls.envoy.certsDir,
        steps: rotationPlan(lab, tls),
        before: async (): Promise<Before> => ({
          sds: await sdsUpdates(lab.envoy.admin),
          reloads: new Map(lab.servers().map((s) => [s.id, s.tlsReloads().applied])),
        }),
        sds: () => sdsUpdates(lab.envoy.admin),
        rewrite: (step, current, next) =>
          faults.tornServerKey === true && step.only?.includes(firstServer) === true
            ? tear(current, next, firstServer)
            : next,
      });
    },
  };
}

export const certRotation = certRotationScenario();
