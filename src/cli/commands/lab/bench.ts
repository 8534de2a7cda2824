import { formatBench, runBench } from "../../../lab/bench.js";
import { intFlag, parseFlags } from "../../args.js";
import { type LabSubcommand, progress } from "./subcommand.js";

export const labBench: LabSubcommand = {
  name: "bench",
  summary: "measure calls/s and latency straight to one server vs through Envoy",
  usage: `Usage: grpc-lb lab bench [options]

Starts a cluster of 3 and measures calls/s and latency straight to one server
vs through Envoy, at concurrency 1, 8 and 32. Numbers only: a benchmark.

Options:
  -n, --requests N       calls per measurement (default 3000)
  --json                 print the result as one JSON object
  -h, --help             show this help
`,
  async run(argv, ctx) {
    const { values } = parseFlags("lab bench", argv, {
      requests: { type: "string", short: "n" },
      json: { type: "boolean" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const requests = intFlag("lab bench", "requests", values.requests, { min: 1, max: 1_000_000 });
    const result = await runBench(requests === undefined ? {} : { requests }, progress(ctx), ctx.signal);
    ctx.stdout(values.json ? `${JSON.stringify(result)}\n` : formatBench(result));
    return result.rows.every((r) => r.failed === 0) ? 0 : 1;
  },
};
