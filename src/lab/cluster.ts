import type { DnsServerHandle } from "../dns/server.js";
import type { UpstreamHost } from "../envoy/admin.js";
import { type EnvoyBinary, envoyVersion, findEnvoy } from "../envoy/binary.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import type { EnvoyConfigOptions } from "../envoy/options.js";
import type { EnvoyHandle } from "../envoy/process.js";
import { LabError } from "../errors.js";
import { type ClientTls, INSECURE } from "../grpc/client-tls.js";
import { formatHostPort } from "../util/address.js";
import { Disposers } from "../util/disposers.js";
import { abortable } from "../util/wait.js";
import { loopbackAddresses } from "./addresses.js";
import { checkFixedPorts, startLabEnvoys, waitUntilRoutingToAll } from "./envoy-start.js";
import type { EnvoyTier } from "./envoy-tier.js";
import type { LabEvent } from "./events.js";
import { ensureUp, hotRestartLabEnvoy, SERVER_NAME } from "./lab-envoy.js";
import { type LabTls, prepareLabTlsReported } from "./lab-tls.js";
import { labStartFailed, labStopper, startLabBase } from "./lifecycle.js";
import type { ResolvedLabOptions } from "./options.js";
import { ServerPool } from "./server-pool.js";
import type { LabServer } from "./servers.js";
import { topologies } from "./topologies/registry.js";
import type { Topology } from "./topologies/topology.js";

export { SERVER_NAME } from "./lab-envoy.js";

/** A running lab: DNS, the server pool, a topology and Envoy, with one lifecycle. */
export interface LabCluster {
  readonly options: ResolvedLabOptions;
  /** The Envoy serving now: after reloadEnvoy, the new epoch; with several, the first. */
  readonly envoy: EnvoyHandle;
  /** With `envoys` above 1: the Envoys and the connection balancer in front of them. */
  readonly tier: EnvoyTier | undefined;
  readonly topology: Topology;
  readonly envoyBinary: EnvoyBinary & { version: string };
  readonly dns: DnsServerHandle;
  readonly pool: ServerPool;
  /** host:port of Envoy's gRPC listener (of the front, with several Envoys): where clients connect. */
  readonly listenAddress: string;
  /** The lab's certificates, with tls "tls" or "mtls"; undefined in plaintext. */
  readonly tls: LabTls | undefined;
  /** How a client connects to the listener: plaintext, or TLS trusting the lab's CA. */
  readonly clientTls: ClientTls;
  /** Servers started and not stopped, in start order. */
  servers(): readonly LabServer[];
  /** Makes DNS answer 'server' for exactly these servers, as the topology says. */
  setServerRecords(servers: readonly LabServer[]): void;
  /** Envoy's upstream hosts of cluster 'server', as its admin API lists them. */
  hosts(): Promise<UpstreamHost[]>;
  /** Requests Envoy sent to each host of 'server' so far, by host:port, from its Prometheus stats. */
  requestsPerHost(): Promise<Record<string, number>>;
  /** Throws, with Envoy's stderr, once Envoy has exited. */
  ensureEnvoyUp(): void;
  /**
   * Hot-restarts Envoy (Envoy's own protocol; the lab must start with envoy.hotRestart) with
   * its configuration changed by `changes`, on the same listener: resolves with the new epoch
   * once it is LIVE, while the old one drains and exits by itself.
   */
  reloadEnvoy(changes: EnvoyConfigOptions, signal?: AbortSignal): Promise<EnvoyHandle>;
  /** Stops Envoy, the topology's parts, the servers (gracefully), then DNS, and removes the work directory. */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts DNS, the servers, the topology and Envoy; resolves once Envoy lists
 * every address DNS gives as a healthy host. Whatever starts is pushed on one
 * stack of disposers: a failed start and a normal stop undo it the same way.
 */
export async function startLabCluster(
  o: ResolvedLabOptions,
  onEvent: (e: LabEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<LabCluster> {
  const startedAt = performance.now();
  loopbackAddresses(o.addressBase, o.servers);
  await checkFixedPorts(o);
  const binary = findEnvoy();
  const version = await abortable(envoyVersion(binary.path), signal);
  onEvent({ kind: "envoy-found", path: binary.path, source: binary.source, version });

  const disposers = new Disposers();
  try {
    const { workDir, dns } = await startLabBase(disposers, onEvent);
    const tls = await prepareLabTlsReported(o.tls, workDir, o.servers, o.tlsReloadMs, onEvent);
    const envoyTls = tls?.envoy ?? false;
    const clientTls = tls?.client ?? INSECURE;
    const pool = new ServerPool(o, disposers, onEvent, signal, tls);
    const first = await pool.add(o.servers);
    const topology = topologies[o.topology]();
    const answer = await topology.start(
      { options: o, disposers, envoyBinary: binary.path, workDir, dns, pool, onEvent, signal },
      first,
    );
    const setRecords = (addresses: readonly string[]): void => {
      dns.setRecords(SERVER_NAME, [...addresses]);
      onEvent({ kind: "dns-records", name: SERVER_NAME, addresses });
    };
    setRecords(answer);
    const started = await startLabEnvoys({
      options: o,
      binary: binary.path,
      dns,
      serverPort: pool.port,
      workDir,
      disposers,
      onEvent,
      signal,
      envoyTls,
      eds: topology.envoyEds(),
    });
    const { tier, listenAddress } = started;
    let envoy = started.envoy;
    const want = new Set(answer.map((host) => formatHostPort(host, pool.port)));
    await waitUntilRoutingToAll(
      started,
      want,
      o,
      topology.envoySeesServers ? "address" : "opaque",
      clientTls,
      signal,
    );
    onEvent({ kind: "hosts-ready", count: want.size, elapsedMs: Math.round(performance.now() - startedAt) });

    return {
      options: o,
      get envoy() {
        return tier?.envoys[0] ?? envoy;
      },
      tier,
      topology,
      envoyBinary: { ...binary, version },
      dns,
      pool,
      listenAddress,
      tls,
      clientTls,
      servers: () => pool.live(),
      setServerRecords: (servers) => setRecords(topology.records(servers)),
      hosts: () => (tier?.envoys[0] ?? envoy).admin.clusterHosts(CLUSTER_NAME),
      ensureEnvoyUp: () => (tier ? tier.ensureUp() : ensureUp(envoy)),
      async reloadEnvoy(changes, s) {
        if (tier) throw new LabError("a hot restart needs the lab's single Envoy (envoys: 1)");
        envoy = await hotRestartLabEnvoy(
          envoy,
          changes,
          { options: o, dns, serverPort: pool.port, envoyTls, eds: topology.envoyEds(), disposers, onEvent },
          s,
        );
        return envoy;
      },
      requestsPerHost: () => (tier?.envoys[0] ?? envoy).admin.endpointCounter(CLUSTER_NAME, "rq_total"),
      stop: labStopper(disposers, onEvent),
    };
  } catch (e) {
    return labStartFailed(disposers, e, signal);
  }
}
