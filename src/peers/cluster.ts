import { join } from "node:path";
import type { DnsServerHandle } from "../dns/server.js";
import type { LabEvent } from "../lab/events.js";
import { SERVER_NAME } from "../lab/lab-envoy.js";
import { labStartFailed, labStopper, startLabBase } from "../lab/lifecycle.js";
import type { ResolvedLabOptions } from "../lab/options.js";
import { ServerPool } from "../lab/server-pool.js";
import type { LabServer } from "../lab/servers.js";
import { Disposers } from "../util/disposers.js";
import { attachPeer, type PeerTuning } from "./attach.js";
import type { PeerEvent } from "./events.js";
import type { PeerKind } from "./options.js";
import type { PeerHandle } from "./process.js";

/** The lab with HAProxy or nginx where Envoy would be: the lab's DNS, its servers, the peer. */
export interface PeerCluster {
  readonly peer: PeerHandle;
  readonly dns: DnsServerHandle;
  readonly pool: ServerPool;
  /** host:port of the peer's gRPC listener: where clients connect. */
  readonly listenAddress: string;
  servers(): readonly LabServer[];
  /**
   * Starts `count` more servers and puts every live server in DNS, as a scale-out. HAProxy
   * finds them at its next resolution; nginx, whose servers were fixed at start, never does.
   */
  addServers(count: number): Promise<LabServer[]>;
  /** Makes DNS answer these servers' addresses, as a scale-out or a scale-in would. */
  setServerRecords(servers: readonly LabServer[]): void;
  /** Stops the peer, the servers, DNS, and removes the work directory. */
  stop(reason?: string): Promise<void>;
}

export type PeerClusterEvent = LabEvent | PeerEvent;

/**
 * Starts the lab's DNS and servers (headless: 'server' answers every server) and the peer in
 * front of them; resolves once calls through the peer reach every server. One stack of
 * disposers undoes a failed start and a normal stop alike.
 */
export async function startPeerCluster(
  kind: PeerKind,
  o: ResolvedLabOptions,
  config: PeerTuning = {},
  onEvent: (e: PeerClusterEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<PeerCluster> {
  const disposers = new Disposers();
  try {
    const { workDir, dns } = await startLabBase(disposers, onEvent);
    const pool = new ServerPool(o, disposers, onEvent, signal, undefined);
    const first = await pool.add(o.servers);
    const answer = first.map((s) => s.host);
    dns.setRecords(SERVER_NAME, answer);
    onEvent({ kind: "dns-records", name: SERVER_NAME, addresses: answer });
    const peer = disposers.use(
      await attachPeer({
        kind,
        dns,
        servers: first,
        serverPort: pool.port,
        workDir: join(workDir, kind),
        config,
        startTimeoutMs: o.startTimeoutMs,
        onEvent,
        signal,
      }),
      (p) => p.stop(),
    );
    const setServerRecords = (servers: readonly LabServer[]): void => {
      const addresses = servers.map((s) => s.host);
      dns.setRecords(SERVER_NAME, addresses);
      onEvent({ kind: "dns-records", name: SERVER_NAME, addresses });
    };
    return {
      peer,
      dns,
      pool,
      listenAddress: peer.listenAddress,
      servers: () => pool.live(),
      async addServers(count) {
        const added = await pool.add(count);
        setServerRecords(pool.live());
        return added;
      },
      setServerRecords,
      stop: labStopper(disposers, onEvent),
    };
  } catch (e) {
    return labStartFailed(disposers, e, signal);
  }
}
