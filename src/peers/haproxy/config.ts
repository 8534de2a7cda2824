import { join } from "node:path";
import type { ResolvedPeerConfig } from "../options.js";
import { type HaproxyConfig, type HaproxyLine, HAPROXY_NAMES as N } from "./types.js";

const line = (keyword: string, args: readonly (string | number)[], why?: string): HaproxyLine =>
  why === undefined ? { keyword, args } : { keyword, args, why };

const ms = (n: number): string => `${n}ms`;

/** Files HAProxy writes in its work directory. */
export const haproxyFiles = (workDir: string) => ({
  config: join(workDir, "haproxy.cfg"),
  pid: join(workDir, "haproxy.pid"),
  log: join(workDir, "haproxy.log"),
  stats: join(workDir, "haproxy.sock"),
});

/**
 * HAProxy 2.6 (Debian 12) as a gRPC balancer, in its own idiom: HTTP/2 on both sides
 * (`proto h2`), the servers discovered through the lab's DNS by a server-template, round robin
 * per request, a health check per server, and retries of calls that never reached one.
 *
 * Health: 2.6's HTTP check cannot speak gRPC health. `http-check send body` ends at the first
 * NUL byte, so the 5-byte frame of an empty HealthCheckRequest cannot be written; the answer's
 * grpc-status rides in trailers, which `http-check expect` does not read; and an HTTP/2 check
 * with no gRPC body made the Node servers reset the connection ("Socket error"). So the active
 * check is a TCP connect (a killed server fails it within fall × inter), and `observe layer7`
 * marks a server down passively when its HTTP/2 answers fail in a row.
 *
 * Retries: a call that never reached a server, and with retryAfterSend (as the lab's Envoy
 * retries on "reset") one whose server closed or went silent before a byte of answer.
 */
export function buildHaproxyConfig(o: ResolvedPeerConfig): HaproxyConfig {
  const files = haproxyFiles(o.workDir);
  return {
    sections: [
      {
        kind: "global",
        lines: [
          line("pidfile", [files.pid]),
          line("nbthread", [o.workers]),
          line(
            "log",
            ["stderr", "format", "raw", "local0", "info"],
            "HAProxy logs to sockets, not files: its stderr goes to haproxy.log",
          ),
          line(
            "stats",
            ["socket", files.stats, "mode", "600", "level", "operator"],
            "per-server state and calls, read by haproxy/stats.ts (show stat)",
          ),
          line("hard-stop-after", ["5s"], "a stop never hangs on a stream that will not end"),
        ],
      },
      {
        kind: "defaults",
        lines: [
          line("mode", ["http"], "gRPC is HTTP/2: balance each call, not each connection"),
          line("log", ["global"]),
          line("option", ["httplog"]),
          line("timeout", ["connect", ms(o.connectTimeoutMs)]),
          line("timeout", ["client", ms(o.idleTimeoutMs)]),
          line("timeout", ["server", ms(o.idleTimeoutMs)]),
          line("timeout", ["check", ms(o.connectTimeoutMs)]),
          line("timeout", ["http-keep-alive", ms(o.idleTimeoutMs)]),
        ],
      },
      {
        kind: "resolvers",
        name: N.resolvers,
        lines: [
          line("nameserver", ["lab", `${o.dns.host}:${o.dns.port}`], "the lab's DNS, never the system's"),
          line("accepted_payload_size", [8192], "room for many A records in one UDP answer"),
          line("resolve_retries", [3]),
          line("timeout", ["resolve", ms(o.dnsRefreshMs)], "how often the name is asked again"),
          line("timeout", ["retry", ms(Math.max(100, Math.floor(o.dnsRefreshMs / 2)))]),
          line("hold", ["valid", ms(o.dnsRefreshMs)]),
          line("hold", ["obsolete", ms(o.dnsRefreshMs)], "an address gone from DNS leaves soon after"),
          line("hold", ["nx", ms(o.dnsRefreshMs)]),
        ],
      },
      {
        kind: "frontend",
        name: N.frontend,
        lines: [
          line(
            "bind",
            [`${o.listenAddress}:${o.listenPort}`, "proto", "h2"],
            "HTTP/2 cleartext, as gRPC clients speak it",
          ),
          line("default_backend", [N.backend]),
        ],
      },
      {
        kind: "backend",
        name: N.backend,
        lines: [
          line("balance", ["roundrobin"]),
          o.retryAfterSend
            ? line(
                "retry-on",
                ["conn-failure", "empty-response", "response-timeout"],
                "as Envoy's reset: also a call whose server left without a byte of answer",
              )
            : line("retry-on", ["conn-failure"], "only calls that never reached a server"),
          line("retries", [o.retries]),
          line("option", ["redispatch", 1], "each retry goes to another server"),
          line("http-reuse", ["safe"]),
          line(
            "default-server",
            [
              "proto",
              "h2",
              "check",
              "inter",
              ms(o.healthIntervalMs),
              "fall",
              2,
              "rise",
              1,
              "observe",
              "layer7",
              "error-limit",
              3,
              "on-error",
              "mark-down",
              "resolvers",
              N.resolvers,
              "resolve-prefer",
              "ipv4",
              "init-addr",
              "none",
              "pool-max-conn",
              o.keepaliveConnections,
            ],
            "HTTP/2 to the servers; TCP check plus passive layer-7 observation (see the builder)",
          ),
          line(
            "server-template",
            [N.slot, `1-${o.slots}`, `${o.serverName}:${o.serverPort}`],
            "one slot per A record of the name",
          ),
        ],
      },
    ],
  };
}
