import { Metadata, status } from "@grpc/grpc-js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import { echoChannel } from "../grpc/channel.js";
import { type ClientTls, INSECURE } from "../grpc/client-tls.js";
import { type EchoCallSpec, startCall } from "./calls.js";

/** What one burst of probe calls saw: replies by the address each server reports, and failures by status. */
export interface ProbeResult {
  /** Replies per answering server, keyed by the address it reports (host:port). */
  answered: Map<string, number>;
  /** Calls that did not get a reply, by status name ("UNAVAILABLE"). */
  failed: Record<string, number>;
}

/** Sends bursts of probe calls through one connection to a gRPC listener (Envoy's). */
export interface RouteProber {
  /**
   * Sends `calls` probe calls one after another, each within `deadlineMs`, and
   * stops early at the first failure or once `until` (epoch ms) has passed.
   */
  probe(calls: number, deadlineMs: number, until: number): Promise<ProbeResult>;
  close(): void;
}

const statusName = (code: number): string => status[code] ?? `code ${code}`;

// One reply of EchoStream: it names the server as Echo does, and the faults a server can be
// told to inject (--fail-rate, --delay-ms) apply to Echo only, so a probe sees routing alone.
const PROBE_CALL: EchoCallSpec = { kind: "stream", message: "route probe", replies: 1 };

/**
 * A prober with its own HTTP/2 connection, so its calls are consecutive picks
 * of one Envoy worker's load balancer: under round robin, 2k calls over k
 * hosts reach every host the balancer holds, and only those.
 */
export function routeProber(listener: string, tls: ClientTls = INSECURE): RouteProber {
  let client: EchoClient | undefined;
  return {
    async probe(calls, deadlineMs, until) {
      client ??= echoChannel(listener, { ownConnection: true, tls });
      const answered = new Map<string, number>();
      const failed: Record<string, number> = {};
      for (let i = 0; i < calls && Date.now() < until; i++) {
        const r = await startCall(client, PROBE_CALL, new Metadata(), deadlineMs).done;
        if (r.code !== status.OK || r.address === undefined) {
          const name = statusName(r.code);
          failed[name] = (failed[name] ?? 0) + 1;
          break;
        }
        answered.set(r.address, (answered.get(r.address) ?? 0) + 1);
      }
      return { answered, failed };
    },
    close() {
      client?.close();
      client = undefined;
    },
  };
}

/** "2 servers (127.0.0.2:50051 ×3, 127.0.0.3:50051 ×3), 1 failed (UNAVAILABLE)". */
export function describeProbe(r: ProbeResult): string {
  const servers = [...r.answered].map(([a, n]) => `${a} ×${n}`).join(", ");
  const failures = Object.entries(r.failed);
  const failedText =
    failures.length === 0
      ? ""
      : `, ${failures.reduce((n, [, c]) => n + c, 0)} failed (${failures.map(([s]) => s).join(", ")})`;
  return `${r.answered.size} server(s)${servers ? ` (${servers})` : ""}${failedText}`;
}
