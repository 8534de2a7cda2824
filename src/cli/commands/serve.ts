import { randomUUID } from "node:crypto";
import { isCtrlC, UsageError } from "../../errors.js";
import { FAIL_CODES } from "../../server/echo-service.js";
import { ServerMetrics } from "../../server/metrics.js";
import {
  DEFAULT_SERVER_PORT,
  type EchoServerHandle,
  resolveServerOptions,
  startEchoServer,
} from "../../server/server.js";
import { DEFAULT_TLS_RELOAD_MS, PLAINTEXT, type ServerTls } from "../../server/tls.js";
import type { ReloadEvent } from "../../tls/reloader.js";
import { type Command, choiceFlag, intFlag, parseFlags } from "../args.js";

/** Default port of /metrics: the one Prometheus exporters commonly take. */
export const DEFAULT_METRICS_PORT = 9464;
/** On Ctrl-C in-flight calls get at most this long, so the command ends within a second. */
const CTRL_C_GRACE_MS = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const serveCommand: Command = {
  name: "serve",
  summary: "run an Echo server (with grpc.health.v1 and reflection)",
  usage: `Usage: grpc-lb serve [options]

Runs an lbdemo.v1.Echo server. Every reply carries this instance's id, host
name and address. grpc.health.v1.Health and server reflection are served too.

Options:
  --host HOST               address to bind (default 127.0.0.1; 0.0.0.0 in containers);
                            repeat it to run one instance per address in this process,
                            each with its own id, all on one port (with --port 0, the
                            one the first instance got)
  --port PORT               port to bind, 0 for any free one (default ${DEFAULT_SERVER_PORT})
  --id UUID                 instance id (default: a random UUID; one --host only)
  --grace-ms MS             on SIGTERM, how long in-flight calls may finish (default 10000)
  --drain-delay-ms MS       on SIGTERM, report NOT_SERVING but keep serving this long
                            first, so health checkers route around (default 0)
  --max-connection-age-ms MS  close connections older than this so clients re-balance (default 0: off)
  --max-stream-lifetime-ms MS  end each Subscribe stream cleanly (OK) after this long, less up
                            to a tenth at random, so that its client resumes, maybe on another
                            server (default 0: never; a client may ask for a shorter one)
  --max-message-bytes N     largest request accepted; larger get RESOURCE_EXHAUSTED (default 4194304)
  --delay-ms MS             fault injection: pause before every Echo reply (default 0)
  --fail-rate R             fault injection: answer this fraction (0-1) of Echo calls with --fail-code (default 0)
  --fail-code NAME          the status injected failures get (default UNAVAILABLE; e.g. INTERNAL,
                            INVALID_ARGUMENT to play a client's mistake)
  --metrics-port PORT       Prometheus metrics (calls by method and status, latency) at
                            http://HOST:PORT/metrics on the first --host; 0 for any free port
                            (default ${DEFAULT_METRICS_PORT})
  --tls-cert FILE           serve TLS with this PEM certificate (with --tls-key); plaintext
                            when absent. Point it into 'grpc-lb certs' output, e.g.
                            DIR/current/server-1.crt, to follow rotation
  --tls-key FILE            the certificate's PEM private key
  --client-ca FILE          mutual TLS: only clients whose certificate chains to a CA of
                            this PEM bundle get in (needs --tls-cert)
  --tls-reload-ms MS        how often the certificate files are checked for a change
                            (default ${DEFAULT_TLS_RELOAD_MS}); a change that checks out (the key is the
                            certificate's) serves new connections, open ones keep theirs
  -h, --help                show this help

Once listening (with TLS: once a handshake shows the certificate) it prints one
JSON line per instance on stdout:
  {"event":"ready","id":"…","address":"HOST:PORT","metricsPort":…,"pid":…,"tls":"plaintext|tls|mtls"}
With TLS the line has "certSerial", and each reload prints
{"event":"tls-reloaded","serial":"…",…}; a change that does not check out (a
missing file, a key of another certificate) prints {"event":"tls-reload-failed",
"error":"…",…} once and the previous certificate keeps serving. ALPN offers h2
only: a TLS client (an Envoy health checker) must offer h2 too.
With a wildcard --host (0.0.0.0, ::) the address is the first external
interface's (a container's IP), as clients reach it.
On SIGTERM it reports NOT_SERVING, waits --drain-delay-ms, refuses new calls,
ends Subscribe streams with OK (their clients resume elsewhere), finishes in-flight calls within --grace-ms, prints {"event":"stopped",…} and
exits 0. On Ctrl-C (SIGINT) it stops at once (in-flight calls get ${CTRL_C_GRACE_MS} ms) and
exits 130.
`,
  async run(argv, ctx) {
    const { values } = parseFlags("serve", argv, {
      host: { type: "string", multiple: true },
      port: { type: "string" },
      id: { type: "string" },
      "grace-ms": { type: "string" },
      "drain-delay-ms": { type: "string" },
      "max-connection-age-ms": { type: "string" },
      "max-stream-lifetime-ms": { type: "string" },
      "max-message-bytes": { type: "string" },
      "delay-ms": { type: "string" },
      "fail-rate": { type: "string" },
      "fail-code": { type: "string" },
      "metrics-port": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "client-ca": { type: "string" },
      "tls-reload-ms": { type: "string" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const hosts = (values.host as string[] | undefined) ?? ["127.0.0.1"];
    if (values.id !== undefined && !UUID.test(values.id)) {
      throw new UsageError(`grpc-lb serve: --id must be a UUID, got '${values.id}'`);
    }
    if (values.id !== undefined && hosts.length > 1) {
      throw new UsageError("grpc-lb serve: --id names one instance; it cannot go with several --host");
    }
    if (hosts.some((h) => h.trim() === "")) throw new UsageError("grpc-lb serve: --host must not be empty");
    if (new Set(hosts).size !== hosts.length)
      throw new UsageError("grpc-lb serve: the same --host is given twice");
    const failRate = values["fail-rate"] === undefined ? undefined : Number(values["fail-rate"]);
    if (failRate !== undefined && !(failRate >= 0 && failRate <= 1)) {
      throw new UsageError(
        `grpc-lb serve: --fail-rate must be a number from 0 to 1, got '${values["fail-rate"]}'`,
      );
    }
    const ms = (name: string) =>
      intFlag("serve", name, values[name as keyof typeof values] as string | undefined, {
        min: 0,
        max: 3_600_000,
      });
    const port = intFlag("serve", "port", values.port, { min: 0, max: 65535 });
    const metricsPort = intFlag("serve", "metrics-port", values["metrics-port"], { min: 0, max: 65535 });
    const tls = tlsFlags(values, ms("tls-reload-ms"));
    const common = {
      port,
      tls,
      graceMs: ms("grace-ms"),
      drainDelayMs: ms("drain-delay-ms"),
      maxConnectionAgeMs: ms("max-connection-age-ms"),
      maxStreamLifetimeMs: ms("max-stream-lifetime-ms"),
      delayMs: ms("delay-ms"),
      failRate,
      failCode: choiceFlag("serve", "fail-code", values["fail-code"], FAIL_CODES),
      maxMessageBytes: intFlag("serve", "max-message-bytes", values["max-message-bytes"], {
        min: 1024,
        max: 256 * 1024 * 1024,
      }),
    };
    const servers: EchoServerHandle[] = [];
    const metrics = new ServerMetrics();
    const endpoint = await metrics.listen(hosts[0] ?? "127.0.0.1", metricsPort ?? DEFAULT_METRICS_PORT);
    try {
      for (const host of hosts) {
        // With port 0 the first instance picks the port and the others share it, like the lab's servers.
        const port = servers[0]?.port ?? common.port;
        const id = values.id?.toLowerCase() ?? randomUUID();
        const server = await startEchoServer(
          resolveServerOptions({
            ...common,
            port,
            host,
            id,
            metrics,
            onTlsEvent: (e) => ctx.stdout(`${JSON.stringify(reloadLine(e, id))}\n`),
          }),
        );
        servers.push(server);
        ctx.stdout(
          `${JSON.stringify({ event: "ready", id: server.id, address: server.address, host: server.host, port: server.port, metricsPort: endpoint.port, pid: process.pid, tls: tls.kind, ...(server.certSerial() ? { certSerial: server.certSerial() } : {}) })}\n`,
        );
      }
    } catch (e) {
      // One address failed: the instances already up must not outlive the command.
      await Promise.all(servers.map((s) => s.stop()));
      await endpoint.close();
      throw e;
    }
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    const started = Date.now();
    const ctrlC = isCtrlC(ctx.signal);
    await Promise.all(
      servers.map(async (server) => {
        const outcome = await server.stop(ctrlC ? { drainDelayMs: 0, graceMs: CTRL_C_GRACE_MS } : {});
        ctx.stdout(
          `${JSON.stringify({ event: "stopped", id: server.id, outcome, drainMs: Date.now() - started })}\n`,
        );
      }),
    );
    await endpoint.close();
    return ctrlC ? 130 : 0;
  },
};

/** The JSON line of a reload event; a new kind of event fails to compile until it has one. */
function reloadLine(e: ReloadEvent, id: string): object {
  switch (e.kind) {
    case "reloaded":
      return {
        event: "tls-reloaded",
        id,
        serial: e.serial,
        previousSerial: e.previousSerial,
        notAfter: e.notAfter.toISOString(),
      };
    case "reload-failed":
      return { event: "tls-reload-failed", id, error: e.error, keptSerial: e.keptSerial };
  }
}

function tlsFlags(
  values: { "tls-cert"?: string; "tls-key"?: string; "client-ca"?: string },
  reloadMs = DEFAULT_TLS_RELOAD_MS,
): ServerTls {
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  const clientCaFile = values["client-ca"];
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined)
      throw new UsageError("grpc-lb serve: --client-ca needs --tls-cert and --tls-key");
    return PLAINTEXT;
  }
  if (certFile === undefined || keyFile === undefined)
    throw new UsageError("grpc-lb serve: --tls-cert and --tls-key go together");
  if (reloadMs < 10) throw new UsageError("grpc-lb serve: --tls-reload-ms must be at least 10");
  return clientCaFile === undefined
    ? { kind: "tls", certFile, keyFile, reloadMs }
    : { kind: "mtls", certFile, keyFile, clientCaFile, reloadMs };
}
