import { EngineError } from "../../../errors.js";
import { waitSeen } from "../../../scenarios/cert-expectation.js";
import { check, distribution, round, type ScenarioCheck } from "../../../scenarios/report.js";
import { SCENARIO_RATE_PER_SEC } from "../../../scenarios/scenario-load.js";
import { type CertSet, readSet, writeSet } from "../../../tls/cert-set.js";
import { rotatedSet } from "../../../tls/rotate.js";
import type { KubeTarget } from "../kubectl.js";
import type { K8sScenario } from "../scenario.js";
import { secretUpdateBudgetMs } from "../timing.js";
import { deploymentUsesTls } from "../tls-client.js";
import { applyTlsObjects } from "../tls-secrets.js";
import { openRotationProbes, sdsUpdatesOf, serverReloads } from "./cert-probes.js";
import { type Before, changedSerials, plan } from "./cert-rotation-plan.js";

const NEEDS_TLS = "cert-rotation needs the tls overlay (make k8s-cluster TLS=1)";

/** Calls each step lets through after its change is seen, so every step is judged under load. */
const CALLS_PER_STEP = 100;
/** The scenario; it makes the next CA before the load starts, so the load's client can trust it already. */
export function k8sCertRotation(): K8sScenario {
  let nextCa: CertSet | undefined;
  const steps = 6;
  return {
    name: "cert-rotation",
    summary:
      "update the Secrets: Envoy's listener, the servers', Envoy's client certificate, then the CA with overlap; new serials on the wire, no failed call",
    bounds(kube: KubeTarget) {
      const maxDurationMs = steps * secretUpdateBudgetMs(kube.local) + 30_000;
      return { maxDurationMs, maxRequests: Math.ceil((maxDurationMs / 1000) * SCENARIO_RATE_PER_SEC) };
    },
    async prepareClientTrust(kube, certsDir) {
      if (!(await deploymentUsesTls(kube))) throw new EngineError(NEEDS_TLS);
      nextCa = await rotatedSet(await readSet(certsDir), "ca");
      return nextCa.cas[0]?.certPem ?? "";
    },
    async run(ctx) {
      const { env, load } = ctx;
      if (env.tls.tls === undefined) throw new EngineError(NEEDS_TLS);
      const budgetMs = secretUpdateBudgetMs(env.kube.local);
      const probes = await openRotationProbes(env.kube, env.envoy, ctx.signal);
      const checks: ScenarioCheck[] = [];
      const measurements: Record<string, number | number[]> = {};
      const distributions: { phase: string; backends: Record<string, number> }[] = [];
      const sdsTotals = async () => {
        const all = await Promise.all(probes.envoys.map(sdsUpdatesOf));
        return {
          listener: all.reduce((a, s) => a + s.listener, 0),
          cluster: all.reduce((a, s) => a + s.cluster, 0),
        };
      };
      const start = await sdsTotals();
      const perStep = { listener: [] as number[], cluster: [] as number[] };
      try {
        for (const step of plan(ctx, probes)) {
          const sdsBefore = await sdsTotals();
          const before: Before = {
            clusterSds: new Map(
              await Promise.all(
                probes.envoys.map(async (e) => [e.pod, (await sdsUpdatesOf(e)).cluster] as const),
              ),
            ),
            reloads: new Map(
              await Promise.all(
                probes.servers.map(
                  async (s) => [s.pod.name, await serverReloads(env.kube, s.pod.name, ctx.signal)] as const,
                ),
              ),
            ),
          };
          const from = load.now();
          const t = performance.now();
          const current = await readSet(env.certsDir);
          const next =
            step.kind === "ca" && nextCa !== undefined
              ? { ...current, cas: [...nextCa.cas.slice(0, 1), ...current.cas], caKeyPem: nextCa.caKeyPem }
              : await rotatedSet(current, step.kind, { only: step.only });
          await writeSet(env.certsDir, next, step.kind, t);
          await applyTlsObjects(env.kube, next, env.certsDir, ctx.signal);
          env.progress(`${step.title}: Secrets updated (${step.kind}); waiting for every pod to use them`);
          const wroteAt = performance.now();
          const seen = await Promise.all(
            step.expect(next, before).map((e) => waitSeen(ctx.waitFor, e, wroteAt, budgetMs)),
          );
          await load.waitForMore(CALLS_PER_STEP);
          const after = await sdsTotals();
          perStep.listener.push(after.listener - sdsBefore.listener);
          perStep.cluster.push(after.cluster - sdsBefore.cluster);
          const calls = load.results.filter((r) => r.endMs >= from);
          const failed = calls.filter((r) => r.code !== 0).length;
          const missed = seen.filter((s) => !s.ok);
          const slowest = round(Math.max(0, ...seen.map((s) => s.ms)));
          const serials = changedSerials(current, next);
          measurements[step.key] = slowest;
          checks.push(
            check(
              `${step.title}: new certificates in use in every pod`,
              missed.length === 0,
              missed.length === 0
                ? `all ${seen.length} seen within ${slowest} ms${serials}`
                : missed.map((m) => m.detail).join("; "),
            ),
            check(`${step.title}: no failed call`, failed === 0, `${failed} of ${calls.length} calls failed`),
          );
          distributions.push({ phase: step.title, backends: distribution(load.results, from) });
          if (missed.length > 0) break;
        }
        const end = await sdsTotals();
        return {
          checks,
          measurements: {
            ...measurements,
            secretUpdateBudgetMs: budgetMs,
            envoyPods: probes.envoys.length,
            serverPods: probes.servers.length,
            sslContextUpdateBySdsListener: end.listener - start.listener,
            sslContextUpdateBySdsCluster: end.cluster - start.cluster,
            listenerSdsUpdatesPerStep: perStep.listener,
            clusterSdsUpdatesPerStep: perStep.cluster,
          },
          distributions,
        };
      } finally {
        await probes.stop();
      }
    },
  };
}

export const certRotation = k8sCertRotation();
