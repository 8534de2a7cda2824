import { XdsError } from "../../errors.js";
import { formatXdsEvent, type XdsEvent } from "../../xds/events.js";
import { startXdsServer, type XdsServerHandle } from "../../xds/server.js";
import type { XdsSource } from "../../xds/source.js";
import type { ServerPool } from "../server-pool.js";
import { labXdsSource } from "../xds-source.js";
import type { TopologyContext } from "./topology.js";

/** How the lab's xDS server comes back after a crash. */
export interface XdsRestartOptions {
  /** The server's sync gate (XdsServerOptions.syncGate): false answers before the source has its list. */
  syncGate: boolean;
  /**
   * The source has no list until `release()`, as a control plane still listing its API server
   * after a restart; false: it lists the pool at once.
   */
  held: boolean;
}

/** The lab's xDS server, which a scenario may crash and start again on the same ports. */
export interface XdsControlPlane {
  /** The server of now; undefined between kill() and restart(). */
  readonly server: XdsServerHandle | undefined;
  /** Every event of every server this control plane ran, with the time it came (performance.now()). */
  readonly events: readonly { atMs: number; e: XdsEvent }[];
  /**
   * Ends the server as a crash does: every ADS stream cut, its ports closed, its state lost.
   * It runs in the lab's process, so this stands in for a SIGKILL; Envoy sees its stream end.
   */
  kill(): Promise<void>;
  /** Starts a new server on the same ports, with a fresh source; `release()` gives a held source its list. */
  restart(o: XdsRestartOptions): Promise<{ release(): void }>;
  /** Servers that become ready stay out of the running server's list until the returned release (see LabXdsSource). */
  holdNewcomers(): () => void;
}

/** A source that says nothing until released, then passes `inner` through. */
class HeldSource implements XdsSource {
  private released = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly inner: XdsSource) {
    inner.watch(() => this.notify());
  }

  get describe(): string {
    return this.inner.describe;
  }

  current() {
    return this.released ? this.inner.current() : undefined;
  }

  watch(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  release(): void {
    this.released = true;
    this.notify();
  }

  private notify(): void {
    if (this.released) for (const l of [...this.listeners]) l();
  }
}

/** Starts the lab's xDS server on the pool; stopping the lab stops whichever server runs then. */
export async function startXdsControlPlane(
  ctx: Pick<TopologyContext, "options" | "disposers" | "onEvent">,
  pool: Pick<ServerPool, "live" | "watch">,
  service: string,
): Promise<XdsControlPlane> {
  const events: { atMs: number; e: XdsEvent }[] = [];
  let current: { server: XdsServerHandle; stopSource(): void; holdNewcomers(): () => void } | undefined;
  let ports = { port: 0, metricsPort: 0 };

  const start = async (o: XdsRestartOptions): Promise<{ release(): void }> => {
    const { source, stop, holdNewcomers } = labXdsSource(pool);
    const held = new HeldSource(source);
    if (!o.held) held.release();
    try {
      const server = await startXdsServer(held, {
        ...ports,
        service,
        syncGate: o.syncGate,
        connectTimeoutMs: ctx.options.envoy.connectTimeoutMs,
        onEvent: (e) => {
          events.push({ atMs: performance.now(), e });
          const line = formatXdsEvent(e);
          if (line !== undefined) ctx.onEvent({ kind: "xds", line });
        },
      });
      current = { server, stopSource: stop, holdNewcomers };
      ports = { port: server.port, metricsPort: Number(server.metricsAddress?.split(":").pop() ?? 0) };
    } catch (e) {
      stop();
      throw e;
    }
    return { release: () => held.release() };
  };

  const kill = async (): Promise<void> => {
    const c = current;
    current = undefined;
    c?.stopSource();
    await c?.server.stop();
  };

  await start({ syncGate: true, held: false });
  ctx.disposers.defer(kill);
  return {
    get server() {
      return current?.server;
    },
    events,
    kill,
    async restart(o) {
      if (current !== undefined) throw new XdsError("the lab's xDS server is running: kill() it first");
      return start(o);
    },
    holdNewcomers() {
      if (current === undefined) throw new XdsError("the lab's xDS server is not running: nothing to hold");
      return current.holdNewcomers();
    },
  };
}
