import { rm } from "node:fs/promises";
import { type DnsServerHandle, startDnsServer } from "../dns/server.js";
import type { UpstreamHost } from "../envoy/admin.js";
import { type EnvoyBinary, envoyVersion, findEnvoy } from "../envoy/binary.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import { buildL4ProxyBootstrap, L4_LISTENER_NAME } from "../envoy/l4-proxy.js";
import { type EnvoyHandle, startEnvoy } from "../envoy/process.js";
import { bootstrapToYaml, envoyConfigYaml } from "../envoy/yaml.js";
import { errorFrom, LabError } from "../errors.js";
import { type ChildHandle, describeExit } from "../proc/child.js";
import { formatHostPort } from "../util/address.js";
import { portIsFree } from "../util/port-free.js";
import { waitFor } from "../util/wait.js";
import { loopbackAddresses } from "./addresses.js";
import type { LabEvent } from "./events.js";
import type { ResolvedLabOptions } from "./options.js";
import { type LabServer, startLabServers } from "./servers.js";
import { makeLabWorkDir } from "./workdir.js";

/** The DNS name the servers share, as Docker's DNS or a headless Service would answer it. */
export const SERVER_NAME = "server";

export interface LabCluster {
  readonly options: ResolvedLabOptions;
  readonly envoy: EnvoyHandle;
  /** The kube-proxy stand-in, with --discovery clusterip. */
  readonly l4Proxy: EnvoyHandle | undefined;
  readonly envoyBinary: EnvoyBinary & { version: string };
  readonly dns: DnsServerHandle;
  /** The port every server listens on. */
  readonly serverPort: number;
  /** Servers started and not stopped, in start order. */
  servers(): readonly LabServer[];
  /** host:port of Envoy's gRPC listener: where clients connect. */
  readonly listenAddress: string;
  /** Starts more servers on the next free addresses; they are not in DNS until setServerRecords. */
  addServers(count: number): Promise<LabServer[]>;
  /** Makes DNS answer 'server' with exactly these servers' addresses (headless discovery). */
  setServerRecords(servers: readonly LabServer[]): void;
  /** SIGTERM to the server's process: it drains (NOT_SERVING, then finishes in-flight calls) and exits. */
  stopServer(server: LabServer): Promise<void>;
  /** SIGKILL to the server's process, as a crash. */
  killServer(server: LabServer): Promise<void>;
  /** Envoy's upstream hosts of cluster 'server', as its admin API lists them. */
  hosts(): Promise<UpstreamHost[]>;
  /** Polls Envoy's hosts until `done` holds; returns how long that took, in ms. */
  waitForHosts(what: string, done: (hosts: UpstreamHost[]) => boolean, timeoutMs?: number): Promise<number>;
  /** Stops Envoy, the L4 proxy, the servers (gracefully), then DNS, and removes the work directory. */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts DNS, N servers on their own loopback addresses, and Envoy resolving
 * "server" through that DNS; resolves once Envoy's admin API lists every
 * address DNS gives as a healthy host. If any part fails, everything started
 * so far is stopped before the error (naming that part) is thrown.
 */
export async function startLabCluster(
  o: ResolvedLabOptions,
  onEvent: (e: LabEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<LabCluster> {
  const started = performance.now();
  loopbackAddresses(o.addressBase, o.servers);
  // Fixed Envoy ports (lab up) are checked before anything starts: a second lab on them
  // fails at once, naming the port, instead of after starting servers.
  for (const [what, port] of [
    ["listener", o.listenPort],
    ["admin", o.adminPort],
  ] as const) {
    if (port !== 0 && !(await portIsFree("127.0.0.1", port))) {
      throw new LabError(
        `Envoy's ${what} port 127.0.0.1:${port} is already in use (another 'lab up'?); nothing was started`,
      );
    }
  }
  const binary = findEnvoy();
  const version = await envoyVersion(binary.path);
  onEvent({ kind: "envoy-found", path: binary.path, source: binary.source, version });

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
    cleanups.length = 0;
  };
  // Every server process ever started, stopped at the end whatever happened to it.
  const processes = new Set<ChildHandle>();
  let live: LabServer[] = [];
  let nextIndex = 0;
  let serverPort = o.serverPort;
  const serverOptions = {
    graceMs: o.serverGraceMs,
    drainDelayMs: o.serverDrainDelayMs,
    startTimeoutMs: o.startTimeoutMs,
    signal,
  };

  const addServers = async (count: number): Promise<LabServer[]> => {
    const hosts = loopbackAddresses(o.addressBase, nextIndex + count).slice(nextIndex);
    const groups: { first: number; hosts: string[] }[] = [];
    for (let i = 0; i < hosts.length; i += o.serversPerProcess) {
      groups.push({ first: nextIndex + i, hosts: hosts.slice(i, i + o.serversPerProcess) });
    }
    nextIndex += count;
    const added: LabServer[] = [];
    const record = (servers: LabServer[]): void => {
      for (const s of servers) {
        processes.add(s.process);
        added.push(s);
        onEvent({
          kind: "server-started",
          index: s.index,
          id: s.id,
          address: formatHostPort(s.host, s.port),
          pid: s.process.pid,
        });
      }
    };
    // With port 0 the first process picks the shared port; the rest then bind it on their addresses.
    let rest = groups;
    if (serverPort === 0 && groups[0]) {
      record(await startLabServers(groups[0].first, groups[0].hosts, 0, serverOptions));
      serverPort = added[0]?.port ?? 0;
      rest = groups.slice(1);
    }
    const results = await Promise.allSettled(
      rest.map((g) => startLabServers(g.first, g.hosts, serverPort, serverOptions).then(record)),
    );
    live = [...live, ...added].sort((a, b) => a.index - b.index);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    return added.sort((a, b) => a.index - b.index);
  };

  try {
    const workDir = await makeLabWorkDir();
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));

    const dns = await startDnsServer({ host: "127.0.0.1", port: 0, records: { [SERVER_NAME]: [] } });
    cleanups.push(() => dns.stop());
    onEvent({ kind: "dns-started", address: formatHostPort(dns.host, dns.port) });
    signal?.throwIfAborted();

    cleanups.push(async () => {
      await Promise.all([...processes].map((p) => p.stop(o.serverGraceMs + o.serverDrainDelayMs)));
    });
    const servers = await addServers(o.servers);
    signal?.throwIfAborted();

    let l4Proxy: EnvoyHandle | undefined;
    if (o.discovery.kind === "clusterip") {
      l4Proxy = await startL4Proxy(o, o.discovery.virtualIp, servers, binary.path, workDir, signal);
      const proxy = l4Proxy;
      cleanups.push(() => proxy.stop());
      onEvent({
        kind: "l4-proxy-started",
        virtualIp: formatHostPort(o.discovery.virtualIp, serverPort),
        endpoints: servers.length,
        pid: proxy.process.pid,
      });
    }
    const answer = o.discovery.kind === "clusterip" ? [o.discovery.virtualIp] : servers.map((s) => s.host);
    dns.setRecords(SERVER_NAME, answer);
    onEvent({ kind: "dns-records", name: SERVER_NAME, addresses: answer });

    const envoy = await startEnvoy({
      binary: binary.path,
      configYaml: envoyConfigYaml(
        {
          listenAddress: "127.0.0.1",
          listenPort: o.listenPort,
          adminPort: o.adminPort,
          serverHost: SERVER_NAME,
          serverPort,
          policy: o.policy,
          dnsRefreshMs: o.dnsRefreshMs,
          dnsResolvers: { kind: "servers", servers: [{ address: dns.host, port: dns.port }] },
          requestHeadersTimeoutMs: o.requestHeadersTimeoutMs,
          updateMergeWindowMs: o.updateMergeWindowMs,
          healthCheck: o.healthCheck,
          outlierDetection: o.outlierDetection,
          retry: o.retry,
        },
        "Generated by grpc-lb lab for this run.",
      ),
      workDir,
      concurrency: o.envoyConcurrency,
      logLevel: o.envoyLogLevel,
      startTimeoutMs: o.startTimeoutMs,
      signal,
    });
    cleanups.push(() => envoy.stop());
    const listenAddress = formatHostPort("127.0.0.1", envoy.listenerPort);
    onEvent({
      kind: "envoy-started",
      listener: listenAddress,
      admin: envoy.adminAddress,
      pid: envoy.process.pid,
    });

    const hosts = async (): Promise<UpstreamHost[]> => envoy.admin.clusterHosts(CLUSTER_NAME);
    const waitForHosts = async (
      what: string,
      done: (hosts: UpstreamHost[]) => boolean,
      timeoutMs = o.startTimeoutMs,
    ): Promise<number> => {
      const t0 = performance.now();
      let last: UpstreamHost[] = [];
      await waitFor(
        what,
        async () => {
          const state = envoy.process.state();
          if (state.t === "exited") {
            throw new LabError(`envoy ${describeExit(state.exit)}:\n${envoy.process.stderrTail()}`);
          }
          const current = await hosts().catch(() => undefined);
          if (current === undefined) return undefined;
          last = current;
          return done(current) ? true : undefined;
        },
        { timeoutMs, intervalMs: 10, ...(signal ? { signal } : {}) },
        () => `${last.filter((h) => h.healthy).length} healthy of ${last.length} hosts`,
      );
      return performance.now() - t0;
    };

    const want = new Set(answer.map((host) => formatHostPort(host, serverPort)));
    await waitForHosts(
      `Envoy to list all ${want.size} addresses of '${SERVER_NAME}' as healthy hosts of cluster '${CLUSTER_NAME}'`,
      (hs) =>
        hs.length === want.size && hs.every((h) => h.healthy && want.has(formatHostPort(h.address, h.port))),
    );
    onEvent({ kind: "hosts-ready", count: want.size, elapsedMs: Math.round(performance.now() - started) });

    const own = (server: LabServer, verb: string): ChildHandle => {
      const sharing = live.filter((s) => s.process === server.process).length;
      if (sharing > 1)
        throw new LabError(
          `cannot ${verb} server ${server.index + 1}: its process also runs ${sharing - 1} others`,
        );
      live = live.filter((s) => s !== server);
      return server.process;
    };

    let stopping: Promise<void> | undefined;
    return {
      options: o,
      envoy,
      l4Proxy,
      envoyBinary: { ...binary, version },
      dns,
      serverPort,
      servers: () => live,
      listenAddress,
      addServers,
      setServerRecords(records) {
        if (o.discovery.kind !== "headless")
          throw new LabError("server records change only with headless discovery");
        const addresses = records.map((s) => s.host);
        dns.setRecords(SERVER_NAME, addresses);
        onEvent({ kind: "dns-records", name: SERVER_NAME, addresses });
      },
      async stopServer(server) {
        await own(server, "stop").stop(o.serverGraceMs + o.serverDrainDelayMs + 5000);
      },
      async killServer(server) {
        const p = own(server, "kill");
        p.kill();
        await p.exited;
      },
      hosts,
      waitForHosts,
      stop(reason = "done") {
        stopping ??= (async () => {
          const t = performance.now();
          onEvent({ kind: "stopping", reason });
          await cleanup();
          onEvent({ kind: "stopped", elapsedMs: Math.round(performance.now() - t) });
        })();
        return stopping;
      },
    };
  } catch (e) {
    await cleanup();
    if (signal?.aborted)
      throw new LabError("interrupted while starting; everything started was stopped", { cause: e });
    throw errorFrom(LabError, e);
  }
}

/** Envoy as kube-proxy: a tcp_proxy on the virtual IP, balancing connections over the servers. */
function startL4Proxy(
  o: ResolvedLabOptions,
  virtualIp: string,
  servers: readonly LabServer[],
  binary: string,
  workDir: string,
  signal: AbortSignal | undefined,
): Promise<EnvoyHandle> {
  const bootstrap = buildL4ProxyBootstrap({
    virtualIp,
    port: servers[0]?.port ?? 0,
    endpoints: servers.map((s) => ({ address: s.host, port: s.port })),
    adminPort: 0,
  });
  return startEnvoy({
    name: "l4-proxy",
    binary,
    configYaml: bootstrapToYaml(bootstrap, "Generated by grpc-lb lab: the ClusterIP Service emulation."),
    workDir,
    concurrency: 1,
    logLevel: o.envoyLogLevel,
    startTimeoutMs: o.startTimeoutMs,
    listenerName: L4_LISTENER_NAME,
    signal,
  });
}
