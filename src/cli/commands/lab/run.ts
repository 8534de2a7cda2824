import { UsageError } from "../../../errors.js";
import { formatCrossCheck, runLab } from "../../../lab/run.js";
import { formatReportText } from "../../../loadgen/format-text.js";
import { PROXY_KINDS } from "../../../peers/options.js";
import { choiceFlag, intFlag, parseFlags } from "../../args.js";
import { CLUSTER_FLAGS, CLUSTER_FLAGS_USAGE, clusterOptions } from "./cluster-flags.js";
import { runLabThroughPeer } from "./peer.js";
import { type LabSubcommand, progress } from "./subcommand.js";

export const labRun: LabSubcommand = {
  name: "",
  summary: "start it, send the load through Envoy, print who answered, stop",
  usage: `Usage: grpc-lb lab [options]

Starts the local cluster, sends the calls through Envoy over one channel,
prints who answered (and Envoy's requests per host beside the client's
replies per server), and stops everything.

Options:
  -n, --requests N       calls to send (default 100)
  -c, --concurrency N    calls in flight at once over one channel (default 1)
  --proxy P              ${PROXY_KINDS.join(" | ")}: the balancing layer (default envoy);
                         haproxy and nginx are Debian's packages (make peers), configured
                         by their builders for gRPC (see docs/peers.md)
${CLUSTER_FLAGS_USAGE}
  --json                 print the report as one JSON object (progress goes to stderr)
  -h, --help             show this help
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "lab",
      argv,
      {
        ...CLUSTER_FLAGS,
        requests: { type: "string", short: "n" },
        concurrency: { type: "string", short: "c" },
        json: { type: "boolean" },
        proxy: { type: "string" },
      },
      true,
    );
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(
        `grpc-lb lab: unknown subcommand '${positionals.join(" ")}' (see grpc-lb lab --help)`,
      );
    }
    const options = {
      ...clusterOptions("lab", values),
      requests: intFlag("lab", "requests", values.requests, { min: 1, max: 10_000_000 }) ?? 100,
      concurrency: intFlag("lab", "concurrency", values.concurrency, { min: 1, max: 10_000 }) ?? 1,
    };
    const proxy = choiceFlag("lab", "proxy", values.proxy, PROXY_KINDS) ?? "envoy";
    if (proxy !== "envoy") return runLabThroughPeer(proxy, options, values.json === true, ctx);
    const report = await runLab(options, progress(ctx), ctx.signal);
    ctx.stdout(
      values.json
        ? `${JSON.stringify(report)}\n`
        : report.envoyHosts
          ? `${formatReportText(report)}\n${formatCrossCheck(report.envoyHosts)}`
          : formatReportText(report),
    );
    if (report.interrupted) return 130;
    return report.requests.failed === 0 && report.requests.ok > 0 ? 0 : 1;
  },
};
