import type { EnvoyAdmin, UpstreamHost } from "../envoy/admin.js";
import type { ClientTls } from "../grpc/client-tls.js";
import type { RequestResult } from "../loadgen/paced-load.js";
import type { ScenarioCheck, ScenarioReport } from "./report.js";

/**
 * What a scenario runs against, whatever runs it: where clients connect and
 * Envoy's admin API. The lab is one; a Compose or Kubernetes run is another
 * (Envoy's listener and admin API through published ports or a port-forward).
 */
export interface ScenarioTarget {
  /** host:port of Envoy's gRPC listener. */
  readonly listenAddress: string;
  /** How clients reach the listener (the load and the host waits' probe calls). Default plaintext. */
  readonly tls?: ClientTls;
  /** Envoy's admin API: its hosts of cluster 'server' and its counters. */
  readonly admin: EnvoyAdmin;
  /** Throws, saying why, once the target is gone (Envoy exited): every wait then ends at once. */
  ensureUp?(): void;
  /**
   * Retry counters of Envoys the target reached earlier in the run and no longer does (one
   * replaced mid-run): the runner adds them to the difference it reads from `admin`.
   */
  readonly replacedEnvoys?: RetryCounters;
}

/** Envoy's retry counters for cluster 'server'. */
export interface RetryCounters {
  /** upstream_rq_retry: calls retried on another host. */
  retries: number;
  /** upstream_rq_retry_overflow: retries refused because the retry budget was spent. */
  overflows: number;
}

/** The steady load the runner keeps going through a scenario, on one clock. */
export interface ScenarioLoad {
  /** Milliseconds since the load started, on the clock of the results. */
  now(): number;
  /** Results so far, in completion order (a live array). */
  readonly results: readonly RequestResult[];
  /** Waits until `more` calls beyond those finished now have finished. */
  waitForMore(more: number, timeoutMs?: number): Promise<void>;
  /**
   * Polls `pick` over the results until it returns a value; fails at once, naming the
   * bound, once the load has stopped by its bounds.
   */
  waitUntil<T>(
    what: string,
    pick: (results: readonly RequestResult[]) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  /** Stops the load and returns every result (the runner does it too, if the scenario does not). */
  finish(): Promise<readonly RequestResult[]>;
}

/** What a scenario gets: its environment, the load, and waits that all end on Ctrl-C. */
export interface ScenarioContext<Env> {
  readonly env: Env;
  readonly signal: AbortSignal;
  /** The paced load; only for scenarios with `load: "paced"`. */
  readonly load: ScenarioLoad;
  /** Polls `check` until it returns a value, naming `what` when it gives up. */
  waitFor<T>(
    what: string,
    check: () => Promise<T | undefined> | T | undefined,
    timeoutMs?: number,
    describeLast?: () => string,
  ): Promise<T>;
  /** Polls Envoy's hosts until `done` holds; returns how long that took, in ms. */
  waitForHosts(what: string, done: (hosts: UpstreamHost[]) => boolean, timeoutMs?: number): Promise<number>;
  /** Envoy's hosts of cluster 'server' now. */
  hosts(): Promise<UpstreamHost[]>;
  /** A counter of cluster 'server' ("upstream_rq_retry" reads cluster.server.upstream_rq_retry); 0 when absent. */
  stat(name: string): Promise<number>;
}

/** What a scenario finds: its checks, measurements and distributions; the runner adds the rest. */
export interface ScenarioOutcome {
  checks: ScenarioCheck[];
  measurements: ScenarioReport["measurements"];
  distributions: ScenarioReport["distributions"];
  /** Calls by status, for a scenario that sends its own load; the runner counts the paced load's. */
  requests?: ScenarioReport["requests"];
  /**
   * A fault that can cut a reply already under way (kill -9 of a server between its reply's
   * first bytes and its trailers): no one can retry such a reply, and the client sees
   * INTERNAL (Envoy resets the stream). Calls that ended so, started before the fault was
   * done (`toMs`) and ended after it began (`fromMs`) but within `withinMs` of its end, are
   * counted apart from the failed calls, as replies cut by `by`.
   */
  cutReplies?: { fromMs: number; toMs: number; withinMs: number; by: string };
}

/** One experiment on an environment (the lab, a Compose or Kubernetes cluster): what it does to it, under load. */
export interface Scenario<Env> {
  name: string;
  summary: string;
  /** paced: the runner keeps 200 calls/s going and warms up with 200 calls first; none: it sends its own. */
  load: "paced" | "none";
  /** True when failed calls are measured rather than checked (the runner then adds no "no failed calls"). */
  allowFailedCalls?: boolean;
  /**
   * Deadline of each paced call, in ms, when this scenario holds calls longer than the default
   * (5 s): a frozen replica holds the replies it had begun until it thaws, and no one can retry
   * a reply already under way.
   */
  callDeadlineMs?(env: Env): number;
  /** Channels of the paced load, each its own connection (to spread over Envoy replicas). Default 1. */
  loadConnections?: number;
  /** Its actions and checks; every wait through `ctx`, so Ctrl-C ends it at once. */
  run(ctx: ScenarioContext<Env>): Promise<ScenarioOutcome>;
}
