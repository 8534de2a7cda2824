import { CHECKS } from "../../doctor/checks.js";
import { type DoctorOptions, runDoctor } from "../../doctor/doctor.js";
import { formatDoctorJson, formatDoctorText } from "../../doctor/format.js";
import { healthCaller } from "../../doctor/live.js";
import { EnvoyAdmin } from "../../envoy/admin.js";
import { DoctorError, UsageError } from "../../errors.js";
import { formatHostPort } from "../../util/address.js";
import { type Command, type CommandContext, choiceFlag, hostPortFlag, intFlag, parseFlags } from "../args.js";

/** Exit status when the admin API is not an Envoy's or does not answer (as for bad usage). */
export const EXIT_NOT_ENVOY = 2;

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check a running Envoy's gRPC balancing: config, hosts, live calls",
  usage: `Usage: grpc-lb doctor --admin URL [options]

Reads a running Envoy's configuration and state through its admin API
(/server_info, /config_dump, /clusters, /stats), finds the clusters that its
routes send gRPC to, and reports what would keep calls from being balanced per
request or would fail them. Each finding has a severity, the field and value it
saw, why it matters, Envoy's documentation and a fix as YAML.

Options:
  --admin URL             Envoy's admin API: http://HOST:PORT or HOST:PORT (required)
  --cluster NAME          check only this cluster (default: every cluster routes send gRPC to)
  --listener HOST:PORT    also send calls through this listener and tell, from Envoy's
                          per-host request counters, which upstream took each
  -n, --requests N        live calls to send (default 10 per host, at least 30)
  --deadline-ms MS        deadline of each live call (default 2000)
  --format F              text or json (default text)
  --json                  the same as --format json
  -h, --help              show this help

The live call is grpc.health.v1.Health/Check, which most gRPC servers serve.

Checks:
${CHECKS.map((c) => `  ${c.id.padEnd(28)}${c.title}`).join("\n")}
  live-failed, live-unreached, live-imbalance   with --listener: what the calls saw

Exit status: 0 when no finding is an error, 1 when one is, 2 for bad usage or
when the admin API does not answer or is not Envoy's.
`,
  async run(argv, ctx) {
    const { values } = parseFlags("doctor", argv, {
      admin: { type: "string" },
      cluster: { type: "string" },
      listener: { type: "string" },
      requests: { type: "string", short: "n" },
      "deadline-ms": { type: "string" },
      format: { type: "string" },
      json: { type: "boolean" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if (values.admin === undefined)
      throw new UsageError("grpc-lb doctor: --admin URL is required, e.g. --admin http://127.0.0.1:9901");
    const adminHp = hostPortFlag(
      "doctor",
      "admin",
      values.admin.replace(/^http:\/\//, "").replace(/\/$/, ""),
    );
    const listenerHp = hostPortFlag("doctor", "listener", values.listener);
    if (values.json && values.format !== undefined && values.format !== "json")
      throw new UsageError("grpc-lb doctor: --json and --format must agree (--json is --format json)");
    const format = values.json
      ? "json"
      : (choiceFlag("doctor", "format", values.format, ["text", "json"] as const) ?? "text");
    const requests = intFlag("doctor", "requests", values.requests, { min: 1, max: 100_000 });
    const deadlineMs =
      intFlag("doctor", "deadline-ms", values["deadline-ms"], { min: 1, max: 600_000 }) ?? 2000;
    if (listenerHp === undefined && (requests !== undefined || values["deadline-ms"] !== undefined))
      throw new UsageError(
        "grpc-lb doctor: --requests and --deadline-ms are for live calls: add --listener HOST:PORT",
      );

    const admin = new EnvoyAdmin(formatHostPort(adminHp?.host ?? "", adminHp?.port ?? 0));
    const listener = listenerHp === undefined ? undefined : formatHostPort(listenerHp.host, listenerHp.port);
    return doctorAndPrint(
      {
        admin,
        cluster: values.cluster,
        live:
          listener === undefined
            ? undefined
            : { listener, caller: healthCaller(listener), requests, deadlineMs },
        signal: ctx.signal,
      },
      format === "json",
      ctx,
    );
  },
};

/**
 * Runs doctor and prints its report; the exit status: 0 no error finding, 1 one, 2 when the
 * admin API is not Envoy's or does not answer. Shared by `doctor`, `compose doctor` and `k8s doctor`.
 */
export async function doctorAndPrint(o: DoctorOptions, json: boolean, ctx: CommandContext): Promise<number> {
  try {
    const report = await runDoctor(o);
    ctx.stdout(json ? formatDoctorJson(report) : formatDoctorText(report));
    return report.counts.error > 0 ? 1 : 0;
  } catch (e) {
    if (!(e instanceof DoctorError)) throw e;
    ctx.stderr(`grpc-lb: ${e.message}\n`);
    return EXIT_NOT_ENVOY;
  }
}
