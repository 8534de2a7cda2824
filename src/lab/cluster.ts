import { rm } from "node:fs/promises";
import { type DnsServerHandle, startDnsServer } from "../dns/server.js";
import type { UpstreamHost } from "../envoy/admin.js";
import { type EnvoyBinary, envoyVersion, findEnvoy } from "../envoy/binary.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import type { EnvoyConfigOptions } from "../envoy/options.js";
import type { EnvoyHandle } from "../envoy/process.js";
import { errorFrom, LabError } from "../errors.js";
import { type ClientTls, INSECURE } from "../grpc/client-tls.js";
import { formatHostPort } from "../util/address.js";
import { Disposers } from "../util/disposers.js";
import { portIsFree } from "../util/port-free.js";
import { abortable } from "../util/wait.js";
import { loopbackAddresses } from "./addresses.js";
import { type EnvoyTier, type StartTierEnvoy, startEnvoyTier } from "./envoy-tier.js";
import type { LabEvent } from "./events.js";
import { ensureUp, labEnvoyBootstrap, SERVER_NAME, startLabEnvoy, waitForHosts } from "./lab-envoy.js";
import { type LabTls, prepareLabTls } from "./lab-tls.js";
import type { ResolvedLabOptions } from "./options.js";
import { ServerPool } from "./server-pool.js";
import type { LabServer } from "./servers.js";
import { topologies } from "./topologies/registry.js";
import type { Topology } from "./topologies/topology.js";
import { makeLabWorkDir } from "./workdir.js";

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
  const started = performance.now();
  loopbackAddresses(o.addressBase, o.servers);
  await checkFixedPorts(o);
  const binary = findEnvoy();
  const version = await abortable(envoyVersion(binary.path), signal);
  onEvent({ kind: "envoy-found", path: binary.path, source: binary.source, version });

  const disposers = new Disposers();
  try {
    const workDir = disposers.use(await makeLabWorkDir(), (dir) => rm(dir, { recursive: true, force: true }));
    const dns = disposers.use(
      await startDnsServer({ host: "127.0.0.1", port: 0, records: { [SERVER_NAME]: [] } }),
      (d) => d.stop(),
    );
    onEvent({ kind: "dns-started", address: formatHostPort(dns.host, dns.port) });
    const certsStarted = performance.now();
    const tls = await prepareLabTls(o.tls, workDir, o.servers, o.tlsReloadMs);
    if (tls)
      onEvent({
        kind: "certs-created",
        tls: tls.kind,
        dir: tls.envoy.certsDir,
        caFile: tls.caFile,
        elapsedMs: Math.round(performance.now() - certsStarted),
      });
    const envoyTls = tls?.envoy ?? false;
    const clientTls = tls?.client ?? INSECURE;
    const pool = new ServerPool(o, disposers, onEvent, signal, tls);
    const first = await pool.add(o.servers);
    const topology = topologies[o.topology]();
    const answer = await topology.start(
      { options: o, disposers, envoyBinary: binary.path, workDir, onEvent, signal },
      first,
    );
    const setRecords = (addresses: readonly string[]): void => {
      dns.setRecords(SERVER_NAME, [...addresses]);
      onEvent({ kind: "dns-records", name: SERVER_NAME, addresses });
    };
    setRecords(answer);
    const startOne: StartTierEnvoy = (name, ports, s) =>
      startLabEnvoy(o, binary.path, dns, pool.port, workDir, s, name, { ...ports, tls: envoyTls });
    let envoy: EnvoyHandle;
    let tier: EnvoyTier | undefined;
    if (o.envoys > 1) {
      tier = await startEnvoyTier(o, binary.path, startOne, workDir, disposers, onEvent, signal);
      envoy = tier.envoys[0] as EnvoyHandle;
    } else {
      envoy = disposers.use(
        await startLabEnvoy(o, binary.path, dns, pool.port, workDir, signal, undefined, { tls: envoyTls }),
        (e) => e.stop(),
      );
      onEvent({
        kind: "envoy-started",
        listener: formatHostPort("127.0.0.1", envoy.listenerPort),
        admin: envoy.adminAddress,
        pid: envoy.process.pid,
      });
    }
    const listenAddress = tier?.listenAddress ?? formatHostPort("127.0.0.1", envoy.listenerPort);

    const want = new Set(answer.map((host) => formatHostPort(host, pool.port)));
    for (const [i, e] of (tier?.envoys ?? [envoy]).entries()) {
      await waitForHosts(
        e,
        `${tier ? `Envoy ${i + 1}` : "Envoy"} to route to all ${want.size} addresses of '${SERVER_NAME}', healthy hosts of cluster '${CLUSTER_NAME}'`,
        (hs) =>
          hs.length === want.size &&
          hs.every((h) => h.healthy && want.has(formatHostPort(h.address, h.port))),
        o.startTimeoutMs,
        signal,
        topology.envoySeesServers ? "address" : "opaque",
        clientTls,
      );
    }
    onEvent({ kind: "hosts-ready", count: want.size, elapsedMs: Math.round(performance.now() - started) });

    let stopping: Promise<void> | undefined;
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
        const t = performance.now();
        const bootstrap = labEnvoyBootstrap(o, dns, pool.port, {
          ...changes,
          listenPort: envoy.listenerPort,
          tls: envoyTls,
        });
        const next = disposers.use(await envoy.hotRestart(bootstrap, s), (e) => e.stop());
        onEvent({
          kind: "envoy-reloaded",
          epoch: next.epoch,
          admin: next.adminAddress,
          pid: next.process.pid,
          elapsedMs: Math.round(performance.now() - t),
        });
        envoy = next;
        return next;
      },
      requestsPerHost: () => (tier?.envoys[0] ?? envoy).admin.endpointCounter(CLUSTER_NAME, "rq_total"),
      stop(reason = "done") {
        stopping ??= (async () => {
          const t = performance.now();
          onEvent({ kind: "stopping", reason });
          await disposers.dispose().catch(() => {});
          onEvent({ kind: "stopped", elapsedMs: Math.round(performance.now() - t) });
        })();
        return stopping;
      },
    };
  } catch (e) {
    await disposers.dispose().catch(() => {});
    if (signal?.aborted) {
      throw new LabError("interrupted while starting; everything started was stopped", { cause: e });
    }
    throw errorFrom(LabError, e);
  }
}

/** Fixed Envoy ports (lab up) are checked before anything starts: a second lab fails at once, naming the port. */
async function checkFixedPorts(o: ResolvedLabOptions): Promise<void> {
  for (const [what, port] of [
    ["listener", o.envoy.listenPort],
    ["admin", o.envoy.adminPort],
  ] as const) {
    if (port !== 0 && !(await portIsFree("127.0.0.1", port))) {
      throw new LabError(
        `Envoy's ${what} port 127.0.0.1:${port} is already in use (another 'lab up'?); nothing was started`,
      );
    }
  }
}
