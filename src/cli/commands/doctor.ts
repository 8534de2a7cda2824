import { CHECKS } from "../../doctor/checks.js";
import { type DoctorOptions, type DoctorReport, exitFor, runDoctor } from "../../doctor/doctor.js";
import { SEVERITIES, type Severity } from "../../doctor/finding.js";
import { formatDoctorJson, formatDoctorText } from "../../doctor/format.js";
import { healthCaller, type LiveCaller, methodCaller } from "../../doctor/live.js";
import { checkConfigFile } from "../../doctor/offline/throwaway.js";
import { EnvoyAdmin } from "../../envoy/admin.js";
import { findEnvoy } from "../../envoy/binary.js";
import { DoctorError, messageOf, UsageError } from "../../errors.js";
import type { ClientTls } from "../../grpc/client-tls.js";
import { resolveMethod } from "../../grpc/method.js";
import { formatHostPort } from "../../util/address.js";
import { type Command, type CommandContext, choiceFlag, hostPortFlag, intFlag, parseFlags } from "../args.js";
import { CLIENT_TLS_FLAGS, CLIENT_TLS_USAGE, clientTlsOf } from "../tls-flags.js";

/** Exit status when the admin API is not an Envoy's or does not answer (as for bad usage). */
export const EXIT_NOT_ENVOY = 2;

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check an Envoy's gRPC balancing: a running one (config, hosts, live calls) or a config file",
  usage: `Usage: grpc-lb doctor --admin URL [options]
       grpc-lb doctor --config FILE [options]

Reads a running Envoy's configuration and state through its admin API
(/server_info, /config_dump, /clusters, /stats), finds the clusters that its
routes send gRPC to, and reports what would keep calls from being balanced per
request or would fail them. Each finding has a severity, the field and value it
saw, why it matters, Envoy's documentation and a fix as YAML. What it cannot
judge (a cluster named by a header, routes not yet received) it says in a note.

With --config it checks a bootstrap before it is deployed, in CI say: it starts
the file in a throwaway Envoy on loopback (listeners and admin on free ports,
names resolved by a DNS server of its own that knows none, nothing sent off this
machine, paths taken from the file's directory), reads its /config_dump and
/clusters, runs every check that needs no live call and stops that Envoy.
Hosts are not judged there: they are those of where the file is deployed.

Options:
  --admin URL             Envoy's admin API: http://HOST:PORT or HOST:PORT
  --config FILE           a bootstrap (YAML or JSON), or a Kubernetes ConfigMap holding one
  --config-key KEY        the ConfigMap key holding the bootstrap, when several do
  --fail-on SEVERITY      exit 1 on a finding of this severity or worse: error, warning or
                          info (default error)
  --cluster NAME          check only this cluster (default: every cluster routes send gRPC to)
  --listener HOST:PORT    also send calls through this listener and tell, from Envoy's
                          per-host request counters, which upstream took each
  -n, --requests N        live calls to send (default 10 per host, at least 30)
  --call METHOD           the live call: pkg.Service/Method (default grpc.health.v1.Health/Check)
  -d, --data JSON         its request as JSON (default {})
  --proto FILE            .proto file defining --call's method (repeatable); without it the
                          server is asked by reflection, through the listener
  -i, --import-paths DIR  where --proto's imports are found (repeatable, or comma-separated)
  --deadline-ms MS        deadline of each live call (default 2000)
  --format F              text or json (default text)
  --json                  the same as --format json
  -h, --help              show this help

The default live call is grpc.health.v1.Health/Check, which most gRPC servers serve;
whatever the method, Envoy's per-host counters tell which upstream took each call.

The live calls speak ${CLIENT_TLS_USAGE}

Checks:
${CHECKS.map((c) => `  ${c.id.padEnd(28)}${c.title}`).join("\n")}
  live-failed, live-unreached, live-imbalance   with --listener: what the calls saw

Exactly one of --admin and --config is needed; --listener and the live-call
options go with --admin. Envoy for --config: $ENVOY_BIN, envoy on $PATH, or the
checkout's .tools/bin/envoy.

Exit status: 0 when no finding is at --fail-on's severity or worse, 1 when one
is, 2 for bad usage, when the admin API does not answer or is not Envoy's, or
when Envoy refuses the --config file (its own message is printed).
`,
  async run(argv, ctx) {
    const { values } = parseFlags("doctor", argv, {
      admin: { type: "string" },
      config: { type: "string" },
      "config-key": { type: "string" },
      "fail-on": { type: "string" },
      cluster: { type: "string" },
      listener: { type: "string" },
      requests: { type: "string", short: "n" },
      "deadline-ms": { type: "string" },
      call: { type: "string" },
      data: { type: "string", short: "d" },
      proto: { type: "string", multiple: true },
      "import-paths": { type: "string", short: "i", multiple: true },
      format: { type: "string" },
      json: { type: "boolean" },
      ...CLIENT_TLS_FLAGS,
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if ((values.admin === undefined) === (values.config === undefined))
      throw new UsageError(
        "grpc-lb doctor: give --admin URL (a running Envoy) or --config FILE (a bootstrap), one of them, e.g. --admin http://127.0.0.1:9901",
      );
    if (values["config-key"] !== undefined && values.config === undefined)
      throw new UsageError("grpc-lb doctor: --config-key goes with --config FILE");
    const failOn = choiceFlag("doctor", "fail-on", values["fail-on"], SEVERITIES) ?? "error";
    const listenerHp = hostPortFlag("doctor", "listener", values.listener);
    if (values.config !== undefined && listenerHp !== undefined)
      throw new UsageError(
        "grpc-lb doctor: --listener sends live calls through a running Envoy: use it with --admin",
      );
    if (values.json && values.format !== undefined && values.format !== "json")
      throw new UsageError("grpc-lb doctor: --json and --format must agree (--json is --format json)");
    const format = values.json
      ? "json"
      : (choiceFlag("doctor", "format", values.format, ["text", "json"] as const) ?? "text");
    const requests = intFlag("doctor", "requests", values.requests, { min: 1, max: 100_000 });
    const deadlineMs =
      intFlag("doctor", "deadline-ms", values["deadline-ms"], { min: 1, max: 600_000 }) ?? 2000;
    const liveOnly = [
      "requests",
      "deadline-ms",
      "call",
      "data",
      "proto",
      "import-paths",
      ...(Object.keys(CLIENT_TLS_FLAGS) as (keyof typeof CLIENT_TLS_FLAGS)[]),
    ] as const;
    const stray = liveOnly.find((f) => values[f] !== undefined);
    if (listenerHp === undefined && stray !== undefined)
      throw new UsageError(`grpc-lb doctor: --${stray} is for live calls: add --listener HOST:PORT`);
    if (values.call === undefined && (values.data !== undefined || values.proto !== undefined))
      throw new UsageError("grpc-lb doctor: -d and --proto describe --call's request: add --call METHOD");

    if (values.config !== undefined) {
      const path = values.config;
      return printReport(
        () =>
          checkConfigFile({
            path,
            key: values["config-key"],
            cluster: values.cluster,
            envoyBinary: findEnvoy().path,
            signal: ctx.signal,
          }),
        { json: format === "json", failOn },
        ctx,
      );
    }
    const adminHp = hostPortFlag(
      "doctor",
      "admin",
      (values.admin ?? "").replace(/^http:\/\//, "").replace(/\/$/, ""),
    );
    const admin = new EnvoyAdmin(formatHostPort(adminHp?.host ?? "", adminHp?.port ?? 0));
    const listener = listenerHp === undefined ? undefined : formatHostPort(listenerHp.host, listenerHp.port);
    const tls = clientTlsOf("doctor", values);
    const caller =
      listener === undefined ? undefined : await callerOf(listener, values, deadlineMs, tls, ctx.signal);
    return doctorAndPrint(
      {
        admin,
        cluster: values.cluster,
        live:
          listener === undefined
            ? undefined
            : { listener, caller: caller ?? healthCaller(listener, tls), requests, deadlineMs },
        signal: ctx.signal,
      },
      format === "json",
      ctx,
      failOn,
    );
  },
};

/**
 * Runs doctor and prints its report; the exit status: 0 no error finding, 1 one, 2 when the
 * admin API is not Envoy's or does not answer. Shared by `doctor`, `compose doctor` and `k8s doctor`.
 */
export function doctorAndPrint(
  o: DoctorOptions,
  json: boolean,
  ctx: CommandContext,
  failOn: Severity = "error",
): Promise<number> {
  return printReport(() => runDoctor(o), { json, failOn }, ctx);
}

async function printReport(
  run: () => Promise<DoctorReport>,
  o: { json: boolean; failOn: Severity },
  ctx: CommandContext,
): Promise<number> {
  try {
    const report = await run();
    ctx.stdout(o.json ? formatDoctorJson(report) : formatDoctorText(report, o.failOn));
    return exitFor(report, o.failOn);
  } catch (e) {
    if (!(e instanceof DoctorError)) throw e;
    ctx.stderr(`grpc-lb: ${e.message}\n`);
    return EXIT_NOT_ENVOY;
  }
}

/** The live call: --call's method (by reflection through the listener, or --proto), else the health check. */
async function callerOf(
  listener: string,
  values: { call?: string; data?: string; proto?: string[]; "import-paths"?: string[] },
  deadlineMs: number,
  tls: ClientTls,
  signal: AbortSignal,
): Promise<LiveCaller> {
  if (values.call === undefined) return healthCaller(listener, tls);
  const name = values.call;
  let request: unknown = {};
  if (values.data !== undefined) {
    try {
      request = JSON.parse(values.data) as unknown;
    } catch (e) {
      throw new UsageError(`grpc-lb doctor: -d must be JSON: ${messageOf(e)}`, { cause: e });
    }
  }
  const method = await resolveMethod({
    target: listener,
    method: name,
    protoFiles: values.proto ?? [],
    importPaths: (values["import-paths"] ?? []).flatMap((p) => p.split(",")).filter((p) => p !== ""),
    deadlineMs,
    tls,
    signal,
  }).catch((e: unknown) => {
    throw e instanceof UsageError ? new UsageError(`grpc-lb doctor: --call ${name}: ${e.message}`) : e;
  });
  return methodCaller(listener, method, request, tls);
}
