import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { type LabCluster, startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import { layerLabOptions, resolveLabOptions } from "../lab/options.js";
import { attachPeer } from "../peers/attach.js";
import type { PeerEvent } from "../peers/events.js";
import { PROXY_KINDS, type ProxyKind } from "../peers/options.js";
import { processTree } from "../peers/pids.js";
import type { PeerHandle } from "../peers/process.js";
import { Disposers } from "../util/disposers.js";
import { type BenchTarget, benchLoad, labTargets, loadFigures, machineInfo } from "./bench-load.js";
import { type CpuWindow, coresBusy } from "./cpu-account.js";
import { startCpuWindow } from "./proc-cpu.js";
import {
  envoyVersusBest,
  type ProxiesResult,
  type ProxyIdle,
  type ProxyPath,
  type ProxyRun,
  summarizeProxies,
} from "./proxies-result.js";
import { resolveSizingOptions, type SizingOptions } from "./sizing.js";

export interface ProxiesOptions {
  /** The proxies measured, each beside direct calls. Default envoy, haproxy, nginx. */
  proxies?: readonly ProxyKind[];
  /** Worker threads or processes of every proxy. Default 2 (the lab's Envoy --concurrency). */
  workers?: number;
  /** Steps, run length, repeats, idle window and open-loop bound: the sizing table's, so the rows match. */
  sizing?: Omit<SizingOptions, "envoyConcurrencies">;
}

/** Told of every run as it ends, for a progress line. */
export type ProxiesProgress = (r: ProxyRun) => void;

/** A proxy's CPU over a window: the sum over its processes (nginx's master and workers). */
function startTreeCpuWindow(pids: readonly number[]): () => CpuWindow {
  const windows = pids.map(startCpuWindow);
  return () =>
    windows
      .map((w) => w())
      .reduce((a, b) => ({ cpuSec: a.cpuSec + b.cpuSec, wallMs: Math.max(a.wallMs, b.wallMs) }));
}

/** Starts the peers among `proxies` in front of the lab's servers, owned by `disposers`. */
async function attachPeers(
  lab: LabCluster,
  proxies: readonly ProxyKind[],
  workers: number,
  disposers: Disposers,
  onEvent: (e: LabEvent | PeerEvent) => void,
  signal: AbortSignal | undefined,
): Promise<Map<ProxyKind, PeerHandle>> {
  const peers = new Map<ProxyKind, PeerHandle>();
  const dir = await mkdtemp(join(tmpdir(), "grpc-lb-bench-peers-"));
  disposers.defer(() => rm(dir, { recursive: true, force: true }));
  for (const kind of proxies) {
    if (kind === "envoy") continue;
    const peer = await attachPeer({
      kind,
      dns: lab.dns,
      servers: lab.servers(),
      serverPort: lab.pool.port,
      workDir: join(dir, kind),
      config: { workers },
      startTimeoutMs: lab.options.startTimeoutMs,
      onEvent,
      signal,
    });
    peers.set(
      kind,
      disposers.use(peer, (p) => p.stop()),
    );
  }
  return peers;
}

/**
 * What each hop costs, in one run: one lab of 3 servers with Envoy, HAProxy and nginx in front
 * of the same servers, each with the same workers; their idle CPU measured together; then every
 * step of the sizing table sent direct and through each proxy, the order rotating run by run,
 * each proxy's CPU read from /proc around its runs. Numbers only; no thresholds.
 */
export async function runProxies(
  options: ProxiesOptions,
  onEvent: (e: LabEvent | PeerEvent) => void,
  onRun: ProxiesProgress,
  signal?: AbortSignal,
): Promise<ProxiesResult> {
  const proxies = options.proxies ?? PROXY_KINDS;
  const workers = options.workers ?? 2;
  const o = resolveSizingOptions(options.sizing ?? {});
  const loadAvgStart = loadavg();
  const lab = await startLabCluster(
    resolveLabOptions(layerLabOptions({ servers: 3 }, o.lab, { envoy: { concurrency: workers } })),
    onEvent,
    signal,
  );
  const disposers = new Disposers();
  try {
    const peers = await attachPeers(lab, proxies, workers, disposers, onEvent, signal);
    const pidsOf = (p: ProxyKind): number[] => {
      const peer = peers.get(p);
      return peer === undefined ? [lab.envoy.process.pid] : processTree(peer.process.pid);
    };
    const labPaths = labTargets(lab);
    const targets = new Map<ProxyPath, BenchTarget>([
      ["direct", labPaths.direct],
      ...proxies.map((p): [ProxyPath, BenchTarget] => [
        p,
        p === "envoy" ? labPaths.envoy : { target: (peers.get(p) as PeerHandle).listenAddress },
      ]),
    ]);
    const paths: ProxyPath[] = ["direct", ...proxies];
    // Connection set-up and JIT do not count.
    for (const path of paths)
      await benchLoad(
        targets.get(path) as BenchTarget,
        { kind: "closed", concurrency: 4 },
        1000,
        300,
        signal,
      );
    const idleWindows = proxies.map((p) => ({ proxy: p, stop: startTreeCpuWindow(pidsOf(p)) }));
    await delay(o.idleMs, undefined, signal ? { signal } : {});
    const idle: ProxyIdle[] = idleWindows.map(({ proxy, stop }) => {
      const window = stop();
      return { proxy, window, cores: coresBusy(window) };
    });
    const runs: ProxyRun[] = [];
    for (const step of o.steps) {
      for (let repeat = 0; repeat < o.repeats; repeat++) {
        // Rotating which path goes first cancels a drift in the machine's load.
        const order = paths.map((_, i) => paths[(i + repeat) % paths.length] as ProxyPath);
        for (const path of order) {
          const cpu = path === "direct" ? undefined : startTreeCpuWindow(pidsOf(path));
          const r = await benchLoad(
            targets.get(path) as BenchTarget,
            step,
            o.stepMs,
            o.openLoopMaxInFlight,
            signal,
          );
          signal?.throwIfAborted();
          const run: ProxyRun = { step, path, repeat, ...loadFigures(r), proxyCpu: cpu ? cpu() : null };
          runs.push(run);
          onRun(run);
        }
      }
    }
    const rows = summarizeProxies(runs, idle);
    return {
      machine: machineInfo(loadAvgStart, lab.envoyBinary.version),
      versions: Object.fromEntries(
        proxies.map((p) => [
          p,
          p === "envoy" ? lab.envoyBinary.version : (peers.get(p) as PeerHandle).binary.version,
        ]),
      ),
      workers,
      stepMs: o.stepMs,
      repeats: o.repeats,
      servers: lab.servers().length,
      idle,
      rows,
      envoyVersusBest: envoyVersusBest(rows),
      runs,
    };
  } finally {
    await disposers.dispose().catch(() => {});
    await lab.stop(signal?.aborted ? "interrupted" : "every proxy measured");
  }
}
