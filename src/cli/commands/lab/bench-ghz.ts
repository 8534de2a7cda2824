import { runGhzBench } from "../../../bench/ghz.js";
import { formatGhzBench } from "../../../bench/ghz-report.js";
import { UsageError } from "../../../errors.js";
import { intFlag, parseFlags } from "../../args.js";
import { type LabSubcommand, progress } from "./subcommand.js";

export const labBenchGhz: LabSubcommand = {
  name: "bench-ghz",
  summary: "our load tool beside ghz on the same lab: CPU per call, throughput, memory",
  usage: `Usage: grpc-lb lab bench-ghz --ghz PATH [options]

Starts a cluster of 3 and runs 'grpc-lb load' and ghz, one after the other,
against the same Envoy listener with the same connections and concurrency:
at a fixed rate (CPU per call, from /proc), in a closed loop (throughput),
and for a long run at the fixed rate (RSS at start, middle and end). Prints
the ratios. Numbers only: a benchmark ('make bench' builds ghz into .tools/).

Options:
  --ghz PATH              the ghz binary (required)
  --connections N         connections of both tools (default 4)
  -c, --concurrency N     calls in flight, ghz's -c (default 32)
  --rate R                the fixed rate, calls/s (default 1000)
  --run-ms MS             length of the fixed-rate and closed-loop runs (default 10000)
  --memory-run-ms MS      length of the memory run (default 60000)
  --workers N             worker threads of grpc-lb load (default: the number of cores,
                          at most --connections); ghz uses every core by itself
  --json                  print the result as one JSON object
  -h, --help              show this help
`,
  async run(argv, ctx) {
    const { values } = parseFlags("lab bench-ghz", argv, {
      ghz: { type: "string" },
      connections: { type: "string" },
      concurrency: { type: "string", short: "c" },
      rate: { type: "string" },
      "run-ms": { type: "string" },
      "memory-run-ms": { type: "string" },
      workers: { type: "string" },
      json: { type: "boolean" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if (values.ghz === undefined)
      throw new UsageError(
        "grpc-lb lab bench-ghz: --ghz PATH is required (make bench builds it into .tools/bin/ghz)",
      );
    const int = (name: keyof typeof values, min: number, max: number) =>
      intFlag("lab bench-ghz", name, values[name] as string | undefined, { min, max });
    const connections = int("connections", 1, 100);
    const concurrency = int("concurrency", 1, 1000);
    const ratePerSec = int("rate", 1, 100_000);
    const runMs = int("run-ms", 3000, 600_000);
    const memoryRunMs = int("memory-run-ms", 3000, 600_000);
    const workers = int("workers", 1, 256);
    if (connections !== undefined && concurrency !== undefined && connections > concurrency)
      throw new UsageError(
        "grpc-lb lab bench-ghz: --connections cannot exceed --concurrency (ghz needs a worker per connection)",
      );
    const result = await runGhzBench(
      {
        ghz: values.ghz,
        ...(connections === undefined ? {} : { connections }),
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(ratePerSec === undefined ? {} : { ratePerSec }),
        ...(runMs === undefined ? {} : { runMs }),
        ...(memoryRunMs === undefined ? {} : { memoryRunMs }),
        ...(workers === undefined ? {} : { workers }),
      },
      progress(ctx),
      ctx.signal,
    );
    ctx.stdout(values.json ? `${JSON.stringify(result)}\n` : formatGhzBench(result));
    return 0;
  },
};
