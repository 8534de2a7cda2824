import { LB_POLICIES } from "../../../envoy/options.js";
import { UsageError } from "../../../errors.js";
import { SCENARIO_NAMES } from "../../../lab/scenarios/registry.js";
import { runScenario } from "../../../lab/scenarios/run.js";
import { formatScenarioReport } from "../../../scenarios/report.js";
import { choiceFlag, parseFlags } from "../../args.js";
import { type LabSubcommand, progress } from "./subcommand.js";

export const labScenario: LabSubcommand = {
  name: "scenario",
  summary: "keep load running through Envoy while the cluster changes; print a verdict",
  usage: `Usage: grpc-lb lab scenario NAME [options]

Starts the cluster NAME needs, keeps load running through Envoy while the
cluster changes, and prints a verdict (exit 0 pass, 1 fail). NAME is one of
${SCENARIO_NAMES.join(", ")}.

Options:
  --policy P             ${LB_POLICIES.join(" | ")} (default round_robin)
  --json                 print the report as one JSON object (progress goes to stderr)
  -h, --help             show this help
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "lab scenario",
      argv,
      { policy: { type: "string" }, json: { type: "boolean" } },
      true,
    );
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const name = choiceFlag("lab scenario", "scenario", positionals[0], SCENARIO_NAMES);
    if (name === undefined || positionals.length > 1) {
      throw new UsageError(
        `grpc-lb lab scenario: name one of ${SCENARIO_NAMES.join(", ")} (see grpc-lb lab scenario --help)`,
      );
    }
    const policy = choiceFlag("lab scenario", "policy", values.policy, LB_POLICIES);
    const report = await runScenario(name, policy ? { envoy: { policy } } : {}, progress(ctx), ctx.signal);
    ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatScenarioReport(report));
    return report.verdict === "pass" ? 0 : 1;
  },
};
