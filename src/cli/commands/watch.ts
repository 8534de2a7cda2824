import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { messageOf, UsageError } from "../../errors.js";
import { formatHostPort } from "../../util/address.js";
import { VIEWS, viewFor } from "../../watch/views.js";
import { watchEnvoys } from "../../watch/watch.js";
import {
  type Command,
  type CommandContext,
  choiceFlag,
  durationFlag,
  hostPortFlag,
  intFlag,
  parseFlags,
} from "../args.js";

/** The flags of a watch besides the Envoys, as `watch`, `compose watch` and `k8s watch` take them. */
export const WATCH_FLAGS = {
  cluster: { type: "string" },
  interval: { type: "string" },
  format: { type: "string" },
  count: { type: "string" },
} as const;

/** The options and help lines every watch shares (after --admin). */
export const WATCH_USAGE = `  --cluster NAME     the cluster to show (default: the one with the most hosts,
                     leaving out xDS, SDS, tracing and admin clusters; it is named)
  --interval D       time between readings, e.g. 500ms, 1s, 2s (default 1s)
  --format F         text or json: one JSON object per line, per Envoy and
                     interval (default text)
  --count N          stop after N intervals (default: until Ctrl-C)`;

export const watchCommand: Command = {
  name: "watch",
  summary: "show, live, every host of an Envoy cluster: calls/s, in flight, share, errors, health",
  usage: `Usage: grpc-lb watch --admin URL [options]

Shows every host of one cluster of a running Envoy, read from its admin API
(/clusters?format=json) every --interval: calls per second (the growth of its
rq_total, retries included), requests and streams in flight (rq_active), its
share of the interval's calls, errors by kind (rq_error, rq_timeout,
cx_connect_fail), health flags and outlier ejection. Works on any Envoy.

The first reading has no rates (they are differences of two readings): the
terminal view says so, and --format json prints its first line after one
interval. Hosts that appear are marked new; hosts that go away are named once;
a counter that goes down (Envoy restarted) counts from 0, never below.

On a terminal the view is redrawn in place, with bars and colours (none with
NO_COLOR set); to a pipe or file it prints plain lines. Ctrl-C ends it (exit 0).

Options:
  --admin URL        Envoy's admin API: http://HOST:PORT or HOST:PORT (required);
                     repeat it to watch several Envoys, one section each
${WATCH_USAGE}
  -h, --help         show this help

Exit status: 0 when it ends (--count, Ctrl-C), 1 when an admin API does not
answer at the start, 2 for bad usage or an unknown --cluster (the clusters are listed).
`,
  async run(argv, ctx) {
    const { values } = parseFlags("watch", argv, {
      admin: { type: "string", multiple: true },
      ...WATCH_FLAGS,
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if (values.admin === undefined)
      throw new UsageError(
        "grpc-lb watch: --admin is required, e.g. --admin http://127.0.0.1:9901 (see --help)",
      );
    const admins = values.admin.map((a) => {
      const hp = hostPortFlag("watch", "admin", a.replace(/^http:\/\//, "").replace(/\/$/, ""));
      return formatHostPort(hp?.host ?? "", hp?.port ?? 0);
    });
    if (new Set(admins).size < admins.length)
      throw new UsageError(`grpc-lb watch: --admin names the same Envoy twice: ${admins.join(", ")}`);
    await showWatch(admins, watchFlags("watch", values), ctx);
    return 0;
  },
};

export interface WatchFlags {
  cluster: string | undefined;
  intervalMs: number;
  count: number | undefined;
  format: "text" | "json";
}

/** Checks WATCH_FLAGS' values for `command`: a bad one is a UsageError naming the command. */
export function watchFlags(
  command: string,
  values: { cluster?: string; interval?: string; format?: string; count?: string },
): WatchFlags {
  const intervalMs = durationFlag(command, "interval", values.interval) ?? 1000;
  if (intervalMs < 100 || intervalMs > 3_600_000)
    throw new UsageError(`grpc-lb ${command}: --interval must be from 100ms to 1h, got '${values.interval}'`);
  return {
    cluster: values.cluster,
    intervalMs,
    count: intFlag(command, "count", values.count, { min: 1, max: 1_000_000 }),
    format: choiceFlag(command, "format", values.format, ["text", "json"] as const) ?? "text",
  };
}

/** Where a watch is drawn: the text sink and the stream it ends in (a terminal or not, its size). */
export interface WatchOutput {
  write: (text: string) => void;
  stream: NodeJS.WriteStream;
}

/**
 * Watches the Envoys behind `admins` (host:port) until --count or ctx.signal (a clean end),
 * on stdout unless `to` says otherwise (a scenario's --watch draws on stderr); `names` name
 * their sections (default: the admin APIs).
 */
export async function showWatch(
  admins: readonly string[],
  f: WatchFlags,
  ctx: CommandContext,
  to: WatchOutput = { write: ctx.stdout, stream: process.stdout },
  names?: readonly string[],
): Promise<void> {
  const out = to.stream;
  const { kind, colour } = viewFor(f.format, { isTTY: out.isTTY === true, env: process.env });
  const view = VIEWS[kind]({
    write: to.write,
    intervalMs: f.intervalMs,
    colour,
    columns: out.columns || 80,
    rows: out.rows || 24,
  });
  try {
    await watchEnvoys(
      {
        admins,
        ...(names ? { names } : {}),
        cluster: f.cluster,
        intervalMs: f.intervalMs,
        count: f.count,
        signal: ctx.signal,
      },
      view,
    );
  } catch (e) {
    // Ctrl-C (or SIGTERM) is how a live view ends: a clean stop, not a failure.
    if (!ctx.signal.aborted) throw e;
  } finally {
    view.close();
  }
}

/** Something shown while a scenario runs, stopped when it ends. */
export interface Shown {
  stop(): Promise<void>;
}

/**
 * A scenario's --watch: cluster 'server' of the Envoys at `admins` (sections named `names`)
 * drawn on stderr every second (redrawn in place on a terminal), until stop() or Ctrl-C. A
 * watch that fails says why and leaves the scenario alone.
 */
export function watchDuring(
  admins: string | readonly string[],
  ctx: CommandContext,
  names?: readonly string[],
): Shown {
  const ac = new AbortController();
  const forward = (): void => ac.abort();
  ctx.signal.addEventListener("abort", forward, { once: true });
  const flags: WatchFlags = { cluster: CLUSTER_NAME, intervalMs: 1000, count: undefined, format: "text" };
  const done = showWatch(
    typeof admins === "string" ? [admins] : admins,
    flags,
    { ...ctx, signal: ac.signal },
    { write: ctx.stderr, stream: process.stderr },
    names,
  ).catch((e: unknown) => ctx.stderr(`watch: ${messageOf(e)}\n`));
  return {
    async stop() {
      ac.abort();
      ctx.signal.removeEventListener("abort", forward);
      await done;
    },
  };
}
