import { setTimeout as delay } from "node:timers/promises";
import { LabError } from "../../errors.js";
import { startLoad } from "../../loadgen/engine.js";
import { type CallOutcome, reportOfWindow } from "../../loadgen/recorder.js";
import { imbalanceOf, type LoadReport } from "../../loadgen/report.js";
import { startLabCluster } from "../cluster.js";
import type { LabEvent } from "../events.js";
import { layerLabOptions, resolveLabOptions } from "../options.js";
import type { LabServer } from "../servers.js";
import { startCpuMeter } from "./cpu.js";
import {
  balancerPids,
  type CompareMode,
  describeMode,
  modeLabOptions,
  modeName,
  modeTarget,
} from "./modes.js";
import type { ResolvedCompareOptions } from "./options.js";
import type { CompareBackend, CompareModeResult, CompareReport } from "./report.js";

/** The lab server killed in each mode: server 2, not the slow one. */
const VICTIM_INDEX = 1;

/**
 * Runs the one workload through every mode, each on a fresh lab (so a kill
 * or a policy never carries over): the load at a fixed rate over the
 * connections, server 2 killed mid-run, the balancer's CPU measured.
 */
export async function runCompare(
  o: ResolvedCompareOptions,
  onEvent: (e: LabEvent) => void,
  onMode: (name: string) => void,
  signal?: AbortSignal,
): Promise<CompareReport> {
  const modes: CompareModeResult[] = [];
  let envoyVersion = "";
  for (const mode of o.modes) {
    signal?.throwIfAborted();
    onMode(modeName(mode));
    const r = await runMode(o, mode, onEvent, signal);
    envoyVersion = r.envoyVersion;
    modes.push(r.result);
  }
  return {
    workload: {
      servers: o.servers,
      slowServerMs: o.slowServerMs,
      connections: o.connections,
      ratePerSec: o.ratePerSec,
      concurrency: o.concurrency,
      durationMs: o.durationMs,
      killAtMs: o.killAtMs,
    },
    envoyVersion,
    modes,
  };
}

async function runMode(
  o: ResolvedCompareOptions,
  mode: CompareMode,
  onEvent: (e: LabEvent) => void,
  signal: AbortSignal | undefined,
): Promise<{ envoyVersion: string; result: CompareModeResult }> {
  const labOptions = resolveLabOptions(
    layerLabOptions(
      { servers: o.servers, firstServerFaults: { delayMs: o.slowServerMs } },
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

function summarize(
  mode: CompareMode,
  servers: readonly LabServer[],
  report: LoadReport,
  outcomes: readonly CallOutcome[],
  killAtMs: number | null,
  balancerCpuSec: number,
  clientCpuSec: number,
): CompareModeResult {
  const labelOf = (s: LabServer): string =>
    `server ${s.index + 1}${s.index === 0 ? " (slow)" : s.index === VICTIM_INDEX && killAtMs !== null ? " (killed)" : ""}`;
  const byId = new Map(servers.map((s) => [s.id, s]));
  const label = (id: string): string => {
    const s = byId.get(id);
    return s === undefined ? id : labelOf(s);
  };
  // The balance is read before the kill: afterwards every mode loses a server.
  const before = reportOfWindow(
    outcomes,
    { target: report.target, concurrency: report.concurrency, durationMs: killAtMs ?? report.durationMs },
    0,
    killAtMs ?? Number.POSITIVE_INFINITY,
  );
  const backends: CompareBackend[] = servers.map((s) => {
    const b = before.perBackend.find((x) => x.serverId === s.id);
    return {
      server: s.index + 1,
      label: labelOf(s),
      count: b?.count ?? 0,
      sharePct: b?.sharePct ?? 0,
      p50Ms: b?.latencyMs.p50 ?? 0,
      p99Ms: b?.latencyMs.p99 ?? 0,
    };
  });
  const killSecond = killAtMs === null ? Number.POSITIVE_INFINITY : Math.floor(killAtMs / 1000);
  return {
    mode: modeName(mode),
    description: describeMode(mode),
    balancer:
      mode.kind === "envoy"
        ? "Envoy"
        : mode.kind === "client"
          ? "the client process (grpc-js balances in it)"
          : "the kube-proxy stand-in (Envoy tcp_proxy)",
    backends,
    cv: imbalanceOf(
      backends.map((b) => b.count),
      servers.length,
    ).cv,
    backendsUsed: backends.filter((b) => b.count > 0).length,
    latencyMs: report.latencyMs,
    requests: report.requests,
    errors: report.errors,
    killAtMs: killAtMs === null ? null : Math.round(killAtMs),
    failedAfterKill: report.perSecond.filter((s) => s.second >= killSecond).reduce((n, s) => n + s.failed, 0),
    balancerCpuSec,
    clientCpuSec,
    perSecond: report.perSecond.map((s) => ({
      second: s.second,
      backends: Object.fromEntries(Object.entries(s.backends).map(([id, n]) => [label(id), n])),
      failed: s.failed,
    })),
  };
}
