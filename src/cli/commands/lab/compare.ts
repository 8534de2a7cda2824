import { writeFile } from "node:fs/promises";
import { allModes, modeName } from "../../../compare/modes.js";
import {
  type CompareWorkloadKind,
  type ResolvedCompareOptions,
  resolveCompareOptions,
  WORKLOAD_KINDS,
} from "../../../compare/options.js";
import { formatCompareText } from "../../../compare/report.js";
import { type CompareHooks, runCompare } from "../../../compare/run.js";
import { formatStreamsCompareText } from "../../../compare/streams-report.js";
import { runStreamsCompare } from "../../../compare/streams-run.js";
import { errorFrom, LabError, UsageError } from "../../../errors.js";
import { choiceFlag, intFlag, parseFlags } from "../../args.js";
import { type LabSubcommand, progress } from "./subcommand.js";

const write = async (file: string, text: string): Promise<void> =>
  writeFile(file, text).catch((e: unknown) => {
    throw errorFrom(LabError, e, `compare: cannot write ${file}`);
  });

export const labCompare: LabSubcommand = {
  name: "compare",
  summary:
    "one workload through L4, each Envoy policy, client-side, HAProxy and nginx, with a kill and a scale-out",
  usage: `Usage: grpc-lb lab compare [options]

Runs one workload through every way of balancing, each on a fresh lab:
${allModes(2000)
  .map((m) => `  ${modeName(m)}`)
  .join("\n")}
and kills server 2 (kill -9) mid-run in each, then a fourth server joins DNS
(a scale-out). Prints per mode the share per server and its coefficient of
variation (before the kill), p50/p99 overall and per server, failed calls
after the kill, the CPU seconds of the balancing layer (Envoy, the kube-proxy
stand-in, HAProxy, nginx, or the client itself), and the newcomer's share of
the calls after it joined with the time to its first call. haproxy and nginx
need Debian's packages ('make peers').

With --workload streams, each mode holds long-lived Subscribe streams instead
of sending calls (no kill unless --kill-at-ms asks for one) and prints per mode
the streams per server before and after the newcomer joined, its share of
them, streams ended and resumed, replies lost or duplicated, failed streams.

Options:
  --workload unary|streams   calls at --rate (default), or long-lived streams
  --streams N                with --workload streams: streams per mode (default 30)
  --stream-interval-ms MS    with --workload streams: pause between a stream's replies (default 100)
  --servers N                servers (default 3)
  --slow-server MS           server 1 answers this much slower (default 20)
  --connections N            client connections (default 4)
  --rate R                   unary: calls started per second (default 200)
  --concurrency N            unary: most calls in flight (default 64)
  --duration-ms MS           load per mode (default 10000)
  --kill-at-ms MS            when server 2 is killed (default half the duration; with
                             streams, none); 0: no kill
  --scale-at-ms MS           when a new server joins DNS, after the kill (default 60 % of
                             the duration); 0: no scale-out
  --max-connection-age-ms MS the servers' max connection age in l4-max-age (default 2000)
  --modes A,B                only these modes (default all; with --tls, the envoy-* modes)
  --tls                      TLS on both legs, clients trusting the lab's CA; only the envoy-*
                             modes run over it (L4 and client-side clients reach the servers)
  --mtls                     with --tls: servers also require Envoy's client certificate
  --json                     print the report as one JSON object
  --output FILE              write the JSON report to FILE
  --html FILE                write a self-contained HTML page with the charts to FILE
  -h, --help                 show this help
`,
  async run(argv, ctx) {
    const { values } = parseFlags("lab compare", argv, {
      servers: { type: "string" },
      "slow-server": { type: "string" },
      connections: { type: "string" },
      rate: { type: "string" },
      concurrency: { type: "string" },
      "duration-ms": { type: "string" },
      "kill-at-ms": { type: "string" },
      "scale-at-ms": { type: "string" },
      "max-connection-age-ms": { type: "string" },
      modes: { type: "string" },
      tls: { type: "boolean" },
      mtls: { type: "boolean" },
      json: { type: "boolean" },
      output: { type: "string" },
      html: { type: "string" },
      workload: { type: "string" },
      streams: { type: "string" },
      "stream-interval-ms": { type: "string" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const int = (name: keyof typeof values, min: number, max: number) =>
      intFlag("lab compare", name, values[name] as string | undefined, { min, max });
    const killAt = int("kill-at-ms", 0, 3_600_000);
    const scaleAt = int("scale-at-ms", 0, 3_600_000);
    if (values.mtls && !values.tls) throw new UsageError("grpc-lb lab compare: --mtls needs --tls");
    const o = resolveCompareOptions({
      ...defined({
        servers: int("servers", 1, 16),
        slowServerMs: int("slow-server", 0, 60_000),
        connections: int("connections", 1, 1000),
        ratePerSec: int("rate", 1, 100_000),
        concurrency: int("concurrency", 1, 10_000),
        durationMs: int("duration-ms", 500, 600_000),
        maxConnectionAgeMs: int("max-connection-age-ms", 1, 3_600_000),
        modes: values.modes?.split(",").map((m) => m.trim()),
        tls: values.tls ? (values.mtls ? "mtls" : "tls") : undefined,
        workload: choiceFlag("lab compare", "workload", values.workload, WORKLOAD_KINDS),
        streams: int("streams", 1, 10_000),
        streamIntervalMs: int("stream-interval-ms", 1, 60_000),
      }),
      ...(killAt === undefined ? {} : { killAtMs: killAt === 0 ? null : killAt }),
      ...(scaleAt === undefined ? {} : { scaleAtMs: scaleAt === 0 ? null : scaleAt }),
    });
    const hooks: CompareHooks = {
      onEvent: progress(ctx),
      onMode: (mode) => ctx.stderr(`compare: mode ${mode}\n`),
      signal: ctx.signal,
    };
    const w = o.workload;
    const out = w.kind === "streams" ? await streamsOutput(o, w, hooks) : await unaryOutput(o, hooks);
    if (values.output !== undefined) await write(values.output, out.json);
    if (values.html !== undefined) await write(values.html, await out.html());
    ctx.stdout(values.json ? out.json : out.text);
    return 0;
  },
};

/** A finished comparison in each of its formats. */
interface CompareOutput {
  json: string;
  text: string;
  html(): Promise<string>;
}

// vega and its d3 modules load only for --html: every other command starts without them.
async function unaryOutput(o: ResolvedCompareOptions, h: CompareHooks): Promise<CompareOutput> {
  const report = await runCompare(o, h.onEvent, h.onMode, h.signal);
  return {
    json: `${JSON.stringify(report)}\n`,
    text: formatCompareText(report),
    html: async () => (await import("../../../compare/html.js")).formatCompareHtml(report),
  };
}

async function streamsOutput(
  o: ResolvedCompareOptions,
  w: Extract<CompareWorkloadKind, { kind: "streams" }>,
  h: CompareHooks,
): Promise<CompareOutput> {
  const report = await runStreamsCompare(o, w, h);
  return {
    json: `${JSON.stringify(report)}\n`,
    text: formatStreamsCompareText(report),
    html: async () => (await import("../../../compare/streams-html.js")).formatStreamsCompareHtml(report),
  };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
