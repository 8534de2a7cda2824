import { setTimeout as delay } from "node:timers/promises";
import { type ProcessSample, sampleProcess } from "../compare/sampler.js";
import { LabError } from "../errors.js";
import { startChild } from "../proc/child.js";
import { commandOf, parseReport, type ToolArgs, type ToolRun } from "./tools.js";

/** Runs one tool as its own process, sampling its CPU and RSS from /proc at fixed times into the run. */
export async function runTool(
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
