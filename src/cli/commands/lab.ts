import type { Command } from "../args.js";
import { labBench } from "./lab/bench.js";
import { labBenchGhz } from "./lab/bench-ghz.js";
import { labCompare } from "./lab/compare.js";
import { labRun } from "./lab/run.js";
import { labScenario } from "./lab/scenario.js";
import type { LabSubcommand } from "./lab/subcommand.js";
import { labUp } from "./lab/up.js";

/** Subcommands after the plain run; each parses its own flags. */
const SUBCOMMANDS: readonly LabSubcommand[] = [labUp, labBench, labBenchGhz, labScenario, labCompare];

export const labCommand: Command = {
  name: "lab",
  summary: "the local cluster: DNS + N servers + a real Envoy on loopback",
  usage: `Usage: grpc-lb lab [SUBCOMMAND] [options]

Runs the whole system on this machine with no Docker: a small DNS server that
answers 'server' with one A record per server, N Echo servers each on its own
loopback address (127.77.0.x, one shared port), and Envoy discovering them by
DNS and balancing every request.

  grpc-lb lab            ${labRun.summary}
${SUBCOMMANDS.map((s) => `  grpc-lb lab ${s.name.padEnd(10)} ${s.summary}`).join("\n")}

'grpc-lb lab SUBCOMMAND --help' lists each one's options; the plain run's:

${labRun.usage.slice(labRun.usage.indexOf("Options:"))}
Everything started is stopped at the end, on Ctrl-C (exit 130), and when any
part fails to start (whose error is shown). Envoy comes from ENVOY_BIN, PATH,
or .tools/ (see 'make setup'); without any, it says how to install it.
`,
  async run(argv, ctx) {
    const [first, ...rest] = argv;
    const sub = SUBCOMMANDS.find((s) => s.name === first);
    if (sub !== undefined) return sub.run(rest, ctx);
    if (argv.includes("--help") || argv.includes("-h")) {
      ctx.stdout(this.usage);
      return 0;
    }
    return labRun.run(argv, ctx);
  },
};
