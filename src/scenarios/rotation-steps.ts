import { type CertSet, readSet, type WrittenSet, writeSet } from "../tls/cert-set.js";
import { type RotationKind, rotatedSet } from "../tls/rotate.js";
import { type CertExpectation, waitSeen } from "./cert-expectation.js";
import { check, distribution, round, type ScenarioCheck } from "./report.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenario.js";

/*
 * Certificate rotation under load as a list of steps, whatever engine runs Envoy and the
 * servers: each step writes the next version of a `grpc-lb certs` set (rotatedSet, then
 * writeSet: a whole vN, then the `current` symlink swap), waits until every party shows the
 * change, lets calls through, and is judged on both. The engine says what to look at.
 */

/** One change a step waits to see, within its own budget. */
export interface RotationExpectation extends CertExpectation {
  budgetMs: number;
}

/** One rotation: what it writes, and what must show afterwards, given what was true before (B). */
export interface RotationStep<B> {
  /** Measurement name, e.g. "listenerNewSerialMs". */
  key: string;
  title: string;
  kind: RotationKind;
  /** With `leaves`: only these leaves. Default every one. */
  only?: string[];
  expect(written: WrittenSet, before: B): RotationExpectation[];
}

/** Envoy's ssl_context_update_by_sds, summed by side. */
export interface SdsCounts {
  listener: number;
  cluster: number;
}

export interface RotationRun<B> {
  /** The certificate set's directory, as this process reaches it. */
  dir: string;
  steps: readonly RotationStep<B>[];
  /** Read before each step writes: what its expectations compare against. */
  before(): Promise<B>;
  /** Envoy's ssl_context_update_by_sds now. */
  sds(): Promise<SdsCounts>;
  /** What a step writes instead of `next` (tests that break a rotation on purpose). Default `next`. */
  rewrite?(step: RotationStep<B>, current: CertSet, next: CertSet): CertSet;
}

/** Calls each step lets through after its change is seen, so every step is judged under load. */
export const CALLS_PER_STEP = 100;

/** The leaf's serial in what a step wrote. */
export function serialOf(written: WrittenSet, leaf: string): string {
  const serial = written.manifest.leaves.find((l) => l.name === leaf)?.serial;
  if (serial === undefined) throw new Error(`cert-rotation: the set has no leaf '${leaf}'`);
  return serial;
}

/**
 * Runs the steps in order under the scenario's paced load: per step, "new certificates in
 * use" and "no failed call" checks, the time until the last party showed it, the SDS
 * updates it caused and the distribution of its calls. A step that did not take effect
 * ends the run: the next one would build on nothing.
 */
export async function runRotationSteps<Env, B>(
  ctx: ScenarioContext<Env>,
  run: RotationRun<B>,
): Promise<ScenarioOutcome> {
  const { load } = ctx;
  const checks: ScenarioCheck[] = [];
  const measurements: Record<string, number> = {};
  // Envoy counts its first load of each secret too: per step, only what the step added.
  const perStep: SdsCounts[] = [];
  const distributions: ScenarioOutcome["distributions"] = [];
  for (const step of run.steps) {
    const before = await run.before();
    const sdsBefore = await run.sds();
    const from = load.now();
    const t = performance.now();
    const current = await readSet(run.dir);
    const next = await rotatedSet(current, step.kind, { only: step.only });
    const written = await writeSet(run.dir, run.rewrite?.(step, current, next) ?? next, step.kind, t);
    const wroteAt = performance.now();
    const seen = await Promise.all(
      step.expect(written, before).map((e) => waitSeen(ctx.waitFor, e, wroteAt, e.budgetMs)),
    );
    await load.waitForMore(CALLS_PER_STEP);
    const after = await run.sds();
    perStep.push({
      listener: after.listener - sdsBefore.listener,
      cluster: after.cluster - sdsBefore.cluster,
    });
    const calls = load.results.filter((r) => r.endMs >= from);
    const failed = calls.filter((r) => r.code !== 0).length;
    const missed = seen.filter((s) => !s.ok);
    const slowest = round(Math.max(0, ...seen.map((s) => s.ms)));
    measurements[step.key] = slowest;
    checks.push(
      check(
        `${step.title}: new certificates in use`,
        missed.length === 0,
        missed.length === 0
          ? `all ${seen.length} seen within ${slowest} ms`
          : missed.map((m) => m.detail).join("; "),
      ),
      check(`${step.title}: no failed call`, failed === 0, `${failed} of ${calls.length} calls failed`),
    );
    distributions.push({ phase: step.title, backends: distribution(load.results, from) });
    if (missed.length > 0) break;
  }
  const sds = await run.sds();
  return {
    checks,
    measurements: {
      ...measurements,
      sslContextUpdateBySdsListener: sds.listener,
      sslContextUpdateBySdsCluster: sds.cluster,
      listenerSdsUpdatesPerStep: perStep.map((s) => s.listener),
      clusterSdsUpdatesPerStep: perStep.map((s) => s.cluster),
    },
    distributions,
  };
}
