import { setTimeout as delay } from "node:timers/promises";
import { LabError } from "../errors.js";
import type { LoadReport } from "../loadgen/report.js";
import { cliEntry } from "../paths.js";
import { startChild } from "../proc/child.js";
import { startLabCluster } from "./cluster.js";
import { type ProcessSample, sampleProcess } from "./compare/sampler.js";
import type { LabEvent } from "./events.js";
import { resolveLabOptions } from "./options.js";

export interface GhzBenchOptions {
  /** Path of the ghz binary. */
  ghz: string;
  /** Connections both tools open. Default 4. */
  connections?: number;
  /** Calls in flight (ghz's -c workers). Default 32. */
  concurrency?: number;
  /** The fixed rate of the CPU-per-call run, calls/s. Default 1000. */
  ratePerSec?: number;
  /** Length of the CPU and throughput runs, in ms. Default 10000. */
  runMs?: number;
  /** Length of the memory run, in ms. Default 60000. */
  memoryRunMs?: number;
}

/** One tool's run: what it reported and what /proc said about it. */
export interface ToolRun {
  tool: "grpc-lb load" | "ghz";
  calls: number;
  failed: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU per call in µs over the steady window (1 s after the start to 1 s before the end), at the rate reached. */
  cpuUsPerCall: number;
  /** RSS samples: start, middle and end of the run. */
  rssMb: number[];
}

export interface GhzBench {
  target: string;
  envoyVersion: string;
  connections: number;
  concurrency: number;
  ratePerSec: number;
  fixedRate: [ToolRun, ToolRun];
  closedLoop: [ToolRun, ToolRun];
  memory: [ToolRun, ToolRun];
}

const ECHO_METHOD = "lbdemo.v1.Echo.Echo";

/**
 * Our load tool beside ghz against the same lab, the same Envoy listener,
 * with the same connections and concurrency: CPU per call at a fixed rate,
 * throughput in a closed loop, and memory over a long run. Each tool is a
 * separate process, measured from /proc while it runs.
 */
export async function runGhzBench(
  o: GhzBenchOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
): Promise<GhzBench> {
  const connections = o.connections ?? 4;
  const concurrency = o.concurrency ?? 32;
  const ratePerSec = o.ratePerSec ?? 1000;
  const runMs = o.runMs ?? 10_000;
  const memoryRunMs = o.memoryRunMs ?? 60_000;
  const lab = await startLabCluster(resolveLabOptions({ servers: 3 }), onEvent, signal);
  try {
    const target = lab.listenAddress;
    const both = async (rps: number | undefined, ms: number): Promise<[ToolRun, ToolRun]> => [
      await runTool("grpc-lb load", { target, connections, concurrency, rps, ms, ghz: o.ghz }, signal),
      await runTool("ghz", { target, connections, concurrency, rps, ms, ghz: o.ghz }, signal),
    ];
    // A short warm-up so Envoy's connections and the servers' JIT do not count against the first tool.
    await runTool(
      "grpc-lb load",
      { target, connections, concurrency, rps: undefined, ms: 2000, ghz: o.ghz },
      signal,
    );
    return {
      target,
      envoyVersion: lab.envoyBinary.version,
      connections,
      concurrency,
      ratePerSec,
      fixedRate: await both(ratePerSec, runMs),
      closedLoop: await both(undefined, runMs),
      memory: await both(ratePerSec, memoryRunMs),
    };
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : "bench finished");
  }
}

interface ToolArgs {
  target: string;
  connections: number;
  concurrency: number;
  rps: number | undefined;
  ms: number;
  ghz: string;
}

function commandOf(tool: ToolRun["tool"], a: ToolArgs): { command: string; args: string[] } {
  const rate = a.rps === undefined ? [] : ["--rps", String(a.rps)];
  if (tool === "ghz")
    return {
      command: a.ghz,
      args: [
        "--insecure",
        "--call",
        ECHO_METHOD,
        "-d",
        '{"message":"hello"}',
        "-c",
        String(a.concurrency),
        "--connections",
        String(a.connections),
        "-z",
        `${a.ms}ms`,
        // As our tool does: calls in flight at the end finish rather than being counted as errors.
        "--duration-stop",
        "wait",
        ...rate,
        "--format",
        "json",
        a.target,
      ],
    };
  return {
    command: process.execPath,
    args: [
      cliEntry,
      "load",
      "--target",
      a.target,
      "-c",
      String(a.concurrency),
      "--connections",
      String(a.connections),
      "-z",
      `${a.ms}ms`,
      ...rate,
      "--json",
    ],
  };
}

/** What ghz's --format json says that we use. */
interface GhzJson {
  count: number;
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution?: Record<string, number>;
}

async function runTool(
  tool: ToolRun["tool"],
  a: ToolArgs,
  signal: AbortSignal | undefined,
): Promise<ToolRun> {
  const { command, args } = commandOf(tool, a);
  const lines: string[] = [];
  const child = startChild({ name: tool, command, args, onStdoutLine: (l) => lines.push(l) });
  const t0 = performance.now();
  const samples: ProcessSample[] = [];
  const onAbort = (): void => child.kill();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    // Samples at fixed times into the run (a benchmark's clock, not a wait for a condition).
    for (const at of [1000, a.ms / 2, a.ms - 1000]) {
      const wait = at - (performance.now() - t0);
      if (wait > 0) await delay(wait, undefined, signal ? { signal } : {});
      const s = sampleProcess(child.pid, performance.now() - t0);
      if (s) samples.push(s);
    }
    const exit = await child.exited;
    signal?.throwIfAborted();
    if (exit.code !== 0 && !(tool === "grpc-lb load" && exit.code === 1))
      throw new LabError(`bench: ${tool} exited with ${exit.code ?? exit.signal}: ${child.stderrTail()}`);
    const text = lines.join("\n");
    const first = samples[0];
    const last = samples[samples.length - 1];
    const windowSec = first && last ? (last.atMs - first.atMs) / 1000 : 0;
    const parsed = parseReport(tool, text, a);
    // Calls in the window at the rate the tool reached (a tool that falls behind a fixed rate is not flattered).
    const windowCalls = parsed.callsPerSec * windowSec;
    const cpuSec = first && last ? last.cpuSec - first.cpuSec : 0;
    return {
      tool,
      ...parsed,
      cpuUsPerCall: windowCalls > 0 ? Math.round((cpuSec * 1e6) / windowCalls) : 0,
      rssMb: samples.map((s) => s.rssMb),
    };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (child.state().t === "running") await child.stop(1000);
  }
}

function parseReport(
  tool: ToolRun["tool"],
  text: string,
  a: ToolArgs,
): Pick<ToolRun, "calls" | "failed" | "callsPerSec" | "p50Ms" | "p99Ms"> {
  try {
    if (tool === "ghz") {
      const g = JSON.parse(text) as GhzJson;
      const at = (p: number): number =>
        Math.round((g.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? 0) / 1e4) / 100;
      const ok = g.statusCodeDistribution?.OK ?? 0;
      return {
        calls: g.count,
        failed: g.count - ok,
        callsPerSec: Math.round(g.rps),
        p50Ms: at(50),
        p99Ms: at(99),
      };
    }
    const r = JSON.parse(text) as LoadReport;
    return {
      calls: r.requests.total,
      failed: r.requests.failed,
      callsPerSec: Math.round((r.requests.total * 1000) / (r.durationMs || a.ms)),
      p50Ms: r.latencyMs.p50,
      p99Ms: r.latencyMs.p99,
    };
  } catch (e) {
    throw new LabError(`bench: cannot read ${tool}'s report: ${text.slice(0, 200)}`, { cause: e });
  }
}

const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : "-");

export function formatGhzBench(b: GhzBench): string {
  const row = (r: ToolRun): string =>
    `  ${r.tool.padEnd(13)} ${String(r.calls).padStart(7)} ${String(r.failed).padStart(6)} ${String(r.callsPerSec).padStart(8)} ${r.p50Ms.toFixed(2).padStart(7)} ${r.p99Ms.toFixed(2).padStart(7)} ${String(r.cpuUsPerCall).padStart(9)}  ${r.rssMb.map((m) => m.toFixed(0)).join("/")}`;
  const head = `  ${"tool".padEnd(13)} ${"calls".padStart(7)} ${"failed".padStart(6)} ${"calls/s".padStart(8)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"µs CPU/call".padStart(9)}  RSS MB start/mid/end`;
  const [ourRate, ghzRate] = b.fixedRate;
  const [ourLoop, ghzLoop] = b.closedLoop;
  const [ourMem, ghzMem] = b.memory;
  return [
    `grpc-lb load beside ghz through Envoy ${b.envoyVersion} (${b.target}) to 3 servers; ${b.connections} connections, concurrency ${b.concurrency}`,
    `fixed rate ${b.ratePerSec} calls/s:`,
    head,
    row(ourRate),
    row(ghzRate),
    "closed loop:",
    head,
    row(ourLoop),
    row(ghzLoop),
    `memory run at ${b.ratePerSec} calls/s:`,
    head,
    row(ourMem),
    row(ghzMem),
    "ratios (grpc-lb load / ghz):",
    `  CPU per call at ${b.ratePerSec} calls/s: ${ratio(ourRate.cpuUsPerCall, ghzRate.cpuUsPerCall)} (goal ≤ 1.00×)`,
    `  throughput, closed loop:        ${ratio(ourLoop.callsPerSec, ghzLoop.callsPerSec)} (goal ≥ 1.00×)`,
    `  RSS at the end of the long run: ${ratio(ourMem.rssMb.at(-1) ?? 0, ghzMem.rssMb.at(-1) ?? 0)}; ours grew ${((ourMem.rssMb.at(-1) ?? 0) - (ourMem.rssMb[0] ?? 0)).toFixed(0)} MB from start to end`,
    "",
  ].join("\n");
}
