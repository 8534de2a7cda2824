import { writeFile } from "node:fs/promises";
import { errorFrom, LoadError, messageOf, UsageError } from "../../errors.js";
import { ECHO_METHOD, ECHO_STREAM_METHOD, type GrpcMethod, resolveMethod } from "../../grpc/method.js";
import { isXdsTarget } from "../../grpc/xds-channel.js";
import type { CallSpec } from "../../loadgen/calls.js";
import type { EngineOptions, LoadProgress } from "../../loadgen/engine.js";
import { chooseEngine, defaultWorkers, ENGINES } from "../../loadgen/engine-choice.js";
import { formatReportCsv } from "../../loadgen/format-csv.js";
import { formatReportHtml } from "../../loadgen/format-html.js";
import { formatReportJson } from "../../loadgen/format-json.js";
import type { BackendListingOptions } from "../../loadgen/format-summary.js";
import { formatReportText } from "../../loadgen/format-text.js";
import { checkBalance } from "../../loadgen/gate.js";
import { keepHeapSmall } from "../../loadgen/heap.js";
import type { LoadReport } from "../../loadgen/report.js";
import type { Schedule } from "../../loadgen/schedule.js";
import { startWorkerLoad, usableWorkers } from "../../loadgen/worker-load.js";
import { formatHostPort } from "../../util/address.js";
import { type Command, choiceFlag, durationFlag, hostPortFlag, intFlag, parseFlags } from "../args.js";
import { CLIENT_TLS_FLAGS, CLIENT_TLS_USAGE, clientTlsOf } from "../tls-flags.js";
import { XDS_USAGE, xdsTargetOf } from "../xds-flags.js";
import { runStreamLoad, STREAM_FLAGS, STREAM_USAGE } from "./load-streams.js";

const FORMATS = {
  text: formatReportText,
  json: formatReportJson,
  csv: formatReportCsv,
  html: formatReportHtml,
} as const satisfies Record<string, (r: LoadReport, o: BackendListingOptions) => string>;
type Format = keyof typeof FORMATS;

/** Exit status when every call succeeded but the distribution missed --expect-backends or --max-imbalance. */
export const EXIT_UNBALANCED = 3;
/** A progress line appears (on a terminal) only for runs longer than this, in ms. */
const PROGRESS_AFTER_MS = 3000;

export const loadCommand: Command = {
  name: "load",
  summary: "send calls of any gRPC method over N connections and count who answered",
  usage: `Usage: grpc-lb load --target TARGET [options]

Sends calls of a gRPC method (Echo by default) over one or more connections and
prints how many each backend answered: share, latency p50/p99, which backend
each connection landed on, calls per second per backend, and the imbalance.

Who answered is known, best first, by:
  server-id       the server_id of the Echo service's replies (lbdemo.v1.Echo methods)
  envoy-counters  with --envoy-admin: Envoy's per-host counters (rq_success) before and after
                  the run, for any method through that Envoy; no latency per backend
  peer            each call's peer address, for other methods: the backend for a server or a
                  dns:/// target, but the proxy itself through Envoy or an L4 balancer

Target:
  --target TARGET           HOST:PORT (Envoy's listener, an L4 balancer, one server),
                            dns:///NAME:PORT for client-side balancing by grpc-js, or
                            xds:///NAME for proxyless gRPC (grpc-js-xds) (required)
  --dns-server HOST:PORT    with dns:///NAME:PORT: ask this DNS server (grpc-js dns://HOST:PORT/NAME:PORT)
${XDS_USAGE}
  --lb POLICY               client-side policy for dns targets: round_robin or pick_first
  --engine E                h2 (gRPC over node:http2, for one HOST:PORT) or grpc-js (any target;
                            client-side balancing); default h2 for HOST:PORT, grpc-js for dns:///
                            and xds:///

${CLIENT_TLS_USAGE}

Load (flag names as ghz's):
  -n, --requests N          bound on calls (default 100 when no --duration)
  -z, --duration D          bound on time, e.g. 500ms, 10s, 1m30s (both bounds: the first reached ends it)
  -c, --concurrency N       most calls in flight at once, over all connections (default 1)
  --connections N           HTTP/2 connections (each its own channel); calls go to them in turn (default 1)
  --workers N               threads sending calls, each owning its share of --connections, -c, -n
                            and the rate; one merged report (default: half the cores with h2, the
                            cores with grpc-js, lowered to --connections, -c and -n; more than
                            --connections or -c is an error);
                            1 sends from the main thread. Start-up is reported, not timed
  --rps R                   open loop: start R calls per second (default: closed loop)
  --load-schedule S         const (--rps), step or line (default const)
  --load-start R            step/line: starting calls per second
  --load-end R              step/line: hold the rate once it reaches R (default: no limit)
  --load-step R             step: change per step; line: change per second (may be negative)
  --load-step-duration D    step: how long each step lasts (default 1s)
  --load-max-duration D     step/line: hold the rate after this long (default: no limit)
  --new-connection-every K  replace a connection after K calls on it (connection churn; default 0: never)
  --call METHOD             pkg.Service/Method or pkg.Service.Method (default ${ECHO_METHOD});
                            ${ECHO_STREAM_METHOD} is the server-streaming Echo
  -d, --data JSON           the request as JSON (default {"message":"hello"} for Echo, {} otherwise);
                            for a client- or bidi-streaming method a JSON array is sent one by one,
                            then the client half-closes; a call counts by its final status
  --proto FILE              .proto file defining the method (repeatable); without it the server is
                            asked by reflection (grpc.reflection.v1, then v1alpha); Echo needs neither
  -i, --import-paths DIR    where --proto's imports are found (repeatable, or comma-separated)
  --stream-replies N        replies per stream of ${ECHO_STREAM_METHOD} (default 5, or -d's count)
  --metadata K=V            a header on every call (repeatable)
  --hash-key-space K        put one of K keys, in turn, in header --hash-header on each call
  --hash-header NAME        header for --hash-key-space (default x-hash-key)
  --deadline-ms MS          deadline of each call (default 5000)
  --connect-timeout-ms MS   give up if a connection cannot be made in time (default 5000)

${STREAM_USAGE}
Who answered:
  --envoy-admin HOST:PORT   Envoy's admin API (http://HOST:PORT too): count by its per-host counters
  --envoy-cluster NAME      the Envoy cluster to count (default: the one whose counters moved;
                            with several, hosts are named cluster/host:port)

Report:
  --format F                text, json, csv or html (default text)
  --json                    the same as --format json
  --output FILE             write the report to FILE instead of stdout
  --all-backends            text and html: every backend's row and column, also past 20
                            (default past 20: the 5 busiest, the 5 least busy, a histogram)
  --expect-backends N       exit 3 unless exactly N backends answered
  --max-imbalance PCT       exit 3 if the busiest backend answered more than PCT% more calls
                            than the least busy one (backends expected but silent count as 0)
  -h, --help                show this help

A progress line appears on stderr for runs longer than a few seconds when stderr is a terminal.
Exit status: 0 when every call succeeded, 1 when any failed or the target was
unreachable, 2 for bad usage, 3 when the balance gate was missed, 130 when
interrupted (in-flight calls are cancelled; the report covers the calls made).
`,
  async run(argv, ctx) {
    const { values } = parseFlags("load", argv, {
      target: { type: "string" },
      "dns-server": { type: "string" },
      "xds-server": { type: "string" },
      lb: { type: "string" },
      engine: { type: "string" },
      requests: { type: "string", short: "n" },
      duration: { type: "string", short: "z" },
      concurrency: { type: "string", short: "c" },
      connections: { type: "string" },
      workers: { type: "string" },
      rps: { type: "string" },
      "load-schedule": { type: "string" },
      "load-start": { type: "string" },
      "load-end": { type: "string" },
      "load-step": { type: "string" },
      "load-step-duration": { type: "string" },
      "load-max-duration": { type: "string" },
      "new-connection-every": { type: "string" },
      call: { type: "string" },
      data: { type: "string", short: "d" },
      proto: { type: "string", multiple: true },
      "import-paths": { type: "string", short: "i", multiple: true },
      "stream-replies": { type: "string" },
      "envoy-admin": { type: "string" },
      "envoy-cluster": { type: "string" },
      metadata: { type: "string", multiple: true },
      "hash-key-space": { type: "string" },
      "hash-header": { type: "string" },
      "deadline-ms": { type: "string" },
      "connect-timeout-ms": { type: "string" },
      format: { type: "string" },
      json: { type: "boolean" },
      output: { type: "string" },
      "all-backends": { type: "boolean" },
      "expect-backends": { type: "string" },
      "max-imbalance": { type: "string" },
      streams: { type: "string" },
      "stream-interval-ms": { type: "string" },
      "stream-kind": { type: "string" },
      "stream-lifetime-ms": { type: "string" },
      "sample-ms": { type: "string" },
      ...CLIENT_TLS_FLAGS,
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const int = (name: keyof typeof values, min: number, max: number): number | undefined =>
      intFlag("load", name, values[name] as string | undefined, { min, max });
    const flags: Flags = values;
    const num = (name: string, min: number): number | undefined =>
      numberFlag(name, flags[name] as string | undefined, min);
    const dur = (name: string): number | undefined =>
      durationFlag("load", name, flags[name] as string | undefined);

    const lb = choiceFlag("load", "lb", values.lb, ["round_robin", "pick_first"] as const);
    const target = targetOf(values.target, values["dns-server"], lb);
    const xdsServer = xdsTargetOf("load", target, {
      xdsServer: values["xds-server"],
      dnsServer: values["dns-server"],
      lb,
    });
    const engine = chooseEngine(choiceFlag("load", "engine", values.engine, ENGINES), target);
    const tls = clientTlsOf("load", values);
    if (values.json && values.format !== undefined && values.format !== "json")
      throw new UsageError("grpc-lb load: --json and --format must agree (--json is --format json)");
    const format: Format = values.json
      ? "json"
      : (choiceFlag("load", "format", values.format, Object.keys(FORMATS) as Format[]) ?? "text");
    const connections = int("connections", 1, 1000) ?? 1;
    const connectTimeoutMs = int("connect-timeout-ms", 1, 3_600_000) ?? 5000;
    const metadata = (values.metadata ?? []).map(metadataPair);
    if (values.streams !== undefined) {
      const output = values.output;
      return runStreamLoad(
        {
          target,
          xdsServer,
          engine,
          tls,
          lb,
          format,
          connections,
          connectTimeoutMs,
          metadata,
          output,
          values,
        },
        ctx,
      );
    }
    const streamOnly = STREAM_FLAGS.find((f) => values[f] !== undefined);
    if (streamOnly !== undefined)
      throw new UsageError(`grpc-lb load: --${streamOnly} is for long-lived streams; add --streams N`);
    const methodName = values.call ?? ECHO_METHOD;
    if (methodName === "unary" || methodName === "stream")
      throw new UsageError(
        `grpc-lb load: --call takes a method now, as ghz's does: --call ${methodName === "unary" ? ECHO_METHOD : ECHO_STREAM_METHOD} (was --call ${methodName})`,
      );
    const data = jsonFlag(values.data);
    const replies = int("stream-replies", 1, 1000);
    const envoyAdmin = adminFlag(values["envoy-admin"]);
    if (values["envoy-cluster"] !== undefined && envoyAdmin === undefined)
      throw new UsageError("grpc-lb load: --envoy-cluster needs --envoy-admin");
    const hashSpace = int("hash-key-space", 1, 1_000_000);
    const hashHeader = values["hash-header"] ?? "x-hash-key";
    if (!/^[0-9a-z_.-]+$/.test(hashHeader))
      throw new UsageError(
        `grpc-lb load: --hash-header must be a lower-case header name, got '${hashHeader}'`,
      );
    const durationMs = dur("duration");
    const requests = int("requests", 1, 10_000_000) ?? (durationMs === undefined ? 100 : undefined);

    const schedule = scheduleOf(flags, num, dur);
    const concurrency = int("concurrency", 1, 10_000) ?? 1;
    const workers = workersOf(int("workers", 1, 256), defaultWorkers(engine), {
      connections,
      concurrency,
      requests,
    });
    const deadlineMs = int("deadline-ms", 1, 3_600_000) ?? 5000;
    const newConnectionEvery = int("new-connection-every", 0, 10_000_000) ?? 0;
    const gate = {
      expectBackends: int("expect-backends", 1, 10_000),
      maxImbalancePct: num("max-imbalance", 0),
    };
    // Every flag is checked before the server is asked about the method.
    const method = await resolveMethod({
      target,
      method: methodName,
      protoFiles: values.proto ?? [],
      importPaths: (values["import-paths"] ?? []).flatMap((p) => p.split(",")).filter((p) => p !== ""),
      deadlineMs: connectTimeoutMs,
      signal: ctx.signal,
      tls,
    }).catch((e: unknown) => {
      throw e instanceof UsageError ? new UsageError(`grpc-lb load: --call ${methodName}: ${e.message}`) : e;
    });
    const call = callOf(method, data, replies);

    const options: EngineOptions = {
      target,
      requests,
      connections,
      concurrency,
      schedule,
      call,
      deadlineMs,
      connectTimeoutMs,
      metadata,
      hashKey: hashSpace === undefined ? undefined : { header: hashHeader, space: hashSpace },
      newConnectionEvery,
      lb,
      xdsServer,
      tls,
      engine,
      envoyCounters:
        envoyAdmin === undefined ? undefined : { admin: envoyAdmin, cluster: values["envoy-cluster"] },
      signal: ctx.signal,
      cancelOnAbort: true,
      onStart: (connectMs) =>
        ctx.stderr(
          `load: ${connections === 1 ? "1 connection" : `${connections} connections`} to ${target}${workers === 1 ? "" : ` from ${workers} worker threads`} up after ${Math.round(connectMs)} ms; sending (${engine} engine)\n`,
        ),
      ...(durationMs === undefined ? {} : { durationMs }),
    };

    keepHeapSmall();
    const run = startWorkerLoad({ ...options, workers });
    const progress = process.stderr.isTTY ? startProgress(run.progress, ctx.stderr) : undefined;
    let report: LoadReport;
    try {
      report = await run.done;
    } finally {
      progress?.stop();
    }
    const text = FORMATS[format](report, { allBackends: values["all-backends"] === true });
    if (values.output === undefined) ctx.stdout(text);
    else
      await writeFile(values.output, text).catch((e: unknown) => {
        throw errorFrom(LoadError, e, `cannot write the report to ${values.output}`);
      });
    if (report.interrupted) return 130;
    if (report.requests.failed > 0 || report.requests.ok === 0) return 1;
    const reason = checkBalance(report, gate);
    if (reason !== undefined) {
      ctx.stderr(`grpc-lb: load: ${reason}\n`);
      return EXIT_UNBALANCED;
    }
    return 0;
  },
};

/**
 * What each call is: Echo's own methods as the engine's Echo calls (who
 * answered is the reply's server_id), any other method as it is.
 */
function callOf(method: GrpcMethod, data: unknown, replies: number | undefined): CallSpec {
  const request = (json: unknown): Record<string, unknown> => {
    try {
      return method.requestObject(json);
    } catch (e) {
      throw new UsageError(`grpc-lb load: -d: ${messageOf(e)}`, { cause: e });
    }
  };
  const path = method.path.slice(1);
  if (replies !== undefined && path !== ECHO_STREAM_METHOD)
    throw new UsageError(
      `grpc-lb load: --stream-replies is for --call ${ECHO_STREAM_METHOD}; other methods take their request from -d`,
    );
  if (path === ECHO_METHOD) {
    const r = request(data ?? { message: "hello" });
    return { kind: "unary", message: String(r.message) };
  }
  if (path === ECHO_STREAM_METHOD) {
    const r = request(data ?? { message: "hello" });
    const count = Number(r.count);
    return {
      kind: "stream",
      message: String(r.message),
      replies: replies ?? (count > 0 ? count : 5),
      intervalMs: Number(r.interval_ms),
    };
  }
  const json = data ?? {};
  // Serialized here too so that a request which does not fit is a usage error named after -d.
  for (const item of method.requestStream && Array.isArray(json) ? json : [json]) request(item);
  return { kind: "method", method, request: json };
}

/**
 * The worker threads of a run. Each owns at least one connection and one call
 * in flight, so an explicit --workers above --connections or -c is a usage
 * error; the default (see defaultWorkers) is lowered to fit, and any value to -n.
 */
function workersOf(
  asked: number | undefined,
  byDefault: number,
  {
    connections,
    concurrency,
    requests,
  }: { connections: number; concurrency: number; requests: number | undefined },
): number {
  if (asked !== undefined && asked > Math.min(connections, concurrency))
    throw new UsageError(
      `grpc-lb load: --workers ${asked} needs at least ${asked} connections and -c ${asked} (each worker thread owns its connections and calls); got --connections ${connections} -c ${concurrency}`,
    );
  return usableWorkers(asked ?? byDefault, { connections, concurrency, requests });
}

/** -d's JSON, parsed; undefined when absent. */
function jsonFlag(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`grpc-lb load: -d must be JSON: ${messageOf(e)}`, { cause: e });
  }
}

/** --envoy-admin as host:port; an http:// URL of the admin API is taken too. */
function adminFlag(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const hp = hostPortFlag("load", "envoy-admin", text.replace(/^http:\/\//, "").replace(/\/$/, ""));
  return formatHostPort(hp?.host ?? "", hp?.port ?? 0);
}

/** The grpc-js target: HOST:PORT as given, or a dns: target with --dns-server as its authority. */
function targetOf(target: string | undefined, dnsServer: string | undefined, lb: string | undefined): string {
  if (target === undefined)
    throw new UsageError(
      "grpc-lb load: --target HOST:PORT is required, or dns:///NAME:PORT (see grpc-lb load --help)",
    );
  if (isXdsTarget(target)) return target;
  const dns = /^dns:\/\/([^/]*)\/([^/]+)$/.exec(target);
  if (dns === null) {
    if (dnsServer !== undefined || lb !== undefined)
      throw new UsageError("grpc-lb load: --dns-server and --lb need a dns:///NAME:PORT target");
    const hp = hostPortFlag("load", "target", target);
    return formatHostPort(hp?.host ?? "", hp?.port ?? 0);
  }
  const [, authority = "", name = ""] = dns;
  if (hostPortFlag("load", "target", name) === undefined) return target;
  if (dnsServer === undefined) return target;
  if (authority !== "")
    throw new UsageError(
      `grpc-lb load: --dns-server given and the target '${target}' names a DNS server too`,
    );
  const server = hostPortFlag("load", "dns-server", dnsServer);
  return `dns://${formatHostPort(server?.host ?? "", server?.port ?? 0)}/${name}`;
}

type Flags = Record<string, string | boolean | string[] | undefined>;

/** ghz's schedule flags as a Schedule; closed loop when neither --rps nor --load-schedule is given. */
function scheduleOf(
  values: Flags,
  num: (name: string, min: number) => number | undefined,
  dur: (name: string) => number | undefined,
): Schedule {
  const kind = choiceFlag(
    "load",
    "load-schedule",
    values["load-schedule"] as string | undefined,
    ["const", "step", "line"] as const,
  );
  const rps = num("rps", 0.1);
  const rampFlags = ["load-start", "load-end", "load-step", "load-step-duration", "load-max-duration"];
  if (kind === undefined || kind === "const") {
    const stray = rampFlags.find((f) => values[f] !== undefined);
    if (stray) throw new UsageError(`grpc-lb load: --${stray} needs --load-schedule step or line`);
    if (kind === "const" && rps === undefined)
      throw new UsageError("grpc-lb load: --load-schedule const needs --rps");
    return rps === undefined ? { kind: "closed" } : { kind: "const", rps };
  }
  if (rps !== undefined) throw new UsageError(`grpc-lb load: --rps is for const; ${kind} uses --load-start`);
  const startRps = num("load-start", 0.1);
  const stepRps =
    values["load-step"] === undefined
      ? undefined
      : numberFlag("load-step", values["load-step"] as string, Number.NEGATIVE_INFINITY);
  if (startRps === undefined || stepRps === undefined)
    throw new UsageError(`grpc-lb load: --load-schedule ${kind} needs --load-start and --load-step`);
  const endRps = num("load-end", 0.1) ?? null;
  const maxRampMs = dur("load-max-duration") ?? null;
  if (kind === "line") {
    if (values["load-step-duration"] !== undefined)
      throw new UsageError("grpc-lb load: --load-step-duration is for step; line changes every second");
    return { kind, startRps, endRps, stepRps, maxRampMs };
  }
  return { kind, startRps, endRps, stepRps, stepDurationMs: dur("load-step-duration") ?? 1000, maxRampMs };
}

/** A number flag (calls/s, percent): undefined when absent. */
function numberFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min)
    throw new UsageError(
      `grpc-lb load: --${name} must be a number${Number.isFinite(min) ? ` of at least ${min}` : ""}, got '${value}'`,
    );
  return n;
}

function metadataPair(text: string): [string, string] {
  const eq = text.indexOf("=");
  const key = eq < 0 ? "" : text.slice(0, eq).trim().toLowerCase();
  if (!/^[0-9a-z_.-]+$/.test(key) || key.startsWith("grpc-"))
    throw new UsageError(
      `grpc-lb load: --metadata must be KEY=VALUE with a header name as KEY, got '${text}'`,
    );
  return [key, text.slice(eq + 1)];
}

/** Rewrites one stderr line every second once the run is past a few seconds. */
function startProgress(progress: () => LoadProgress, write: (t: string) => void): { stop(): void } {
  let shown = false;
  const timer = setInterval(() => {
    const p = progress();
    if (p.elapsedMs < PROGRESS_AFTER_MS) return;
    shown = true;
    write(
      `\rload: ${(p.elapsedMs / 1000).toFixed(0)} s, ${p.ok} ok, ${p.failed} failed, ${p.inFlight} in flight\x1b[K`,
    );
  }, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (shown) write("\r\x1b[K");
    },
  };
}
