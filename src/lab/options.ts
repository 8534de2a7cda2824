import { LB_POLICIES } from "../envoy/options.js";
import { UsageError } from "../errors.js";
import type { EchoFaults } from "../server/echo-service.js";
import { DEFAULT_TLS_RELOAD_MS } from "../server/tls.js";
import { DEFAULT_ADDRESS_BASE } from "./addresses.js";
import { LAB_ENVOY, type LabEnvoyOptions } from "./lab-envoy-options.js";
import { LAB_TLS_KINDS, type LabTlsKind } from "./lab-tls.js";
import { TOPOLOGY_KINDS, type TopologyKind } from "./topologies/topology.js";

/** The virtual IP of the emulated ClusterIP Service: outside the servers' default range. */
export const DEFAULT_VIRTUAL_IP = "127.77.255.254";

/** Upper bound on --servers: each server is one Node process (about 50 MB). */
export const MAX_LAB_SERVERS = 64;
/** Upper bound on Envoy replicas behind the lab's front. */
export const MAX_LAB_ENVOYS = 8;
/** Upper bound on instances when several share a process (the many-servers scenario). */
export const MAX_LAB_INSTANCES = 1000;

export interface LabOptions {
  /** Number of Echo servers, one loopback address each. Default 3. */
  servers?: number;
  /** First server address; the others follow it. Default 127.77.0.1. */
  addressBase?: string;
  /** Port every server listens on; 0 lets the first server pick one. Default 0. */
  serverPort?: number;
  /** How 'server' resolves: every server (headless) or one virtual IP (clusterip). Default headless. */
  topology?: TopologyKind;
  /** Instances per server process (each keeps its own id and address). Default 1. */
  serversPerProcess?: number;
  /**
   * Deadline for each part to come up, and for Envoy to see every host, in ms. Default
   * 30000 plus 50 per server: the wait confirms Envoy's routes with 3 calls per host in a row.
   */
  startTimeoutMs?: number;
  /** How long servers may take to drain when the lab stops, in ms. Default 5000. */
  serverGraceMs?: number;
  /** How long a stopping server keeps serving while NOT_SERVING, in ms. Default 3 health-check intervals. */
  serverDrainDelayMs?: number;
  /** Faults every server injects into Echo calls. Default none. */
  serverFaults?: Partial<EchoFaults>;
  /**
   * Faults server 1 alone injects, over serverFaults (--slow-server, --fail-server): one slow or
   * failing backend among healthy ones. With serversPerProcess > 1 its whole process has them. Default none.
   */
  firstServerFaults?: Partial<EchoFaults>;
  /** Servers close connections older than this (grpc.max_connection_age_ms), so L4 clients reconnect; 0 is off. Default 0. */
  maxConnectionAgeMs?: number;
  /** Servers end every Subscribe stream cleanly after this long (--max-stream-lifetime-ms); 0 is off. Default 0. */
  maxStreamLifetimeMs?: number;
  /**
   * Envoy replicas. Above 1, a connection balancer stands in front of them (as a ClusterIP
   * Service in front of an Envoy Deployment), listening where Envoy's listener would. Default 1.
   */
  envoys?: number;
  /**
   * TLS with certificates the lab makes: "tls" on both legs (client → Envoy → servers, health
   * checks too), "mtls" where servers also require Envoy's client certificate, or "downstream"
   * on the listener alone with plaintext servers. Default "off".
   */
  tls?: LabTlsKind;
  /** With TLS: how often each server looks at its certificate files for a change (--tls-reload-ms), in ms. Default 1000. */
  tlsReloadMs?: number;
  /** Envoy's options, over LAB_ENVOY. */
  envoy?: LabEnvoyOptions;
}

export type ResolvedLabOptions = Required<
  Omit<LabOptions, "envoy" | "serverFaults" | "firstServerFaults">
> & {
  envoy: Required<LabEnvoyOptions>;
  serverFaults: EchoFaults;
  firstServerFaults: EchoFaults;
};

/** Lays option layers over each other, later ones winning; `envoy` is layered field by field. */
export function layerLabOptions(...layers: LabOptions[]): LabOptions {
  return Object.assign({}, ...layers, { envoy: Object.assign({}, ...layers.map((l) => l.envoy)) });
}

export function resolveLabOptions(options: LabOptions = {}): ResolvedLabOptions {
  const envoy = { ...LAB_ENVOY, ...options.envoy };
  const hc = envoy.healthCheck;
  const serverFaults: EchoFaults = {
    delayMs: 0,
    failRate: 0,
    failCode: "UNAVAILABLE",
    ...options.serverFaults,
  };
  const servers = options.servers ?? 3;
  const o: ResolvedLabOptions = {
    servers,
    addressBase: options.addressBase ?? DEFAULT_ADDRESS_BASE,
    serverPort: options.serverPort ?? 0,
    topology: options.topology ?? "headless",
    serversPerProcess: options.serversPerProcess ?? 1,
    startTimeoutMs: options.startTimeoutMs ?? 30_000 + 50 * servers,
    serverGraceMs: options.serverGraceMs ?? 5000,
    serverDrainDelayMs: options.serverDrainDelayMs ?? (hc === false ? 0 : 3 * hc.intervalMs),
    serverFaults,
    firstServerFaults: { ...serverFaults, ...options.firstServerFaults },
    maxConnectionAgeMs: options.maxConnectionAgeMs ?? 0,
    maxStreamLifetimeMs: options.maxStreamLifetimeMs ?? 0,
    envoys: options.envoys ?? 1,
    tls: options.tls ?? "off",
    tlsReloadMs: options.tlsReloadMs ?? DEFAULT_TLS_RELOAD_MS,
    envoy,
  };
  if (!Number.isInteger(o.serversPerProcess) || o.serversPerProcess < 1) {
    throw new UsageError(`lab: serversPerProcess must be a positive integer, got ${o.serversPerProcess}`);
  }
  if (envoy.listenPort !== 0 && envoy.listenPort === envoy.adminPort) {
    throw new UsageError(`lab: --listen-port and --admin-port cannot both be ${envoy.listenPort}`);
  }
  const processes = Math.ceil(o.servers / o.serversPerProcess);
  if (
    !Number.isInteger(o.servers) ||
    o.servers < 1 ||
    o.servers > MAX_LAB_INSTANCES ||
    processes > MAX_LAB_SERVERS
  ) {
    throw new UsageError(
      `lab: --servers must be from 1 to ${MAX_LAB_SERVERS} (up to ${MAX_LAB_INSTANCES} when instances share processes), got ${o.servers}`,
    );
  }
  for (const f of [o.serverFaults, o.firstServerFaults]) {
    if (!(f.delayMs >= 0 && f.delayMs <= 60_000) || !(f.failRate >= 0 && f.failRate <= 1)) {
      throw new UsageError(
        `lab: a server's delay must be 0-60000 ms and its failure rate 0-1, got ${f.delayMs} ms and ${f.failRate}`,
      );
    }
  }
  if (!Number.isInteger(o.maxConnectionAgeMs) || o.maxConnectionAgeMs < 0) {
    throw new UsageError(
      `lab: maxConnectionAgeMs must be a non-negative integer, got ${o.maxConnectionAgeMs}`,
    );
  }
  if (!Number.isInteger(o.envoys) || o.envoys < 1 || o.envoys > MAX_LAB_ENVOYS) {
    throw new UsageError(`lab: --envoys must be from 1 to ${MAX_LAB_ENVOYS}, got ${o.envoys}`);
  }
  if (!Number.isInteger(envoy.concurrency) || envoy.concurrency < 1 || envoy.concurrency > 64) {
    throw new UsageError(`lab: Envoy's --envoy-concurrency must be from 1 to 64, got ${envoy.concurrency}`);
  }
  if (!LB_POLICIES.includes(envoy.policy)) {
    throw new UsageError(`lab: --policy must be one of ${LB_POLICIES.join(", ")}, got '${envoy.policy}'`);
  }
  if (!LAB_TLS_KINDS.includes(o.tls)) {
    throw new UsageError(`lab: tls must be one of ${LAB_TLS_KINDS.join(", ")}, got '${o.tls}'`);
  }
  if (!Number.isInteger(o.tlsReloadMs) || o.tlsReloadMs < 10) {
    throw new UsageError(`lab: tlsReloadMs must be an integer of at least 10, got ${o.tlsReloadMs}`);
  }
  if (!TOPOLOGY_KINDS.includes(o.topology)) {
    throw new UsageError(`lab: --discovery must be one of ${TOPOLOGY_KINDS.join(", ")}, got '${o.topology}'`);
  }
  return o;
}
