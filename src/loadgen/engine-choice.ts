import { availableParallelism } from "node:os";
import { UsageError } from "../errors.js";
import type { EngineKind } from "./engine-options.js";

export const ENGINES: readonly EngineKind[] = ["h2", "grpc-js"];

/** Whether a target is one address (host:port) rather than a name grpc-js resolves (dns:///, xds:///…). */
const isOneAddress = (target: string): boolean => !/^[a-z][a-z0-9+.-]*:/i.test(target) || /^\[/.test(target);

/**
 * The engine of a run: as asked, else the fastest that fits the target. The
 * h2 engine speaks to one address; a target grpc-js resolves and balances over
 * (dns:///NAME:PORT) needs grpc-js.
 */
export function chooseEngine(asked: EngineKind | undefined, target: string): EngineKind {
  const one = isOneAddress(target);
  if (asked === "h2" && !one)
    throw new UsageError(
      `grpc-lb load: --engine h2 sends to one HOST:PORT; '${target}' is resolved and balanced by grpc-js (dns:///, xds:///): use --engine grpc-js (the default for it)`,
    );
  return asked ?? (one ? "h2" : "grpc-js");
}

/**
 * Worker threads when --workers is not given. Measured on a 2-core machine
 * with the target on the same machine (lab bench-ghz, 4 connections, -c 32):
 * one h2 worker sent more calls per second than two, since a second thread's
 * share of the cores is taken from the servers and the proxy it measures,
 * and its start-up and merging cost more than it sends. So the h2 engine
 * uses one thread per two cores (one on this machine) and leaves the rest to
 * what it loads. grpc-js costs about twice the CPU per call, so it keeps one
 * thread per core.
 */
export function defaultWorkers(engine: EngineKind, cores = availableParallelism()): number {
  return engine === "h2" ? Math.max(1, Math.floor(cores / 2)) : cores;
}
