import { writeFile } from "node:fs/promises";
import { errorFrom, LoadError, UsageError } from "../../errors.js";
import type { ClientTls } from "../../grpc/client-tls.js";
import type { EngineKind } from "../../loadgen/engine-options.js";
import { startStreamLoad } from "../../loadgen/streams/stream-load.js";
import { formatStreamReportText } from "../../loadgen/streams/stream-report.js";
import { type CommandContext, choiceFlag, durationFlag, intFlag } from "../args.js";

const STREAM_KINDS = ["subscribe", "exchange"] as const;

/** The flags that mean something only beside --streams. */
export const STREAM_FLAGS = ["stream-kind", "stream-interval-ms", "stream-lifetime-ms", "sample-ms"] as const;

/** The flags of `load --streams`, as they read in `load --help`. */
export const STREAM_USAGE = `Long-lived streams (lbdemo.v1.Echo/Subscribe, or Exchange):
  --streams N               hold N Subscribe streams open for --duration (default 10s) instead of
                            sending calls; each resumes after every end from the last sequence
                            number it received. The report gives streams per server over time,
                            replies per server, ends by status, resumes, and replies lost or
                            duplicated (exit 1 unless both are 0 and no stream gave up)
  --stream-kind K           subscribe (server streaming, the default) or exchange (bidi: the client
                            sends a numbered message every --stream-interval-ms, the server answers
                            each; after an end the unanswered ones are sent again; grpc-js engine)
  --stream-interval-ms MS   pause between a stream's replies (default 100)
  --stream-lifetime-ms MS   ask the server to end each stream cleanly after this long, so that it
                            resumes, maybe on another server (default 0: the server's own maximum)
  --sample-ms MS            how often streams per server are sampled (default 1000)
`;

/** What `load` has already read and checked of its own flags. */
export interface StreamRunInput {
  target: string;
  /** With an xds:/// target: the xDS server, host:port. */
  xdsServer: string | undefined;
  engine: EngineKind;
  tls: ClientTls;
  lb: "round_robin" | "pick_first" | undefined;
  format: string;
  connections: number;
  connectTimeoutMs: number;
  metadata: [string, string][];
  output: string | undefined;
  values: Record<string, unknown>;
}

/** `grpc-lb load --streams N`: holds the streams, prints the stream report; the exit status. */
export async function runStreamLoad(i: StreamRunInput, ctx: CommandContext): Promise<number> {
  const flag = (name: string, min: number, max: number): number | undefined =>
    intFlag("load", name, i.values[name] as string | undefined, { min, max });
  if (i.format !== "text" && i.format !== "json")
    throw new UsageError(`grpc-lb load: --streams reports as text or json, not ${i.format}`);
  const streams = flag("streams", 1, 10_000) ?? 1;
  const kind = choiceFlag("load", "stream-kind", i.values["stream-kind"] as string | undefined, STREAM_KINDS);
  let engine = i.engine;
  if (kind === "exchange" && engine === "h2") {
    if (i.values.engine !== undefined)
      throw new UsageError(
        "grpc-lb load: --stream-kind exchange runs on --engine grpc-js (the h2 engine sends one request per stream)",
      );
    engine = "grpc-js";
  }
  const durationMs = durationFlag("load", "duration", i.values.duration as string | undefined) ?? 10_000;
  const run = await startStreamLoad({
    target: i.target,
    engine,
    ...(kind ? { kind } : {}),
    ...(i.xdsServer ? { xdsServer: i.xdsServer } : {}),
    tls: i.tls,
    ...(i.lb ? { lb: i.lb } : {}),
    connections: i.connections,
    keepaliveMs: 0,
    metadata: i.metadata,
    streams,
    intervalMs: flag("stream-interval-ms", 1, 10_000) ?? 100,
    maxLifetimeMs: flag("stream-lifetime-ms", 0, 86_400_000) ?? 0,
    sampleMs: flag("sample-ms", 10, 3_600_000) ?? 1000,
    connectTimeoutMs: i.connectTimeoutMs,
  });
  ctx.stderr(`load: ${streams} streams to ${i.target} (${engine} engine) for ${durationMs} ms\n`);
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), durationMs);
    ctx.signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
  const report = await run.stop(ended);
  const text = i.format === "json" ? `${JSON.stringify(report)}\n` : formatStreamReportText(report);
  if (i.output === undefined) ctx.stdout(text);
  else
    await writeFile(i.output, text).catch((e: unknown) => {
      throw errorFrom(LoadError, e, `cannot write the report to ${i.output}`);
    });
  if (report.interrupted) return 130;
  return report.lost === 0 && report.duplicated === 0 && report.failedStreams === 0 ? 0 : 1;
}
