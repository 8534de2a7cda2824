import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DnsServerHandle, startDnsServer } from "../dns/server.js";
import { type EnvoyBinary, envoyVersion, findEnvoy } from "../envoy/binary.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import { buildL4ProxyBootstrap, L4_LISTENER_NAME } from "../envoy/l4-proxy.js";
import { type EnvoyHandle, startEnvoy } from "../envoy/process.js";
import { bootstrapToYaml, envoyConfigYaml } from "../envoy/yaml.js";
import { errorFrom, LabError } from "../errors.js";
import { describeExit } from "../proc/child.js";
import { formatHostPort } from "../util/address.js";
import { waitFor } from "../util/wait.js";
import { loopbackAddresses } from "./addresses.js";
import type { LabEvent } from "./events.js";
import type { ResolvedLabOptions } from "./options.js";
import { type LabServer, startLabServer } from "./servers.js";

/** The DNS name the servers share, as Docker's DNS or a headless Service would answer it. */
export const SERVER_NAME = "server";

export interface LabCluster {
  readonly envoy: EnvoyHandle;
  /** The kube-proxy stand-in, with --discovery clusterip. */
  readonly l4Proxy: EnvoyHandle | undefined;
  readonly envoyBinary: EnvoyBinary & { version: string };
  readonly dns: DnsServerHandle;
  readonly servers: readonly LabServer[];
  /** host:port of Envoy's gRPC listener: where clients connect. */
  readonly listenAddress: string;
  /** Stops Envoy, then the servers (gracefully), then DNS, and removes the work directory. */
  stop(reason?: string): Promise<void>;
}

/**
 * Starts DNS, N servers on their own loopback addresses, and Envoy resolving
 * "server" through that DNS; resolves once Envoy's admin API lists every
 * server as a healthy host. If any part fails, everything started so far is
 * stopped before the error (naming that part) is thrown.
 */
export async function startLabCluster(
  o: ResolvedLabOptions,
  onEvent: (e: LabEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<LabCluster> {
  const started = performance.now();
  const addresses = loopbackAddresses(o.addressBase, o.servers);
  const binary = findEnvoy();
  const version = await envoyVersion(binary.path);
  onEvent({ kind: "envoy-found", path: binary.path, source: binary.source, version });

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const workDir = await mkdtemp(join(tmpdir(), "grpc-lb-lab-"));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));

    const dns = await startDnsServer({ host: "127.0.0.1", port: 0, records: { [SERVER_NAME]: [] } });
    cleanups.push(() => dns.stop());
    onEvent({ kind: "dns-started", address: formatHostPort(dns.host, dns.port) });
    signal?.throwIfAborted();

    // The first server picks the shared port (unless one was given); the others then bind it on their addresses.
    const servers: LabServer[] = [];
    cleanups.push(() => Promise.all(servers.map((s) => s.process.stop(o.serverGraceMs))).then(() => {}));
    const serverOptions = { graceMs: o.serverGraceMs, startTimeoutMs: o.startTimeoutMs };
    const first = await startLabServer(0, addresses[0] as string, o.serverPort, serverOptions);
    servers.push(first);
    onEvent({
      kind: "server-started",
      index: 0,
      id: first.id,
      address: formatHostPort(first.host, first.port),
      pid: first.process.pid,
    });
    const rest = await Promise.allSettled(
      addresses.slice(1).map(async (host, i) => {
        const s = await startLabServer(i + 1, host, first.port, serverOptions);
        servers.push(s);
        onEvent({
          kind: "server-started",
          index: s.index,
          id: s.id,
          address: formatHostPort(s.host, s.port),
          pid: s.process.pid,
        });
        return s;
      }),
    );
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    servers.sort((a, b) => a.index - b.index);
    signal?.throwIfAborted();

    let l4Proxy: EnvoyHandle | undefined;
    if (o.discovery.kind === "clusterip") {
      l4Proxy = await startL4Proxy(o, o.discovery.virtualIp, servers, binary.path, workDir);
      const proxy = l4Proxy;
      cleanups.push(() => proxy.stop());
      onEvent({
        kind: "l4-proxy-started",
        virtualIp: formatHostPort(o.discovery.virtualIp, first.port),
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
          serverPort: first.port,
          policy: o.policy,
          dnsRefreshMs: o.dnsRefreshMs,
          dnsResolvers: { kind: "servers", servers: [{ address: dns.host, port: dns.port }] },
        },
        "Generated by grpc-lb lab for this run.",
      ),
      workDir,
      concurrency: o.envoyConcurrency,
      logLevel: o.envoyLogLevel,
      startTimeoutMs: o.startTimeoutMs,
    });
    cleanups.push(() => envoy.stop());
    const listenAddress = formatHostPort("127.0.0.1", envoy.listenerPort);
    onEvent({
      kind: "envoy-started",
      listener: listenAddress,
      admin: envoy.adminAddress,
      pid: envoy.process.pid,
    });

    const want = new Set(answer.map((host) => formatHostPort(host, first.port)));
    let seen = 0;
    await waitFor(
      `Envoy to list all ${want.size} addresses of '${SERVER_NAME}' as healthy hosts of cluster '${CLUSTER_NAME}'`,
      async () => {
        const state = envoy.process.state();
        if (state.t === "exited") {
          throw new LabError(`envoy ${describeExit(state.exit)}:\n${envoy.process.stderrTail()}`);
        }
        const hosts = await envoy.admin.clusterHosts(CLUSTER_NAME).catch(() => undefined);
        if (hosts === undefined) return undefined;
        const healthy = hosts.filter((h) => h.healthy && want.has(formatHostPort(h.address, h.port)));
        seen = healthy.length;
        return healthy.length === want.size && hosts.length === want.size ? true : undefined;
      },
      { timeoutMs: o.startTimeoutMs, intervalMs: 50, ...(signal ? { signal } : {}) },
      () => `${seen} of ${want.size}`,
    );
    onEvent({ kind: "hosts-ready", count: want.size, elapsedMs: Math.round(performance.now() - started) });

    let stopping: Promise<void> | undefined;
    return {
      envoy,
      l4Proxy,
      envoyBinary: { ...binary, version },
      dns,
      servers,
      listenAddress,
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
  });
}
