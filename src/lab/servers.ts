import { errorFrom, LabError } from "../errors.js";
import { cliEntry } from "../paths.js";
import { type ChildHandle, startChild } from "../proc/child.js";
import type { EchoFaults } from "../server/echo-service.js";
import type { LabServerTlsFiles } from "./lab-tls.js";
import { noteReload, parseReady, type ReadyLine, type TlsReloads } from "./server-lines.js";

/** One Echo instance of the lab; several may share a process (see serversPerProcess). */
export interface LabServer {
  readonly index: number;
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Port of the process's Prometheus /metrics, on its first address. */
  readonly metricsPort: number;
  readonly process: ChildHandle;
  /** With TLS: what the server said of its certificate reloads so far (its tls-reload* lines). */
  tlsReloads(): TlsReloads;
}

export interface LabServerProcessOptions {
  graceMs: number;
  drainDelayMs: number;
  startTimeoutMs: number;
  /** Faults injected into Echo calls. */
  faults: EchoFaults;
  /** grpc.max_connection_age_ms of each instance; 0 is off. */
  maxConnectionAgeMs: number;
  /** Subscribe streams end cleanly after this long (--max-stream-lifetime-ms); 0 is never. */
  maxStreamLifetimeMs: number;
  /** The certificate to serve TLS with; undefined serves plaintext. */
  tls: LabServerTlsFiles | undefined;
  /** Ctrl-C: stop waiting for ready lines. */
  signal: AbortSignal | undefined;
  /** Told of the process as soon as it is spawned, so whoever owns it can stop it. */
  onProcess?: (child: ChildHandle) => void;
}

/** One instance to start: its index among the lab's servers and its address. */
export interface LabInstance {
  index: number;
  host: string;
}

/** "server 3 (127.77.0.3)", "servers 1-25", or "servers 1, 9, 17, … (125)". */
function describeInstances(instances: readonly LabInstance[]): string {
  const first = instances[0];
  const last = instances[instances.length - 1];
  if (first === undefined || last === undefined) return "no servers";
  if (instances.length === 1) return `server ${first.index + 1} (${first.host})`;
  if (last.index - first.index === instances.length - 1)
    return `servers ${first.index + 1}-${last.index + 1}`;
  const some = instances.slice(0, 3).map((i) => i.index + 1);
  return `servers ${some.join(", ")}, … (${instances.length})`;
}

/**
 * Starts one `grpc-lb serve` process with an instance on each address of
 * `instances` and waits for every ready line.
 */
export async function startLabServers(
  instances: readonly LabInstance[],
  port: number,
  o: LabServerProcessOptions,
): Promise<LabServer[]> {
  const hosts = instances.map((i) => i.host);
  const ready = new Map<string, ReadyLine>();
  const reloads = new Map<string, TlsReloads>();
  const child = startChild({
    name: describeInstances(instances),
    command: process.execPath,
    args: [
      cliEntry,
      "serve",
      ...hosts.flatMap((h) => ["--host", h]),
      "--port",
      String(port),
      "--grace-ms",
      String(o.graceMs),
      "--drain-delay-ms",
      String(o.drainDelayMs),
      "--metrics-port",
      "0",
      ...(o.tls === undefined
        ? []
        : [
            "--tls-cert",
            o.tls.certFile,
            "--tls-key",
            o.tls.keyFile,
            "--tls-reload-ms",
            String(o.tls.reloadMs),
          ]),
      ...(o.tls?.clientCaFile === undefined ? [] : ["--client-ca", o.tls.clientCaFile]),
      ...(o.maxConnectionAgeMs > 0 ? ["--max-connection-age-ms", String(o.maxConnectionAgeMs)] : []),
      ...(o.maxStreamLifetimeMs > 0 ? ["--max-stream-lifetime-ms", String(o.maxStreamLifetimeMs)] : []),
      ...(o.faults.delayMs > 0 ? ["--delay-ms", String(o.faults.delayMs)] : []),
      ...(o.faults.failRate > 0
        ? ["--fail-rate", String(o.faults.failRate), "--fail-code", o.faults.failCode]
        : []),
    ],
    onStdoutLine: (line) => {
      const r = parseReady(line);
      if (r) ready.set(r.host, r);
      noteReload(reloads, line);
    },
  });
  o.onProcess?.(child);
  try {
    await child.waitForLine(
      hosts.length === 1 ? "its ready line" : `ready lines for all ${hosts.length} addresses`,
      () => (ready.size === hosts.length ? true : undefined),
      o.startTimeoutMs,
      o.signal,
    );
    const servers = instances.map(({ index, host }) => {
      const r = ready.get(host) as ReadyLine;
      return {
        index,
        id: r.id,
        host,
        port: r.port,
        metricsPort: r.metricsPort,
        process: child,
        tlsReloads: () => reloads.get(r.id) ?? { applied: 0, lastFailure: undefined },
      };
    });
    const ports = new Set(servers.map((s) => s.port));
    if (ports.size !== 1 || (port !== 0 && !ports.has(port))) {
      throw new LabError(
        `servers of one process listen on ports ${[...ports].join(", ")}, not on one shared port`,
      );
    }
    return servers;
  } catch (e) {
    child.kill();
    await child.exited;
    throw errorFrom(LabError, e);
  }
}
