import { setTimeout as delay } from "node:timers/promises";
import { LabError } from "../errors.js";
import { startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import { layerLabOptions, resolveLabOptions } from "../lab/options.js";
import { startLoad } from "../loadgen/engine.js";
import type { CallOutcome } from "../loadgen/recorder.js";
import { startCpuMeter } from "./cpu.js";
import { summarize, VICTIM_INDEX } from "./mode-result.js";
import { balancerPids, type CompareMode, modeLabOptions, modeName, modeTarget } from "./modes.js";
import type { ResolvedCompareOptions } from "./options.js";
import type { CompareModeResult } from "./report.js";

/** Runs the workload through one mode on a fresh lab of its own, killing server 2 at `killAtMs` unless it is null. */
export async function runMode(
  o: ResolvedCompareOptions,
  mode: CompareMode,
  onEvent: (e: LabEvent) => void,
  signal: AbortSignal | undefined,
): Promise<{ envoyVersion: string; result: CompareModeResult }> {
  const labOptions = resolveLabOptions(
    layerLabOptions(
      { servers: o.servers, firstServerFaults: { delayMs: o.slowServerMs }, tls: o.tls },
      modeLabOptions(mode),
    ),
  );
  const lab = await startLabCluster(labOptions, onEvent, signal);
  try {
    const servers = [...lab.servers()];
    const outcomes: CallOutcome[] = [];
    let started: () => void = () => {};
    const loadStarted = new Promise<void>((r) => (started = r));
    const run = startLoad({
      ...modeTarget(mode, lab),
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
    const meter = { current: undefined as ReturnType<typeof startCpuMeter> | undefined };
    const client = { current: undefined as ReturnType<typeof startCpuMeter> | undefined };
    const kill = (async (): Promise<number | null> => {
      await Promise.race([loadStarted, run.done]);
      meter.current = startCpuMeter(balancerPids(mode, lab));
      client.current = startCpuMeter("self");
      if (o.killAtMs === null) return null;
      // A scheduled action, not a wait for a condition: the kill comes at a fixed time into the load.
      const wait = o.killAtMs - run.now();
      if (wait > 0) await delay(wait, undefined, signal ? { signal } : {});
      const victim = servers[VICTIM_INDEX];
      if (victim === undefined) throw new LabError("compare: no server 2 to kill");
      const at = run.now();
      await lab.pool.kill(victim);
      return at;
    })();
    const [report, killAtMs] = await Promise.all([
      run.done,
      kill.catch(async (e) => {
        await run.stop({ cancel: true });
        throw e;
      }),
    ]);
    signal?.throwIfAborted();
    const balancerCpuSec = meter.current?.stop() ?? 0;
    const clientCpuSec = client.current?.stop() ?? 0;
    return {
      envoyVersion: lab.envoyBinary.version,
      result: summarize(mode, servers, report, outcomes, killAtMs, balancerCpuSec, clientCpuSec),
    };
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : `${modeName(mode)} finished`);
  }
}
