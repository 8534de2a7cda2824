import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { BENCH_ROWS, type BenchRows, formatBench, runBench } from "../../../bench/bench.js";
import { describeProxyRun } from "../../../bench/proxies-report.js";
import { DEFAULT_SIZING_STEPS, type SizingOptions } from "../../../bench/sizing.js";
import { type SizingRun, type SizingStep, stepLabel } from "../../../bench/sizing-result.js";
import type { TlsCostOptions } from "../../../bench/tls-cost.js";
import { describeTlsCostRun } from "../../../bench/tls-cost-report.js";
import { UsageError } from "../../../errors.js";
import { MAX_LAB_INSTANCES } from "../../../lab/options.js";
import { PROXY_KINDS } from "../../../peers/options.js";
import { intFlag, parseFlags } from "../../args.js";
import { BENCH_COMMAND as COMMAND, listFlag, proxiesFlag } from "./bench-flags.js";
import { type LabSubcommand, progress } from "./subcommand.js";

export const labBench: LabSubcommand = {
  name: "bench",
  summary: "what the Envoy hop costs: added latency and Envoy CPU per call, as a sizing table",
  usage: `Usage: grpc-lb lab bench [options]

For Envoy with 1 and with 2 worker threads, each on a lab of 3 servers of its
own: Envoy's idle CPU first, then the same unary calls sent straight to the
servers (grpc-js round_robin over the lab's DNS) and through Envoy, run by run
alternating, at fixed rates (open loop) and in closed loops (1 in flight, and
saturation). Prints per row the calls/s reached, p50/p99 direct and via Envoy,
what Envoy adds, and Envoy's CPU per call (from /proc, net of its idle cost)
as cores per 1,000 calls/s.

Then what TLS costs, on one lab per mode, all up at once: plaintext, TLS on
Envoy's listener only (servers plaintext), TLS on both legs, and mTLS. Each
round runs the same load on every path in turn (client-side round robin to the
plaintext servers, and each mode's Envoy), then a loop of new connections
through each Envoy, each making one call. Prints per mode p50/p99 and what they
add, Envoy's and the servers' CPU per call net of idle, and the time and CPU of
a new connection.

With --proxies (or --rows proxies), what each hop costs in one run: Envoy,
HAProxy and nginx with the same workers in front of the same 3 servers, their
idle CPU measured together, then the sizing table's rates and closed loops
sent direct and through each proxy, the order rotating run by run. Prints per
proxy and load the p50/p99 added over direct, its CPU per call net of idle
(every process of it, from /proc) and cores per 1,000 calls/s, then Envoy
beside the better of the others. HAProxy and nginx come from 'make peers'.
Numbers only: a benchmark.

Options:
  --rows all|sizing|tls|proxies
                            which tables to measure (default all: sizing, tls, and
                            the proxies' with --proxies)
  --proxies LIST            the proxies to measure beside direct calls, of
                            ${PROXY_KINDS.join(",")} (default all three with --rows proxies)
  --proxy-workers N         worker threads or processes of each proxy (default 2)
  --envoy-concurrency LIST  Envoy worker counts to measure (default 1,2)
  --rates LIST              open-loop rates, calls/s (default ${rates(DEFAULT_SIZING_STEPS)})
  --closed LIST             closed-loop runs, calls in flight (default ${closed(DEFAULT_SIZING_STEPS)})
  --step-ms MS              length of each run (default 3000)
  --repeats N               runs of each row and path, alternating (default 3)
  --idle-ms MS              Envoy's idle window before the runs (default 5000)
  --tls-rate N              the TLS table's load, calls/s open loop (default 400)
  --tls-connections N       new connections per mode and round, at most --step-ms
                            long (default 200)
  --ghz PATH                then our load tool beside ghz (see 'lab bench-ghz')
  --scale-servers N         then scenario 'many' with N servers (125 per process): the time
                            until Envoy routes to them, its RSS and idle CPU, exact round
                            robin, half of them lost under load (make bench: 1000)
  --out FILE                also write every figure printed, as JSON, to FILE
  --json                    print the result as one JSON object
  -h, --help                show this help
`,
  async run(argv, ctx) {
    const { values } = parseFlags(COMMAND, argv, {
      "envoy-concurrency": { type: "string" },
      rates: { type: "string" },
      closed: { type: "string" },
      "step-ms": { type: "string" },
      repeats: { type: "string" },
      "idle-ms": { type: "string" },
      rows: { type: "string" },
      proxies: { type: "string" },
      "proxy-workers": { type: "string" },
      "tls-rate": { type: "string" },
      "tls-connections": { type: "string" },
      ghz: { type: "string" },
      "scale-servers": { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const int = (name: "step-ms" | "repeats" | "idle-ms", min: number, max: number) =>
      intFlag(COMMAND, name, values[name], { min, max });
    const envoyConcurrencies = listFlag("envoy-concurrency", values["envoy-concurrency"], 1, 64);
    const rateList = listFlag("rates", values.rates, 1, 100_000);
    const closedList = listFlag("closed", values.closed, 1, 1000);
    const steps: SizingStep[] | undefined =
      rateList === undefined && closedList === undefined
        ? undefined
        : [
            ...(rateList ?? []).map((rps): SizingStep => ({ kind: "rate", rps })),
            ...(closedList ?? []).map((concurrency): SizingStep => ({ kind: "closed", concurrency })),
          ];
    const stepMs = int("step-ms", 500, 600_000);
    const repeats = int("repeats", 1, 100);
    const idleMs = int("idle-ms", 1000, 600_000);
    const sizing: SizingOptions = {
      ...(envoyConcurrencies === undefined ? {} : { envoyConcurrencies }),
      ...(steps === undefined ? {} : { steps }),
      ...(stepMs === undefined ? {} : { stepMs }),
      ...(repeats === undefined ? {} : { repeats }),
      ...(idleMs === undefined ? {} : { idleMs }),
    };
    const rows = values.rows ?? "all";
    if (!BENCH_ROWS.includes(rows as BenchRows))
      throw new UsageError(
        `grpc-lb ${COMMAND}: --rows must be one of ${BENCH_ROWS.join(", ")}, got '${rows}'`,
      );
    const tlsRate = intFlag(COMMAND, "tls-rate", values["tls-rate"], { min: 1, max: 100_000 });
    const connections = intFlag(COMMAND, "tls-connections", values["tls-connections"], {
      min: 1,
      max: 100_000,
    });
    const tls: TlsCostOptions = {
      ...(tlsRate === undefined ? {} : { step: { kind: "rate", rps: tlsRate } }),
      ...(connections === undefined ? {} : { connections }),
      ...(stepMs === undefined ? {} : { stepMs }),
      ...(repeats === undefined ? {} : { repeats }),
      ...(idleMs === undefined ? {} : { idleMs }),
    };
    const proxies = proxiesFlag(
      values.proxies,
      intFlag(COMMAND, "proxy-workers", values["proxy-workers"], { min: 1, max: 64 }),
    );
    const scaleServers = intFlag(COMMAND, "scale-servers", values["scale-servers"], {
      min: 1,
      max: MAX_LAB_INSTANCES,
    });
    const result = await runBench(
      { rows: rows as BenchRows, sizing, tls, proxies, ghz: values.ghz, scaleServers },
      progress(ctx),
      {
        sizing: (r) => ctx.stderr(`${describeRun(r)}\n`),
        tls: (r) => ctx.stderr(`${describeTlsCostRun(r)}\n`),
        proxies: (r) => ctx.stderr(`${describeProxyRun(r)}\n`),
      },
      ctx.signal,
    );
    ctx.stdout(values.json ? `${JSON.stringify(result)}\n` : formatBench(result));
    if (values.out !== undefined) {
      await mkdir(dirname(values.out), { recursive: true });
      await writeFile(values.out, `${JSON.stringify(result, null, 2)}\n`);
      ctx.stderr(`bench: wrote every figure above, and each run's, to ${values.out}\n`);
    }
    const failed = [
      ...(result.sizing?.rows ?? []),
      ...(result.tls?.rows ?? []),
      ...(result.proxies?.rows ?? []),
    ].some((r) => r.failed > 0);
    return !failed && result.scale?.verdict !== "fail" ? 0 : 1;
  },
};

function rates(steps: readonly SizingStep[]): string {
  return steps.flatMap((s) => (s.kind === "rate" ? [s.rps] : [])).join(",");
}
function closed(steps: readonly SizingStep[]): string {
  return steps.flatMap((s) => (s.kind === "closed" ? [s.concurrency] : [])).join(",");
}

function describeRun(r: SizingRun): string {
  const cpu = r.envoyCpu === null ? "" : `, Envoy CPU ${r.envoyCpu.cpuSec.toFixed(2)} s`;
  return `bench: envoy workers ${r.envoyConcurrency}, ${stepLabel(r.step)}, ${r.path} run ${r.repeat + 1}: ${r.calls} calls at ${Math.round(r.callsPerSec)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.failed > 0 ? `, ${r.failed} failed` : ""}${cpu}`;
}
