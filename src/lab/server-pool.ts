import { LabError } from "../errors.js";
import type { ChildHandle } from "../proc/child.js";
import { formatHostPort } from "../util/address.js";
import type { Disposers } from "../util/disposers.js";
import { loopbackAddresses } from "./addresses.js";
import type { LabEvent } from "./events.js";
import type { LabTls } from "./lab-tls.js";
import type { ResolvedLabOptions } from "./options.js";
import { type LabInstance, type LabServer, startLabServers } from "./servers.js";

/**
 * What becomes of a server, for whoever follows the pool as a control plane does (the lab's
 * xDS source): ready once its ready line is read, draining from the SIGTERM of stop(), gone
 * once its process has exited, however that came.
 */
export type PoolChange = { kind: "ready" | "draining" | "gone"; server: LabServer };

/**
 * The lab's Echo servers: started on the next free loopback addresses, one
 * shared port, `serversPerProcess` instances per process. Every process ever
 * started is stopped when the lab's disposers run, whatever became of it.
 */
export class ServerPool {
  private readonly processes = new Set<ChildHandle>();
  private liveServers: LabServer[] = [];
  private nextIndex = 0;
  private sharedPort: number;
  private readonly watchers = new Set<(c: PoolChange) => void>();

  constructor(
    private readonly o: ResolvedLabOptions,
    disposers: Disposers,
    private readonly onEvent: (e: LabEvent) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly tls: LabTls | undefined,
  ) {
    this.sharedPort = o.serverPort;
    // On Ctrl-C servers get SIGINT, their quick stop (no drain delay), so the lab ends within a second.
    disposers.defer(() =>
      Promise.all(
        [...this.processes].map((p) =>
          p.stop(o.serverGraceMs + o.serverDrainDelayMs, signal?.aborted ? "SIGINT" : "SIGTERM"),
        ),
      ),
    );
  }

  /** The port every server listens on (0 until the first has started). */
  get port(): number {
    return this.sharedPort;
  }

  /** Servers started and not stopped, in start order. */
  live(): readonly LabServer[] {
    return this.liveServers;
  }

  /** Calls `onChange` for every server that becomes ready, starts draining, or is gone; returns the unsubscribe. */
  watch(onChange: (c: PoolChange) => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  private tell(kind: PoolChange["kind"], server: LabServer): void {
    for (const w of [...this.watchers]) w({ kind, server });
  }

  /**
   * Starts `count` more servers; they are in no DNS answer until the topology puts them there.
   * With several per process, instances are dealt to processes in turn (server 1 to process 1,
   * server 2 to process 2, …), as replicas spread over nodes: losing one process takes servers
   * from all over the DNS answer, not one run of it, which Envoy's round robin walks in order.
   */
  async add(count: number): Promise<LabServer[]> {
    const hosts = loopbackAddresses(this.o.addressBase, this.nextIndex + count).slice(this.nextIndex);
    const groups: LabInstance[][] = Array.from(
      { length: Math.ceil(hosts.length / this.o.serversPerProcess) },
      () => [],
    );
    for (const [i, host] of hosts.entries())
      groups[i % groups.length]?.push({ index: this.nextIndex + i, host });
    const firstIndex = this.nextIndex;
    this.nextIndex += count;
    const added: LabServer[] = [];
    const start = async (g: LabInstance[]): Promise<void> => {
      const servers = await startLabServers(g, this.sharedPort, {
        graceMs: this.o.serverGraceMs,
        drainDelayMs: this.o.serverDrainDelayMs,
        startTimeoutMs: this.o.startTimeoutMs,
        faults: g.some((i) => i.index === 0) ? this.o.firstServerFaults : this.o.serverFaults,
        maxConnectionAgeMs: this.o.maxConnectionAgeMs,
        maxStreamLifetimeMs: this.o.maxStreamLifetimeMs,
        tls: this.tls?.server(g[0]?.index ?? 0),
        signal: this.signal,
        onProcess: (p) => this.processes.add(p),
      });
      for (const s of servers) {
        added.push(s);
        const address = formatHostPort(s.host, s.port);
        this.onEvent({ kind: "server-started", index: s.index, id: s.id, address, pid: s.process.pid });
        this.tell("ready", s);
        s.process.exited.then(() => this.tell("gone", s));
      }
    };
    // With port 0 the first process picks the shared port; the rest then bind it on their addresses.
    let rest = groups;
    if (this.sharedPort === 0 && groups[0]) {
      await start(groups[0]);
      this.sharedPort = added.find((s) => s.index === firstIndex)?.port ?? 0;
      rest = groups.slice(1);
    }
    const results = await Promise.allSettled(rest.map(start));
    this.liveServers = [...this.liveServers, ...added].sort((a, b) => a.index - b.index);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    return added.sort((a, b) => a.index - b.index);
  }

  /** SIGTERM to the server's process: it drains (NOT_SERVING, then finishes in-flight calls) and exits. */
  async stop(server: LabServer): Promise<void> {
    const p = this.own(server, "stop");
    this.tell("draining", server);
    await p.stop(this.o.serverGraceMs + this.o.serverDrainDelayMs + 5000);
  }

  /** SIGKILL to the server's process, as a crash. */
  async kill(server: LabServer): Promise<void> {
    const p = this.own(server, "kill");
    p.kill();
    await p.exited;
  }

  /**
   * SIGKILL to every process these servers run in, all at once, as a node lost: `servers`
   * must hold every live instance of those processes (no bystander is killed).
   */
  async killProcesses(servers: readonly LabServer[]): Promise<void> {
    const gone = new Set(servers);
    const processes = new Set(servers.map((s) => s.process));
    const bystanders = this.liveServers.filter((s) => processes.has(s.process) && !gone.has(s));
    if (bystanders.length > 0) {
      throw new LabError(
        `cannot kill ${servers.length} servers by their processes: those also run ${bystanders.length} others (server ${(bystanders[0]?.index ?? 0) + 1}, …)`,
      );
    }
    this.liveServers = this.liveServers.filter((s) => !gone.has(s));
    for (const p of processes) p.kill();
    await Promise.all([...processes].map((p) => p.exited));
  }

  private own(server: LabServer, verb: string): ChildHandle {
    const sharing = this.liveServers.filter((s) => s.process === server.process).length;
    if (sharing > 1) {
      throw new LabError(
        `cannot ${verb} server ${server.index + 1}: its process also runs ${sharing - 1} others`,
      );
    }
    this.liveServers = this.liveServers.filter((s) => s !== server);
    return server.process;
  }
}
