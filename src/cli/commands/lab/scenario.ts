import { LB_POLICIES } from "../../../envoy/options.js";
import { UsageError } from "../../../errors.js";
import { type LabOptions, layerLabOptions, MAX_LAB_INSTANCES } from "../../../lab/options.js";
import { SCENARIO_NAMES, scenarios } from "../../../lab/scenarios/registry.js";
import { runScenario } from "../../../lab/scenarios/run.js";
import { formatScenarioReport } from "../../../scenarios/report.js";
import { choiceFlag, intFlag, parseFlags } from "../../args.js";
import { watchDuring } from "../watch.js";
import { type LabSubcommand, progress } from "./subcommand.js";

/** Scenarios that work at any size (LabScenario.sizable). */
const sizable = SCENARIO_NAMES.filter((n) => scenarios[n].sizable);

/** --servers, --servers-per-process and --hc-interval-ms as lab options, for a sizable scenario only. */
function sizeOptions(
  name: (typeof SCENARIO_NAMES)[number],
  v: { servers?: string; "servers-per-process"?: string; "hc-interval-ms"?: string },
): LabOptions {
  const given = (["servers", "servers-per-process", "hc-interval-ms"] as const).filter(
    (k) => v[k] !== undefined,
  );
  if (given.length === 0) return {};
  const scenario = scenarios[name];
  if (!scenario.sizable) {
    throw new UsageError(
      `grpc-lb lab scenario: --${given[0]} is for ${sizable.join(", ")} only, not ${name}`,
    );
  }
  const cmd = "lab scenario";
  const servers = intFlag(cmd, "servers", v.servers, { min: 1, max: MAX_LAB_INSTANCES });
  const perProcess = intFlag(cmd, "servers-per-process", v["servers-per-process"], {
    min: 1,
    max: MAX_LAB_INSTANCES,
  });
  const intervalMs = intFlag(cmd, "hc-interval-ms", v["hc-interval-ms"], { min: 10, max: 600_000 });
  const hc = scenario.labOptions.envoy?.healthCheck;
  if (intervalMs !== undefined && (hc === undefined || hc === false)) {
    throw new UsageError(`grpc-lb lab scenario: ${name} runs no health checks to set an interval for`);
  }
  return {
    ...(servers === undefined ? {} : { servers }),
    ...(perProcess === undefined ? {} : { serversPerProcess: perProcess }),
    ...(intervalMs === undefined || hc === undefined || hc === false
      ? {}
      : { envoy: { healthCheck: { ...hc, intervalMs } } }),
  };
}

export const labScenario: LabSubcommand = {
  name: "scenario",
  summary: "keep load running through Envoy while the cluster changes; print a verdict",
  usage: `Usage: grpc-lb lab scenario NAME [options]

Starts the cluster NAME needs, keeps load running through Envoy while the
cluster changes, and prints a verdict (exit 0 pass, 1 fail). NAME is one of
${SCENARIO_NAMES.join(", ")}.

Options:
  --policy P             ${LB_POLICIES.join(" | ")} (default round_robin)
  --tls                  TLS on both legs, the load and every probe trusting the lab's CA
                         (cert-rotation runs over TLS without it)
  --mtls                 with --tls: servers also require Envoy's client certificate
  --json                 print the report as one JSON object (progress goes to stderr)
  --watch                show Envoy's hosts live on stderr while it runs, as grpc-lb watch
                         does (in place of the progress lines on a terminal)
  -h, --help             show this help

For ${sizable.join(", ")} only:
  --servers N            servers, 1-${MAX_LAB_INSTANCES} (default: the scenario's)
  --servers-per-process N
                         instances each server process runs, each on its own address
                         with its own id (default: the scenario's)
  --hc-interval-ms MS    Envoy's health-check interval for every host (default: the scenario's)
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "lab scenario",
      argv,
      {
        policy: { type: "string" },
        tls: { type: "boolean" },
        mtls: { type: "boolean" },
        json: { type: "boolean" },
        watch: { type: "boolean" },
        servers: { type: "string" },
        "servers-per-process": { type: "string" },
        "hc-interval-ms": { type: "string" },
      },
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
    if (values.mtls && !values.tls) throw new UsageError("grpc-lb lab scenario: --mtls needs --tls");
    const report = await runScenario(
      name,
      layerLabOptions(
        sizeOptions(name, values),
        policy ? { envoy: { policy } } : {},
        values.tls ? { tls: values.mtls ? "mtls" : "tls" } : {},
      ),
      // On a terminal the live view is the progress: lines between its redraws would tear it.
      values.watch && process.stderr.isTTY ? () => {} : progress(ctx),
      ctx.signal,
      values.watch ? (admin) => watchDuring(admin, ctx) : undefined,
    );
    ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatScenarioReport(report));
    return report.verdict === "pass" ? 0 : 1;
  },
};
