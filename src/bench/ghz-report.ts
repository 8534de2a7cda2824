import type { GhzBench } from "./ghz.js";
import type { ToolRun } from "./tools.js";

const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : "-");

export function formatGhzBench(b: GhzBench): string {
  const row = (r: ToolRun): string =>
    `  ${r.tool.padEnd(13)} ${String(r.calls).padStart(7)} ${String(r.failed).padStart(6)} ${String(r.callsPerSec).padStart(8)} ${r.p50Ms.toFixed(2).padStart(7)} ${r.p99Ms.toFixed(2).padStart(7)} ${String(r.cpuUsPerCall).padStart(9)}  ${r.rssMb.map((m) => m.toFixed(0)).join("/")}`;
  const head = `  ${"tool".padEnd(13)} ${"calls".padStart(7)} ${"failed".padStart(6)} ${"calls/s".padStart(8)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"µs CPU/call".padStart(9)}  RSS MB start/mid/end`;
  const [ourRate, ghzRate] = b.fixedRate;
  const [ourLoop, ghzLoop] = b.closedLoop;
  const [ourMem, ghzMem] = b.memory;
  return [
    `grpc-lb load beside ghz through Envoy ${b.envoyVersion} (${b.target}) to 3 servers; ${b.connections} connections, concurrency ${b.concurrency}; grpc-lb load on ${b.workers === 1 ? "1 thread" : `${b.workers} worker threads`}`,
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
