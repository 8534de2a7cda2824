import { join } from "node:path";
import { PeerError } from "../../errors.js";
import type { ResolvedPeerConfig } from "../options.js";
import { NGINX_UPSTREAM, type NginxConfig, type NginxDirective } from "./types.js";

const d = (name: string, args: readonly (string | number)[], why?: string): NginxDirective =>
  why === undefined ? { name, args } : { name, args, why };
const block = (name: string, args: readonly (string | number)[], body: NginxDirective[], why?: string) => ({
  ...d(name, args, why),
  block: body,
});
const ms = (n: number): string => `${n}ms`;

/** Files nginx writes in its work directory (also its prefix, -p). */
export const nginxFiles = (workDir: string) => ({
  config: join(workDir, "nginx.conf"),
  pid: join(workDir, "nginx.pid"),
  errorLog: join(workDir, "error.log"),
  accessLog: join(workDir, "access.log"),
});

/**
 * nginx 1.22 (Debian 12) as a gRPC balancer, in its own idiom: an `http2` listener,
 * `grpc_pass` to an upstream of every server with idle connections kept (`keepalive`),
 * round robin per call, `grpc_next_upstream` for calls that never reached a server, and
 * passive health (max_fails / fail_timeout): active checks are not in open-source nginx.
 *
 * The upstream lists the addresses DNS gave at start: nginx 1.22 resolves a name in `server`
 * once, when it starts, and through the system resolver, which the lab never uses. Servers
 * that join DNS later are not seen until a restart (`resolve` reached open-source nginx in 1.27.3).
 */
export function buildNginxConfig(o: ResolvedPeerConfig): NginxConfig {
  if (o.addresses.length === 0) {
    throw new PeerError(
      `nginx: no address for '${o.serverName}': nginx 1.22 takes its upstream servers at start, so DNS must answer first`,
    );
  }
  const files = nginxFiles(o.workDir);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) =>
    d(`${t}_temp_path`, [join(o.workDir, `${t}_temp`)]),
  );
  return {
    directives: [
      d("daemon", ["off"], "in the foreground: the wrapper owns the process group"),
      d("worker_processes", [o.workers]),
      d("pid", [files.pid]),
      d("error_log", [files.errorLog, "info"]),
      block("events", [], [d("worker_connections", [1024])]),
      block(
        "http",
        [],
        [
          d("access_log", [files.accessLog]),
          ...temp,
          block(
            "upstream",
            [NGINX_UPSTREAM],
            [
              ...o.addresses.map((a) =>
                d("server", [
                  `${a}:${o.serverPort}`,
                  `max_fails=${o.maxFails}`,
                  `fail_timeout=${o.failTimeoutS}s`,
                ]),
              ),
              d(
                "keepalive",
                [o.keepaliveConnections],
                "HTTP/2 connections to the servers stay open between calls",
              ),
              d("keepalive_timeout", [ms(o.idleTimeoutMs)]),
              d("keepalive_requests", [1_000_000]),
            ],
            `what DNS answered for '${o.serverName}' at start`,
          ),
          block(
            "server",
            [],
            [
              d(
                "listen",
                [`${o.listenAddress}:${o.listenPort}`, "http2"],
                "HTTP/2 cleartext, as gRPC clients speak it",
              ),
              d("keepalive_requests", [1_000_000], "calls per client connection before nginx sends GOAWAY"),
              d("keepalive_timeout", [ms(o.idleTimeoutMs)]),
              block(
                "location",
                ["/"],
                [
                  d("grpc_pass", [`grpc://${NGINX_UPSTREAM}`]),
                  d("grpc_connect_timeout", [ms(o.connectTimeoutMs)]),
                  d("grpc_read_timeout", [ms(o.idleTimeoutMs)]),
                  d("grpc_send_timeout", [ms(o.idleTimeoutMs)]),
                  d(
                    "grpc_next_upstream",
                    ["error", "timeout"],
                    "only calls not yet sent: nginx streams a gRPC request body unbuffered, so a call sent cannot be replayed (non_idempotent changes nothing)",
                  ),
                  d("grpc_next_upstream_tries", [o.retries + 1]),
                ],
              ),
            ],
          ),
        ],
      ),
    ],
  };
}
