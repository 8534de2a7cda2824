import { LabError } from "../errors.js";
import type { LoadReport } from "../loadgen/report.js";
import { cliEntry } from "../paths.js";

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

const ECHO_METHOD = "lbdemo.v1.Echo.Echo";

export interface ToolArgs {
  target: string;
  connections: number;
  concurrency: number;
  rps: number | undefined;
  ms: number;
  ghz: string;
  /** Our tool's worker threads (ghz uses every core by itself). */
  workers: number;
}

export function commandOf(tool: ToolRun["tool"], a: ToolArgs): { command: string; args: string[] } {
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
      // The default method, spelled as ghz is given it.
      "--call",
      ECHO_METHOD,
      "-c",
      String(a.concurrency),
      "--connections",
      String(a.connections),
      "--workers",
      String(a.workers),
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

export function parseReport(
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
