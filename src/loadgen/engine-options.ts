import { LoadError } from "../errors.js";
import type { ClientLbPolicy } from "../grpc/channel.js";
import { type ClientTls, INSECURE } from "../grpc/client-tls.js";
import type { CallSpec } from "./calls.js";
import type { CallOutcome, LoadRecorder, ReportMeta } from "./recorder.js";
import type { Attribution, CallShape } from "./report.js";
import type { Schedule } from "./schedule.js";

/**
 * How calls reach the target: "grpc-js" channels (any target, client-side
 * balancing, retry policies) or "h2", this project's own gRPC over node:http2
 * for one host:port, which costs less CPU per call.
 */
export type EngineKind = "h2" | "grpc-js";

export interface EngineOptions {
  /** host:port (Envoy's listener, an L4 proxy, one server) or a grpc-js target such as dns://HOST:PORT/NAME:PORT. */
  target: string;
  /** Channels open at once, each its own HTTP/2 connection; calls go to them in turn. Default 1. */
  connections?: number;
  /** Most calls in flight at once, over all connections. Default 1. */
  concurrency?: number;
  /** Bound on calls started; at least one of `requests` and `durationMs` is required. */
  requests?: number;
  /** Bound on time, in ms: no call starts after it. */
  durationMs?: number;
  /** When calls start. Default closed loop. */
  schedule?: Schedule;
  /** What each call is. Default unary Echo of "hello". */
  call?: CallSpec;
  /**
   * Count who answered by Envoy's per-host counters, read from its admin API (host:port)
   * before and after the run, in `cluster` or in the clusters whose counters moved; calls
   * are then not attributed one by one. Default none: by server_id (Echo) or peer.
   */
  envoyCounters?: { admin: string; cluster?: string | undefined } | undefined;
  /** Deadline of each call, in ms. Default 5000. */
  deadlineMs?: number;
  /** Wait this long for every connection before the first call, in ms; 0 starts at once. Default 5000. */
  connectTimeoutMs?: number;
  /** Headers sent with every call. Default none. */
  metadata?: readonly (readonly [string, string])[];
  /** A header carrying one of `space` keys, in turn, per call (for hash policies). Default none. */
  hashKey?: { header: string; space: number } | undefined;
  /** Replace a connection after this many calls on it; 0 never. Default 0. */
  newConnectionEvery?: number;
  /** grpc-js balancing policy for client-side targets. Default none. */
  lb?: ClientLbPolicy | undefined;
  /** With an xds:/// target (proxyless gRPC): the xDS server, host:port. Default none. */
  xdsServer?: string | undefined;
  /** HTTP/2 keepalive of each connection: a PING every this many ms, given up after as long; 0 none. Default 0. */
  keepaliveMs?: number;
  /** A retry policy for UNAVAILABLE, up to this many attempts in all; 0 none. Default 0. */
  retryUnavailableAttempts?: number;
  /** How every connection is secured (ghz's --insecure, --cacert, …). Default plaintext. */
  tls?: ClientTls;
  /** Stops starting calls; the report covers the calls made and says `interrupted`. */
  signal?: AbortSignal | undefined;
  /** On `signal`, cancel the calls in flight too instead of letting them finish. Default false. */
  cancelOnAbort?: boolean;
  /** Told of every finished call, in completion order. */
  onCall?: (c: CallOutcome) => void;
  /** Told once the connections are up, just before the first call, with how long connecting took in ms. */
  onStart?: (connectMs: number) => void;
  /**
   * This engine's part of a run over `of` connections shared among several
   * engines (worker threads): its `connections` are the run's slots
   * `firstSlot` onwards, and it starts exactly the calls of the run's one
   * sequence that the run gives those slots (call i goes to slot i mod `of` + 1),
   * at their times in the schedule, so -n and the rate stay the run's and the
   * parts add up to it. Default the whole run: slot 1 of `connections`.
   */
  share?: { firstSlot: number; of: number };
  /**
   * Once connected, the load waits for this; it resolves with the run's start
   * as epoch ms (performance.timeOrigin + performance.now()), so that parts in
   * several threads share one clock. Default: start at once.
   */
  startGate?: (connectMs: number) => Promise<number>;
  /** Where calls are counted. Default a new recorder. */
  recorder?: LoadRecorder;
  /** How who answered is known. Default envoy-counters with `envoyCounters`, peer for a method, else server-id. */
  attribution?: Attribution;
  /** How calls reach the target; "h2" takes a host:port target only. Default "grpc-js". */
  engine?: EngineKind;
}

type OptionalOptions =
  | "requests"
  | "durationMs"
  | "hashKey"
  | "lb"
  | "xdsServer"
  | "signal"
  | "onCall"
  | "onStart"
  | "envoyCounters"
  | "startGate"
  | "recorder"
  | "attribution"
  | "share";
export type ResolvedEngineOptions = Required<Omit<EngineOptions, OptionalOptions>> &
  Pick<EngineOptions, OptionalOptions>;

export function resolveEngineOptions(o: EngineOptions): ResolvedEngineOptions {
  if (o.requests === undefined && o.durationMs === undefined)
    throw new LoadError("a load run needs a bound: a number of requests or a duration");
  return {
    ...o,
    connections: o.connections ?? 1,
    concurrency: o.concurrency ?? 1,
    schedule: o.schedule ?? { kind: "closed" },
    call: o.call ?? { kind: "unary", message: "hello" },
    deadlineMs: o.deadlineMs ?? 5000,
    connectTimeoutMs: o.connectTimeoutMs ?? 5000,
    metadata: o.metadata ?? [],
    newConnectionEvery: o.newConnectionEvery ?? 0,
    keepaliveMs: o.keepaliveMs ?? 0,
    retryUnavailableAttempts: o.retryUnavailableAttempts ?? 0,
    tls: o.tls ?? INSECURE,
    cancelOnAbort: o.cancelOnAbort ?? false,
    engine: o.engine ?? "grpc-js",
  };
}

/** How a run knows who answered: as told, else by Envoy's counters when it reads them, else per call. */
export function attributionOf(o: ResolvedEngineOptions): Attribution {
  return (
    o.attribution ?? (o.envoyCounters ? "envoy-counters" : o.call.kind === "method" ? "peer" : "server-id")
  );
}

/** What a report says of the run besides what its recorder counted. */
export function reportMeta(o: ResolvedEngineOptions, durationMs: number, interrupted: boolean): ReportMeta {
  return {
    target: o.target,
    concurrency: o.concurrency,
    connections: o.connections,
    ...callMeta(o.call),
    attribution: attributionOf(o),
    schedule: o.schedule,
    durationMs,
    interrupted,
  };
}

/** The method and call shape a report names for a CallSpec. */
export function callMeta(c: CallSpec): { method: string; call: CallShape } {
  switch (c.kind) {
    case "unary":
      return { method: "/lbdemo.v1.Echo/Echo", call: "unary" };
    case "stream":
      return { method: "/lbdemo.v1.Echo/EchoStream", call: "stream" };
    case "method": {
      const { requestStream, responseStream } = c.method;
      const call: CallShape = requestStream
        ? responseStream
          ? "bidi-stream"
          : "client-stream"
        : responseStream
          ? "stream"
          : "unary";
      return { method: c.method.path, call };
    }
  }
}
