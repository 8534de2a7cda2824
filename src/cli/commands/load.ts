import { UsageError } from "../../errors.js";
import { formatReportText } from "../../loadgen/format-text.js";
import { runLoad } from "../../loadgen/run-load.js";
import { formatHostPort } from "../../util/address.js";
import { type Command, hostPortFlag, intFlag, parseFlags } from "../args.js";

export const loadCommand: Command = {
  name: "load",
  summary: "send Echo calls over one channel and count who answered",
  usage: `Usage: grpc-lb load --target HOST:PORT [options]

Sends unary Echo calls over ONE gRPC channel (one HTTP/2 connection) and prints
how many each backend, by server_id, answered, with latency percentiles.

Options:
  --target HOST:PORT        where to send (Envoy's listener; required)
  -n, --requests N          number of calls (default 100)
  -c, --concurrency N       calls in flight at once (default 1)
  --deadline-ms MS          deadline of each call (default 5000)
  --connect-timeout-ms MS   give up if the channel cannot connect in time (default 5000)
  --json                    print one JSON object instead of the table
  -h, --help                show this help

Exit status: 0 when every call succeeded, 1 when any failed or the target was
unreachable, 2 for bad usage, 130 when interrupted (the report covers the calls made).
`,
  async run(argv, ctx) {
    const { values } = parseFlags("load", argv, {
      target: { type: "string" },
      requests: { type: "string", short: "n" },
      concurrency: { type: "string", short: "c" },
      "deadline-ms": { type: "string" },
      "connect-timeout-ms": { type: "string" },
      json: { type: "boolean" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const target = hostPortFlag("load", "target", values.target);
    if (target === undefined)
      throw new UsageError("grpc-lb load: --target HOST:PORT is required (see grpc-lb load --help)");
    const report = await runLoad({
      target: formatHostPort(target.host, target.port),
      requests: intFlag("load", "requests", values.requests, { min: 1, max: 10_000_000 }),
      concurrency: intFlag("load", "concurrency", values.concurrency, { min: 1, max: 10_000 }),
      deadlineMs: intFlag("load", "deadline-ms", values["deadline-ms"], { min: 1, max: 3_600_000 }),
      connectTimeoutMs: intFlag("load", "connect-timeout-ms", values["connect-timeout-ms"], {
        min: 1,
        max: 3_600_000,
      }),
      signal: ctx.signal,
    });
    ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatReportText(report));
    // Cut short by a signal: the report covers what ran, but the run did not succeed.
    if (report.interrupted) return 130;
    return report.requests.failed === 0 && report.requests.ok > 0 ? 0 : 1;
  },
};
