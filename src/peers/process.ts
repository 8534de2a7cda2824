import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { errorFrom, PeerError } from "../errors.js";
import { type ChildHandle, describeExit, startChild } from "../proc/child.js";
import { formatHostPort } from "../util/address.js";
import { waitFor } from "../util/wait.js";
import type { PeerBinary } from "./binary.js";
import { PEER_DRIVERS } from "./drivers.js";
import { type PeerConfigOptions, type PeerKind, resolvePeerConfig } from "./options.js";
import { validatePeerConfig } from "./validate.js";

export interface PeerProcessOptions {
  kind: PeerKind;
  binary: PeerBinary;
  /** The builder's options; listenPort 0 picks a free port (see startPeer). */
  config: PeerConfigOptions;
  /** A comment put at the top of the configuration. */
  header: string;
  /** How long the proxy may take to listen, in ms. */
  startTimeoutMs: number;
  /** Ctrl-C: stop waiting for it to come up. */
  signal?: AbortSignal | undefined;
}

export interface PeerHandle {
  readonly kind: PeerKind;
  readonly binary: PeerBinary;
  /** host:port of its gRPC listener: where clients connect. */
  readonly listenAddress: string;
  readonly configPath: string;
  /** The file its logs go to. */
  readonly logPath: string;
  readonly process: ChildHandle;
  /** Throws, with the end of its log, once it has exited. */
  ensureUp(): void;
  /** SIGTERM to its process group (SIGKILL after 5 s); resolves once it has exited. */
  stop(): Promise<void>;
}

/** A port the kernel has just given out on `host`: free now, bound by the proxy next. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

// Neither proxy reports a port it was given as 0, so the port is picked just before; another
// process may take it in between: such a bind failure is retried with a new port.
const BIND_FAILED = /Address already in use|cannot bind socket/i;
const PORT_ATTEMPTS = 3;

/**
 * Writes the proxy's configuration (from its builder), checks it with the binary, starts the
 * proxy in the foreground in its own process group, and resolves once its listener accepts
 * connections. Whether it routes to every server is the caller's wait (waitForPeerRoutes).
 */
export async function startPeer(o: PeerProcessOptions): Promise<PeerHandle> {
  for (let attempt = 1; ; attempt++) {
    const port =
      o.config.listenPort === 0 ? await freePort(o.config.listenAddress ?? "127.0.0.1") : undefined;
    try {
      return await launch(o, port ?? o.config.listenPort);
    } catch (e) {
      if (port === undefined || attempt >= PORT_ATTEMPTS || !BIND_FAILED.test(String(e))) throw e;
    }
  }
}

async function launch(o: PeerProcessOptions, listenPort: number): Promise<PeerHandle> {
  const driver = PEER_DRIVERS[o.kind];
  const config = resolvePeerConfig({ ...o.config, listenPort });
  await mkdir(config.workDir, { recursive: true });
  const files = driver.files(config.workDir);
  await writeFile(files.config, driver.render(config, o.header));
  const check = await validatePeerConfig(driver, o.binary.path, files.config, config.workDir);
  if (!check.ok) {
    throw new PeerError(`${driver.title} rejected the generated ${files.config}:\n${check.output}`);
  }
  const child = startChild({
    name: o.kind,
    command: o.binary.path,
    args: driver.runArgs(files.config, config.workDir),
    logFile: files.console,
  });
  const ensureUp = (): void => {
    const s = child.state();
    if (s.t === "exited") {
      const tail = child.stderrTail();
      throw new PeerError(`${driver.title} ${describeExit(s.exit)}${tail ? `:\n${tail}` : ""}`);
    }
  };
  try {
    await waitFor(
      `${driver.title} to accept connections on ${formatHostPort(config.listenAddress, listenPort)}`,
      async () => {
        ensureUp();
        return (await accepts(config.listenAddress, listenPort)) ? true : undefined;
      },
      { timeoutMs: o.startTimeoutMs, intervalMs: 25, ...(o.signal ? { signal: o.signal } : {}) },
      () => child.stderrTail().split("\n").slice(-2).join(" | "),
    );
  } catch (e) {
    await child.stop(2000);
    // A bind failure may show only in the log once the process is gone.
    const log = await readFile(files.console, "utf8").catch(() => "");
    throw errorFrom(PeerError, e, BIND_FAILED.test(log) ? "could not bind its listener" : undefined);
  }
  return {
    kind: o.kind,
    binary: o.binary,
    listenAddress: formatHostPort(config.listenAddress, listenPort),
    configPath: files.config,
    logPath: files.console,
    process: child,
    ensureUp,
    async stop() {
      await child.stop(5000);
    },
  };
}
