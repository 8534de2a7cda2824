import { setTimeout as delay } from "node:timers/promises";
import { LabError } from "../errors.js";
import type { LabEvent } from "../lab/events.js";
import type { LabServer } from "../lab/servers.js";
import { startLoad } from "../loadgen/engine.js";
import type { CallOutcome } from "../loadgen/recorder.js";
import type { PeerClusterEvent } from "../peers/cluster.js";
import { startCpuMeter } from "./cpu.js";
import { type ModeLab, startModeLab } from "./mode-lab.js";
import { summarize, VICTIM_INDEX } from "./mode-result.js";
import { type CompareMode, modeName } from "./modes.js";
import type { ResolvedCompareOptions } from "./options.js";
import type { CompareModeResult } from "./report.js";
import { scaleOutOf } from "./scale-out.js";

/** Resolves at `atMs` into the run. */
export type Wait = (atMs: number) => Promise<void>;

/**
 * The Wait of a run whose clock is `now`. Scheduled actions, not waits for a condition: the
 * kill and the scale-out come at fixed times into the load.
 */
export const waitOn =
  (now: () => number, signal: AbortSignal | undefined): Wait =>
  async (atMs) => {
    const ms = atMs - now();
    if (ms > 0) await delay(ms, undefined, signal ? { signal } : {});
  };

/** Kills server 2 at `atMs`; the time it was killed, or null with no kill. */
export async function killAt(
  lab: ModeLab,
  servers: readonly LabServer[],
  atMs: number | null,
  wait: Wait,
  now: () => number,
) {
  if (atMs === null) return null;
  await wait(atMs);
  const victim = servers[VICTIM_INDEX];
  if (victim === undefined) throw new LabError("compare: no server 2 to kill");
  const at = now();
  await lab.kill(victim);
  return at;
}

/** Puts the newcomer, started before the load, in DNS at `atMs`: it and when DNS had it. */
async function scaleAt(
  lab: ModeLab,
  newcomer: LabServer | null,
  atMs: number | null,
  wait: Wait,
  now: () => number,
) {
  if (atMs === null || newcomer === null) return null;
  await wait(atMs);
  lab.scaleOut.publish();
  return { server: newcomer, joinedAtMs: now() };
}

/**
 * Runs the workload through one mode on a fresh lab of its own: server 2 killed at `killAtMs`,
 * a fourth server joining DNS at `scaleAtMs` (either null for none).
 */
export async function runMode(
  o: ResolvedCompareOptions,
  mode: CompareMode,
  onEvent: (e: LabEvent | PeerClusterEvent) => void,
  signal: AbortSignal | undefined,
): Promise<{ envoyVersion: string | undefined; peerVersion: string | undefined; result: CompareModeResult }> {
  const lab = await startModeLab(o, mode, onEvent, signal);
  try {
    const servers = [...lab.servers()];
    const newcomer = o.scaleAtMs !== null ? await lab.scaleOut.prepare() : null;
    const outcomes: CallOutcome[] = [];
    let started: () => void = () => {};
    const loadStarted = new Promise<void>((r) => (started = r));
    const run = startLoad({
      ...lab.target,
      connections: o.connections,
      concurrency: o.concurrency,
      durationMs: o.durationMs,
      requests: Math.ceil((o.ratePerSec * o.durationMs) / 1000) + 1,
      schedule: { kind: "const", rps: o.ratePerSec },
      call: { kind: "unary", message: "compare" },
      deadlineMs: 2000,
      signal,
      cancelOnAbort: true,
      onCall: (c) => outcomes.push(c),
      onStart: () => started(),
    });
    const meters = {
      balancer: undefined as ReturnType<typeof startCpuMeter> | undefined,
      client: undefined as ReturnType<typeof startCpuMeter> | undefined,
    };
    const wait = waitOn(run.now, signal);
    const actions = (async () => {
      await Promise.race([loadStarted, run.done]);
      meters.balancer = startCpuMeter(lab.balancerPids());
      meters.client = startCpuMeter("self");
      return Promise.all([
        killAt(lab, servers, o.killAtMs, wait, run.now),
        scaleAt(lab, newcomer, o.scaleAtMs, wait, run.now),
      ]);
    })();
    const [report, [killAtMs, scaled]] = await Promise.all([
      run.done,
      actions.catch(async (e) => {
        await run.stop({ cancel: true });
        throw e;
      }),
    ]);
    signal?.throwIfAborted();
    const balancerCpuSec = meters.balancer?.stop() ?? 0;
    const clientCpuSec = meters.client?.stop() ?? 0;
    const result = summarize(
      mode,
      servers,
      report,
      outcomes,
      killAtMs,
      balancerCpuSec,
      clientCpuSec,
      scaled?.server,
    );
    result.scaleOut =
      o.scaleAtMs === null || scaled === null
        ? null
        : scaleOutOf(scaled.server, scaled.joinedAtMs, lab.servers().length, outcomes);
    return { envoyVersion: lab.envoyVersion, peerVersion: lab.peerVersion, result };
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : `${modeName(mode)} finished`);
  }
}
