import type { DnsServerHandle } from "../dns/server.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import type { EdsOptions, EnvoyTlsOptions } from "../envoy/options.js";
import type { EnvoyHandle } from "../envoy/process.js";
import { LabError } from "../errors.js";
import type { ClientTls } from "../grpc/client-tls.js";
import { formatHostPort } from "../util/address.js";
import type { Disposers } from "../util/disposers.js";
import { portIsFree } from "../util/port-free.js";
import { type EnvoyTier, type StartTierEnvoy, startEnvoyTier } from "./envoy-tier.js";
import type { LabEvent } from "./events.js";
import { SERVER_NAME, startLabEnvoy, waitForHosts } from "./lab-envoy.js";
import type { ResolvedLabOptions } from "./options.js";

/** What the lab's Envoys start on: the lab's DNS, its servers' port and work directory, its TLS. */
export interface LabEnvoyStart {
  options: ResolvedLabOptions;
  /** Envoy's executable. */
  binary: string;
  dns: DnsServerHandle;
  /** The port every server listens on. */
  serverPort: number;
  workDir: string;
  /** Where each Envoy's stop is pushed. */
  disposers: Disposers;
  onEvent: (e: LabEvent) => void;
  signal: AbortSignal | undefined;
  /** Envoy's TLS (the lab's certificates), or false in plaintext. */
  envoyTls: EnvoyTlsOptions | false;
  /** The xDS server the Envoys take their hosts from, or undefined where they resolve DNS. */
  eds: EdsOptions | undefined;
}

/** The lab's Envoy, or with `envoys` above 1 its tier, and where clients connect. */
export interface LabEnvoys {
  envoy: EnvoyHandle;
  tier: EnvoyTier | undefined;
  /** host:port of Envoy's gRPC listener (of the front, with several Envoys). */
  listenAddress: string;
}

/** Fixed Envoy ports (lab up) are checked before anything starts: a second lab fails at once, naming the port. */
export async function checkFixedPorts(o: ResolvedLabOptions): Promise<void> {
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

/** Starts the lab's single Envoy, or its tier of Envoys behind a connection balancer. */
export async function startLabEnvoys(s: LabEnvoyStart): Promise<LabEnvoys> {
  const { options: o, binary, dns, serverPort, workDir, disposers, onEvent, signal, envoyTls, eds } = s;
  const startOne: StartTierEnvoy = (name, ports, sig) =>
    startLabEnvoy(o, binary, dns, serverPort, workDir, sig, name, { ...ports, tls: envoyTls }, eds);
  if (o.envoys > 1) {
    const tier = await startEnvoyTier(o, binary, startOne, workDir, disposers, onEvent, signal);
    return { envoy: tier.envoys[0] as EnvoyHandle, tier, listenAddress: tier.listenAddress };
  }
  const envoy = disposers.use(
    await startLabEnvoy(o, binary, dns, serverPort, workDir, signal, undefined, { tls: envoyTls }, eds),
    (e) => e.stop(),
  );
  onEvent({
    kind: "envoy-started",
    listener: formatHostPort("127.0.0.1", envoy.listenerPort),
    admin: envoy.adminAddress,
    pid: envoy.process.pid,
  });
  return { envoy, tier: undefined, listenAddress: formatHostPort("127.0.0.1", envoy.listenerPort) };
}

/**
 * Waits until each of the lab's Envoys lists exactly the servers at `addresses`
 * (each host:port) as healthy hosts and its load balancer routes to them.
 */
export async function waitUntilRoutingToAll(
  started: LabEnvoys,
  addresses: ReadonlySet<string>,
  o: ResolvedLabOptions,
  replies: "address" | "opaque",
  clientTls: ClientTls,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { tier } = started;
  for (const [i, e] of (tier?.envoys ?? [started.envoy]).entries()) {
    await waitForHosts(
      e,
      `${tier ? `Envoy ${i + 1}` : "Envoy"} to route to all ${addresses.size} addresses of '${SERVER_NAME}', healthy hosts of cluster '${CLUSTER_NAME}'`,
      (hs) =>
        hs.length === addresses.size &&
        hs.every((h) => h.healthy && addresses.has(formatHostPort(h.address, h.port))),
      o.startTimeoutMs,
      signal,
      replies,
      clientTls,
    );
  }
}
