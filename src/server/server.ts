import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { networkInterfaces, hostname as osHostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { Server } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import { messageOf, ServerError } from "../errors.js";
import { ECHO_SERVICE_NAME, echoPackage } from "../proto/echo-package.js";
import type { ReloadEvent } from "../tls/reloader.js";
import { formatHostPort } from "../util/address.js";
import { echoHandlers, type FailCode } from "./echo-service.js";
import type { ServerMetrics } from "./metrics.js";
import { addReflection } from "./reflection-services.js";
import { PLAINTEXT, type ServerTls, serverSecurity, waitPresentsCertificate } from "./tls.js";

export interface ServerOptions {
  /** Address to bind. Default "127.0.0.1"; containers use "0.0.0.0". */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 50051. */
  port?: number;
  /** Instance id put in every reply. Default: a random UUID. */
  id?: string;
  /** Host name put in every reply. Default: the machine's. */
  hostname?: string;
  /** How long in-flight calls may run after a stop begins, in ms. Default 10000. */
  graceMs?: number;
  /** Largest request message accepted, in bytes; larger ones get RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Most replies one EchoStream call may ask for. Default 1000. */
  maxStreamReplies?: number;
  /**
   * On stop, how long to keep serving while reporting NOT_SERVING before refusing
   * new calls, in ms: time for health checkers to route around. Default 0.
   */
  drainDelayMs?: number;
  /** Close connections older than this (grpc.max_connection_age_ms) so clients re-balance; 0 is off. Default 0. */
  maxConnectionAgeMs?: number;
  /** End every Subscribe stream cleanly (OK) after this long, so its client resumes, maybe elsewhere; 0 is never. Default 0. */
  maxStreamLifetimeMs?: number;
  /** Pause before every Echo reply, in ms (fault injection for experiments). Default 0. */
  delayMs?: number;
  /** Fraction of Echo calls, 0 to 1, answered with failCode (fault injection). Default 0. */
  failRate?: number;
  /** The status injected failures get. Default UNAVAILABLE. */
  failCode?: FailCode;
  /** Counts and times every call into these metrics. Default: none. */
  metrics?: ServerMetrics | undefined;
  /** Plaintext, TLS or mutual TLS, with certificates followed for changes. Default plaintext. */
  tls?: ServerTls;
  /** Told when the certificates are reloaded or a reload fails. Default: nothing. */
  onTlsEvent?: ((event: ReloadEvent) => void) | undefined;
}

export type ResolvedServerOptions = Required<Omit<ServerOptions, "metrics" | "onTlsEvent">> & {
  metrics: ServerMetrics | undefined;
  onTlsEvent: ((event: ReloadEvent) => void) | undefined;
};

export const DEFAULT_SERVER_PORT = 50051;

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  return {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? DEFAULT_SERVER_PORT,
    id: options.id ?? randomUUID(),
    hostname: options.hostname ?? osHostname(),
    graceMs: options.graceMs ?? 10_000,
    maxMessageBytes: options.maxMessageBytes ?? 4 * 1024 * 1024,
    maxStreamReplies: options.maxStreamReplies ?? 1000,
    drainDelayMs: options.drainDelayMs ?? 0,
    maxConnectionAgeMs: options.maxConnectionAgeMs ?? 0,
    maxStreamLifetimeMs: options.maxStreamLifetimeMs ?? 0,
    delayMs: options.delayMs ?? 0,
    failRate: options.failRate ?? 0,
    failCode: options.failCode ?? "UNAVAILABLE",
    metrics: options.metrics,
    tls: options.tls ?? PLAINTEXT,
    onTlsEvent: options.onTlsEvent,
  };
}

/** How a stop ended: every call finished, or some were cut off when the grace period ran out. */
export type StopOutcome = "drained" | "forced";

export interface EchoServerHandle {
  readonly id: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** host:port as clients should dial it. */
  readonly address: string;
  /** Serial (upper-case hex) of the certificate served now; undefined in plaintext. */
  certSerial(): string | undefined;
  /**
   * Reports NOT_SERVING, refuses new calls, ends Subscribe streams cleanly, lets in-flight calls
   * finish within graceMs (or as overridden).
   */
  stop(override?: { drainDelayMs?: number; graceMs?: number }): Promise<StopOutcome>;
}

/** Starts the Echo service with grpc.health.v1.Health and server reflection. */
export async function startEchoServer(options: ServerOptions = {}): Promise<EchoServerHandle> {
  const o = resolveServerOptions(options);
  const server = new Server({
    ...(o.metrics ? { interceptors: [o.metrics.interceptor] } : {}),
    "grpc.max_receive_message_length": o.maxMessageBytes,
    ...(o.maxConnectionAgeMs > 0
      ? { "grpc.max_connection_age_ms": o.maxConnectionAgeMs, "grpc.max_connection_age_grace_ms": o.graceMs }
      : {}),
  });
  let address = formatHostPort(o.host, o.port);
  const pkg = echoPackage();
  // Aborted as the shutdown begins: long-lived streams end cleanly so that their clients resume elsewhere.
  const draining = new AbortController();
  // Every open Subscribe stream listens for it.
  setMaxListeners(0, draining.signal);
  server.addService(
    pkg.grpc.lbdemo.v1.Echo.service,
    echoHandlers(
      () => ({ serverId: o.id, hostname: o.hostname, address }),
      { maxStreamReplies: o.maxStreamReplies, maxIntervalMs: 10_000 },
      { delayMs: o.delayMs, failRate: o.failRate, failCode: o.failCode },
      { maxLifetimeMs: o.maxStreamLifetimeMs, draining: draining.signal },
    ),
  );
  const health = new HealthImplementation({ "": "NOT_SERVING", [ECHO_SERVICE_NAME]: "NOT_SERVING" });
  health.addToServer(server);
  // Reflection describes every service served, health included, so grpcurl needs no .proto file.
  addReflection(server);

  const security = await serverSecurity(o.tls, o.onTlsEvent);
  const { reloader } = security;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(formatHostPort(o.host, o.port), security.credentials, (err, bound) => {
        if (err) reject(bindError(address, err));
        else resolve(bound);
      });
    });
    // Health says SERVING only once a handshake shows the loaded certificate.
    if (reloader) await waitPresentsCertificate(loopbackFor(o.host), port, reloader);
  } catch (e) {
    reloader?.stop();
    server.forceShutdown();
    throw e;
  }
  address = formatHostPort(reachableHost(o.host), port);
  const setAll = (s: ServingStatus): void => {
    health.setStatus("", s);
    health.setStatus(ECHO_SERVICE_NAME, s);
  };
  setAll("SERVING");

  let stopping: Promise<StopOutcome> | undefined;
  return {
    id: o.id,
    host: o.host,
    port,
    address,
    certSerial: () => reloader?.current().serial,
    stop(override = {}) {
      const drainDelayMs = override.drainDelayMs ?? o.drainDelayMs;
      const graceMs = override.graceMs ?? o.graceMs;
      stopping ??= (async () => {
        setAll("NOT_SERVING");
        if (drainDelayMs > 0) await delay(drainDelayMs);
        return new Promise<StopOutcome>((resolve) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            resolve("forced");
          }, graceMs);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve("drained");
          });
          // After tryShutdown, whose GOAWAY refuses new streams: a resume cannot land here again.
          draining.abort();
        }).finally(() => reloader?.stop());
      })();
      return stopping;
    },
  };
}

/**
 * Where clients reach a server bound to a wildcard (0.0.0.0, ::): its first
 * external interface address of that family (a container's IP), else loopback.
 */
export function reachableHost(host: string): string {
  const family = host === "0.0.0.0" ? "IPv4" : host === "::" || host === "[::]" ? "IPv6" : undefined;
  if (family === undefined) return host;
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const found = all.find((i) => !i.internal && i.family === family && !i.address.startsWith("fe80:"));
  return found?.address ?? (family === "IPv4" ? "127.0.0.1" : "::1");
}

/** Where a local probe reaches a server bound to `host`: loopback for a wildcard, else the host itself. */
function loopbackFor(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host.replace(/^\[(.*)\]$/, "$1");
}

function bindError(address: string, err: Error): ServerError {
  const text = messageOf(err);
  if (/EADDRINUSE/.test(text))
    return new ServerError(`cannot bind ${address}: address already in use`, { cause: err });
  if (/EADDRNOTAVAIL/.test(text)) {
    return new ServerError(`cannot bind ${address}: address not available on this machine`, { cause: err });
  }
  if (/EACCES/.test(text))
    return new ServerError(`cannot bind ${address}: permission denied`, { cause: err });
  return new ServerError(`cannot bind ${address}: ${text}`, { cause: err });
}
