import {
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  status,
} from "@grpc/grpc-js";
import type { EnvoyAdmin } from "../envoy/admin.js";
import { type HostCounters, hostSplit } from "../envoy/host-split.js";
import { echoChannel } from "../grpc/channel.js";
import { type ClientTls, channelCredentials, INSECURE, tlsChannelOptions } from "../grpc/client-tls.js";
import type { GrpcMethod } from "../grpc/method.js";
import { callStarter } from "../loadgen/calls.js";
import { healthDescription } from "../proto/echo-package.js";
import { DOCS, type Finding } from "./finding.js";

/** One kind of call sent through the listener. */
export interface LiveCaller {
  /** The method, "pkg.Service/Method". */
  method: string;
  call(deadlineMs: number): Promise<{ code: number; details?: string }>;
  close(): void;
}

/** What the calls through the listener saw, and where Envoy sent them. */
export interface LiveResult {
  listener: string;
  method: string;
  calls: number;
  ok: number;
  /** Failed calls by status name, with the first message of each. */
  failed: Record<string, { count: number; first: string }>;
  /** The cluster whose hosts took the calls (undefined when none moved). */
  cluster: string | undefined;
  /** Requests each host of that cluster took during the calls (0: never reached). */
  hosts: Record<string, number>;
  /** Busiest host over least busy one; null with fewer than 2 hosts. */
  maxMinRatio: number | null;
}

/**
 * Calls of any method (resolved by reflection or .proto files), sent as the load tool sends
 * them; `request` is its JSON (an array of messages for client or bidi streaming).
 */
export function methodCaller(
  listener: string,
  method: GrpcMethod,
  request: unknown,
  tls: ClientTls = INSECURE,
): LiveCaller {
  const start = callStarter({ kind: "method", method, request }, { byPeer: false });
  const client = echoChannel(listener, { ownConnection: true, tls });
  const metadata = new Metadata();
  return {
    method: method.path.slice(1),
    call: async (deadlineMs) => {
      const r = await start(client, metadata, deadlineMs).done;
      return { code: r.code, ...(r.details === undefined ? {} : { details: r.details }) };
    },
    close: () => client.close(),
  };
}

/** The default call: grpc.health.v1.Health/Check for the whole server (service ""), which most servers serve. */
export function healthCaller(listener: string, tls: ClientTls = INSECURE): LiveCaller {
  const pkg = loadPackageDefinition(healthDescription()) as GrpcObject;
  const Health = ((pkg.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
  const Ctor = Health.Health as unknown as new (
    t: string,
    c: ChannelCredentials,
    o: ChannelOptions,
  ) => Client & {
    Check(
      req: { service: string },
      opts: { deadline: number },
      cb: (err: { code?: number; details?: string } | null) => void,
    ): void;
  };
  const client = new Ctor(listener, channelCredentials(tls), tlsChannelOptions(tls));
  return {
    method: "grpc.health.v1.Health/Check",
    call: (deadlineMs) =>
      new Promise((resolve) =>
        client.Check({ service: "" }, { deadline: Date.now() + deadlineMs }, (err) =>
          resolve(
            err ? { code: err.code ?? status.UNKNOWN, details: err.details ?? "" } : { code: status.OK },
          ),
        ),
      ),
    close: () => client.close(),
  };
}

/**
 * Sends `requests` calls one after another over one connection and tells who took them from
 * Envoy's per-host request counters before and after, which works for any service. Among
 * `clusters`, the one whose counters moved most is the one the listener routes to.
 */
export async function sendLiveCalls(
  admin: EnvoyAdmin,
  caller: LiveCaller,
  o: { listener: string; requests: number; deadlineMs: number; clusters: string[]; signal?: AbortSignal },
): Promise<LiveResult> {
  const before = await admin.hostCounters();
  const failed: LiveResult["failed"] = {};
  let ok = 0;
  let calls = 0;
  try {
    for (; calls < o.requests && !o.signal?.aborted; calls++) {
      const r = await caller.call(o.deadlineMs);
      if (r.code === status.OK) ok += 1;
      else {
        const name = status[r.code] ?? `code ${r.code}`;
        const seen = failed[name];
        if (seen === undefined) failed[name] = { count: 1, first: r.details ?? "" };
        else seen.count += 1;
      }
    }
  } finally {
    caller.close();
  }
  const after = await admin.hostCounters();
  const { cluster, hosts } = movedCluster(before, after, o.clusters);
  const counts = Object.values(hosts);
  const maxMinRatio =
    counts.length < 2
      ? null
      : Math.min(...counts) === 0
        ? Number.POSITIVE_INFINITY
        : Math.max(...counts) / Math.min(...counts);
  return { listener: o.listener, method: caller.method, calls, ok, failed, cluster, hosts, maxMinRatio };
}

/**
 * rq_total counts every request Envoy sent a host, retries included, and not its active
 * health checks: the difference over a window with only our calls is where they went.
 */
export function movedCluster(
  before: HostCounters,
  after: HostCounters,
  clusters: string[],
): { cluster: string | undefined; hosts: Record<string, number> } {
  let best: { cluster: string | undefined; hosts: Record<string, number>; total: number } = {
    cluster: undefined,
    hosts: {},
    total: 0,
  };
  for (const name of clusters.filter((c) => after.has(c))) {
    const split = hostSplit(before, after, name);
    const total = split.hosts.reduce((n, h) => n + h.attempts, 0);
    if (total > best.total)
      best = {
        cluster: name,
        hosts: Object.fromEntries(split.hosts.map((h) => [h.host, h.attempts])),
        total,
      };
  }
  return { cluster: best.cluster, hosts: best.hosts };
}

/** What the live calls say, as findings: failures, hosts never reached, an uneven split. */
export function liveFindings(r: LiveResult, healthyHosts: (cluster: string) => string[]): Finding[] {
  const out: Finding[] = [];
  const subject = `listener ${r.listener}`;
  const failedCount = Object.values(r.failed).reduce((s, f) => s + f.count, 0);
  if (failedCount > 0) {
    const [name, first] = Object.entries(r.failed)[0] ?? ["", { first: "" }];
    out.push({
      check: "live-failed",
      severity: "error",
      subject,
      evidence: {
        field: `${r.method} calls`,
        value: `${failedCount} of ${r.calls} failed; first ${name}: ${first.first}`,
      },
      why: "calls through this listener fail now; the findings above usually say why",
      docs: `${DOCS}/intro/arch_overview/other_protocols/grpc`,
    });
  }
  if (r.cluster === undefined) return out;
  const healthy = healthyHosts(r.cluster);
  const unreached = healthy.filter((h) => (r.hosts[h] ?? 0) === 0);
  const reached = Object.values(r.hosts).filter((n) => n > 0).length;
  if (unreached.length > 0 && r.ok >= 2 * healthy.length) {
    out.push({
      check: "live-unreached",
      severity: reached <= 1 ? "error" : "warning",
      subject,
      evidence: {
        field: `cluster ${r.cluster} rq_total during ${r.calls} calls`,
        value: Object.entries(r.hosts)
          .map(([h, n]) => `${h} ${n}`)
          .join(", "),
      },
      why:
        reached <= 1
          ? "every call went to one server although others are healthy: something pins the calls (hash policy, one connection to an L4 balancer)"
          : `${unreached.length} healthy host(s) got no call: ${unreached.join(", ")}`,
      docs: `${DOCS}/intro/arch_overview/upstream/load_balancing/load_balancers`,
    });
  } else if (r.maxMinRatio !== null && r.maxMinRatio > 1.5 && r.ok >= 10 * healthy.length) {
    out.push({
      check: "live-imbalance",
      severity: "warning",
      subject,
      evidence: {
        field: `cluster ${r.cluster} rq_total during ${r.calls} calls`,
        value: `max/min ${r.maxMinRatio.toFixed(2)}`,
      },
      why: "consecutive calls over one connection should spread evenly under round robin or least request",
      docs: `${DOCS}/intro/arch_overview/upstream/load_balancing/load_balancers`,
    });
  }
  return out;
}
