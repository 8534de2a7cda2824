import type { LabServer } from "../lab/servers.js";
import { startStreamLoad } from "../loadgen/streams/stream-load.js";
import { waitFor } from "../util/wait.js";
import { type ModeLab, startModeLab } from "./mode-lab.js";
import { type CompareMode, modeName } from "./modes.js";
import type { CompareWorkloadKind, ResolvedCompareOptions } from "./options.js";
import { type CompareHooks, type ModeRun, runEachMode } from "./run.js";
import { killAt, waitOn } from "./run-mode.js";
import type { StreamsCompareReport } from "./streams-report.js";
import { type CompareStreamsModeResult, streamsResultOf } from "./streams-result.js";

/** How often streams per server are counted, in ms: the precision of the newcomer's first stream. */
export const STREAMS_SAMPLE_MS = 100;

type StreamsWorkload = Extract<CompareWorkloadKind, { kind: "streams" }>;

/** The stream load's engine: the h2 engine for one HOST:PORT, grpc-js where a resolver (dns:, xds:) picks. */
const engineOf = (target: string): "h2" | "grpc-js" => (/^[a-z]+:/i.test(target) ? "grpc-js" : "h2");

/** Holds the streams through one mode's lab until the end of the run, with its kill and scale-out. */
async function holdStreams(
  o: ResolvedCompareOptions,
  w: StreamsWorkload,
  mode: CompareMode,
  lab: ModeLab,
  signal: AbortSignal | undefined,
): Promise<CompareStreamsModeResult> {
  const servers = [...lab.servers()];
  const newcomer: LabServer | null = o.scaleAtMs !== null ? await lab.scaleOut.prepare() : null;
  const t = lab.target;
  const load = await startStreamLoad({
    target: t.target,
    engine: engineOf(t.target),
    tls: t.tls ?? { kind: "insecure" },
    ...(t.lb ? { lb: t.lb } : {}),
    ...(t.xdsServer ? { xdsServer: t.xdsServer } : {}),
    connections: o.connections,
    keepaliveMs: 0,
    metadata: [],
    streams: w.streams,
    intervalMs: w.intervalMs,
    maxLifetimeMs: 0,
    sampleMs: STREAMS_SAMPLE_MS,
    connectTimeoutMs: lab.startTimeoutMs,
  });
  try {
    const open = (): number => Object.values(load.openByServer()).reduce((a, b) => a + b, 0);
    await waitFor(
      `every stream of ${modeName(mode)} to open`,
      () => (open() === w.streams ? true : undefined),
      { timeoutMs: lab.startTimeoutMs, intervalMs: 20, ...(signal ? { signal } : {}) },
      () => `${open()} of ${w.streams} open`,
    );
    const startedAtMs = load.now();
    const atStart = load.openByServer();
    const now = (): number => load.now() - startedAtMs;
    // The kill, the scale-out and the end come at fixed times on the streams' own clock.
    const wait = waitOn(now, signal);
    const scale = async () => {
      if (o.scaleAtMs === null || newcomer === null) return null;
      await wait(o.scaleAtMs);
      const before = load.openByServer();
      lab.scaleOut.publish();
      return { before, joinedAtMs: now() };
    };
    const [killAtMs, scaled] = await Promise.all([killAt(lab, servers, o.killAtMs, wait, now), scale()]);
    await wait(o.durationMs);
    const after = load.openByServer();
    const report = await load.stop();
    return streamsResultOf(mode, {
      servers,
      newcomer: newcomer ?? undefined,
      startedAtMs,
      atStart,
      killAtMs,
      joinedAtMs: scaled?.joinedAtMs ?? null,
      before: scaled?.before ?? after,
      after,
      liveServers: lab.servers().length,
      report,
    });
  } finally {
    await load.stop(signal?.aborted ?? false);
  }
}

/** Runs the streams through one mode on a fresh lab of its own. */
export async function runStreamsMode(
  o: ResolvedCompareOptions,
  w: StreamsWorkload,
  mode: CompareMode,
  h: CompareHooks,
): Promise<ModeRun<CompareStreamsModeResult>> {
  const lab = await startModeLab(o, mode, h.onEvent, h.signal);
  try {
    const result = await holdStreams(o, w, mode, lab, h.signal);
    return { envoyVersion: lab.envoyVersion, peerVersion: lab.peerVersion, result };
  } finally {
    await lab.stop(h.signal?.aborted ? "interrupted" : `${modeName(mode)} finished`);
  }
}

/**
 * Holds the same long-lived streams through every mode, each on a fresh lab: every stream open,
 * then a newcomer joins at the scale-out, and streams per server are read before and after it.
 */
export async function runStreamsCompare(
  o: ResolvedCompareOptions,
  w: StreamsWorkload,
  h: CompareHooks,
): Promise<StreamsCompareReport> {
  const run = await runEachMode(o, (mode) => runStreamsMode(o, w, mode, h), h);
  return {
    workload: {
      kind: "streams",
      servers: o.servers,
      slowServerMs: o.slowServerMs,
      connections: o.connections,
      streams: w.streams,
      intervalMs: w.intervalMs,
      durationMs: o.durationMs,
      killAtMs: o.killAtMs,
      scaleAtMs: o.scaleAtMs,
      ...(o.tls === "off" ? {} : { tls: o.tls }),
    },
    ...run,
  };
}
