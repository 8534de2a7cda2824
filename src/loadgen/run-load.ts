import { type ServiceError, status } from "@grpc/grpc-js";
import { LoadError, messageOf } from "../errors.js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import { echoChannel } from "./channel.js";
import { LoadRecorder, type LoadReport } from "./report.js";

export interface LoadOptions {
  /** host:port of Envoy's listener (or of one server, to see L4 pinning). */
  target: string;
  /** Number of Echo calls. Default 100. */
  requests?: number;
  /** Calls in flight at once, all over the one channel. Default 1. */
  concurrency?: number;
  /** Deadline of each call, in ms. Default 5000. */
  deadlineMs?: number;
  /** How long to wait for the channel to connect before giving up, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Text sent in every request. Default "hello". */
  message?: string;
  /** Stops issuing new calls; the report covers the calls made. */
  signal?: AbortSignal;
}

export type ResolvedLoadOptions = Required<Omit<LoadOptions, "signal">> & { signal: AbortSignal | undefined };

export function resolveLoadOptions(options: LoadOptions): ResolvedLoadOptions {
  return {
    target: options.target,
    requests: options.requests ?? 100,
    concurrency: options.concurrency ?? 1,
    deadlineMs: options.deadlineMs ?? 5000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    message: options.message ?? "hello",
    signal: options.signal,
  };
}

/**
 * Sends unary Echo calls over a single channel, the way one gRPC client does:
 * one HTTP/2 connection that an L4 balancer would pin to one server.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const o = resolveLoadOptions(options);
  const client = echoChannel(o.target);
  try {
    await connect(client, o.target, o.connectTimeoutMs);
    const recorder = new LoadRecorder();
    const started = performance.now();
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (issued < o.requests && !o.signal?.aborted) {
        issued += 1;
        await callOnce(client, o, recorder);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.requests) }, worker));
    return recorder.report({
      target: o.target,
      concurrency: o.concurrency,
      durationMs: performance.now() - started,
      interrupted: issued < o.requests,
    });
  } finally {
    client.close();
  }
}

function connect(client: EchoClient, target: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (err) => {
      if (!err) {
        resolve();
        return;
      }
      reject(
        new LoadError(`cannot connect to ${target} within ${timeoutMs} ms (${messageOf(err)})`, {
          cause: err,
        }),
      );
    });
  });
}

function callOnce(client: EchoClient, o: ResolvedLoadOptions, recorder: LoadRecorder): Promise<void> {
  const started = performance.now();
  return new Promise((resolve) => {
    client.Echo({ message: o.message }, { deadline: Date.now() + o.deadlineMs }, (err, reply) => {
      const latencyUs = (performance.now() - started) * 1000;
      if (err || !reply) {
        recorder.recordError((err as ServiceError | null)?.code ?? status.UNKNOWN, latencyUs);
      } else if (reply.server_id === "") {
        // A reply without an id cannot be attributed: count it as a failure, not a backend.
        recorder.recordError(status.DATA_LOSS, latencyUs);
      } else {
        recorder.recordOk(reply.server_id, reply.address, latencyUs);
      }
      resolve();
    });
  });
}
