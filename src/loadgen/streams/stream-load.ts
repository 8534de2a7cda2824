import { setMaxListeners } from "node:events";
import { LoadError } from "../../errors.js";
import { statusName } from "../report.js";
import { sumCounts } from "./ledger.js";
import { grpcJsStreamOpener } from "./open-grpc-js.js";
import { h2StreamOpener, type StreamConnectOptions } from "./open-h2.js";
import type { StreamKind, StreamOpener } from "./open-stream.js";
import { endsByStatus, type StreamReport, type StreamSample } from "./stream-report.js";
import { Subscription } from "./subscription.js";

export interface StreamLoadOptions extends StreamConnectOptions {
  /** h2 for one HOST:PORT, grpc-js for any target. */
  engine: "h2" | "grpc-js";
  /** grpc-js's balancing over a dns:/// target's addresses; default its own (pick_first). */
  lb?: "round_robin" | "pick_first";
  /** Subscribe (server streaming, the default) or Exchange (bidi, grpc-js engine only). */
  kind?: StreamKind;
  /** With an xds:/// target (grpc-js engine): the xDS server, host:port. Default none. */
  xdsServer?: string;
  /** Subscriptions held open at once. */
  streams: number;
  /** Pause between replies the server is asked for, in ms. */
  intervalMs: number;
  /** The client's maximum lifetime asked of each stream, in ms; 0 leaves it to the server. */
  maxLifetimeMs: number;
  /** How often streams per server are sampled, in ms. */
  sampleMs: number;
  /** Give up when the connections are not up within this, in ms. */
  connectTimeoutMs: number;
  /** Ends with no reply in a row before a subscription gives up. Default 20. */
  maxAttempts?: number;
  /** First pause before resuming after an end with no reply, in ms. Default 50. */
  backoffMs?: number;
}

/** Streams under way. */
export interface StreamLoadRun {
  /** Milliseconds since the streams started. */
  now(): number;
  /** Streams open per server now, by server_id. */
  openByServer(): Record<string, number>;
  /** The samples so far (a live array). */
  readonly samples: readonly StreamSample[];
  /** The report so far, while the streams go on. */
  snapshot(interrupted?: boolean): StreamReport;
  /** Cancels every stream and resolves with the report. */
  stop(interrupted?: boolean): Promise<StreamReport>;
}

/**
 * Connects, then holds `streams` subscriptions open (each resuming after every
 * end) until stopped, sampling streams per server every sampleMs.
 */
export async function startStreamLoad(o: StreamLoadOptions): Promise<StreamLoadRun> {
  const kind = o.kind ?? "subscribe";
  if (kind === "exchange" && o.engine === "h2")
    throw new LoadError(
      "Exchange (bidi) streams run on the grpc-js engine; the h2 engine sends one request per stream",
    );
  const opener: StreamOpener =
    o.engine === "h2"
      ? h2StreamOpener(o)
      : grpcJsStreamOpener({ ...o, lb: o.lb, kind, xdsServer: o.xdsServer });
  try {
    await opener.waitReady(o.connectTimeoutMs);
  } catch (e) {
    opener.close();
    throw e;
  }
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const stopper = new AbortController();
  // Every subscription listens for the stop.
  setMaxListeners(0, stopper.signal);
  const subs = Array.from(
    { length: o.streams },
    () =>
      new Subscription(opener, {
        intervalMs: o.intervalMs,
        maxLifetimeMs: o.maxLifetimeMs,
        maxAttempts: o.maxAttempts ?? 20,
        backoffMs: o.backoffMs ?? 50,
      }),
  );
  const running = Promise.all(subs.map((s) => s.run(stopper.signal)));
  const openByServer = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const s of subs) if (s.state.t === "open") out[s.state.serverId] = (out[s.state.serverId] ?? 0) + 1;
    return out;
  };
  const addresses: Record<string, string> = {};
  const samples: StreamSample[] = [];
  const sample = (): void => {
    for (const s of subs) if (s.state.t === "open") addresses[s.state.serverId] = s.state.address;
    const byServer = openByServer();
    samples.push({
      atMs: Math.round(now()),
      open: Object.values(byServer).reduce((a, b) => a + b, 0),
      byServer,
    });
  };
  sample();
  const sampler = setInterval(sample, o.sampleMs);
  const snapshot = (interrupted = false): StreamReport => {
    const messagesByServer: Record<string, number> = {};
    for (const s of subs)
      for (const [id, n] of s.messagesByServer) messagesByServer[id] = (messagesByServer[id] ?? 0) + n;
    const failed = subs.flatMap((s, i) =>
      s.state.t === "failed" ? [`stream ${i + 1}: ${statusName(s.state.code)} ${s.state.details}`] : [],
    );
    return {
      target: o.target,
      engine: o.engine,
      kind,
      streams: o.streams,
      intervalMs: o.intervalMs,
      maxLifetimeMs: o.maxLifetimeMs,
      durationMs: Math.round(now()),
      samples: [...samples],
      messagesByServer,
      addresses: { ...addresses },
      endsByStatus: endsByStatus(subs.flatMap((s) => s.ends.map((e) => e.code))),
      resumes: subs.reduce((a, s) => a + s.resumes, 0),
      ...sumCounts(subs.map((s) => s.ledger.totals())),
      failedStreams: failed.length,
      failures: failed.slice(0, 5),
      interrupted,
    };
  };
  let stopped: Promise<StreamReport> | undefined;
  return {
    now,
    openByServer,
    samples,
    snapshot,
    stop(interrupted = false) {
      stopped ??= (async () => {
        sample();
        clearInterval(sampler);
        stopper.abort();
        await running;
        opener.close();
        return snapshot(interrupted);
      })();
      return stopped;
    },
  };
}
