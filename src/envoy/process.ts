import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EnvoyError, errorFrom } from "../errors.js";
import { type ChildHandle, describeExit, startChild } from "../proc/child.js";
import { waitFor } from "../util/wait.js";
import { EnvoyAdmin } from "./admin.js";
import type { Bootstrap } from "./types.js";
import { bootstrapToYaml } from "./yaml.js";

export type EnvoyLogLevel = "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";

export interface EnvoyProcessOptions {
  /** Path of the Envoy binary (see findEnvoy). */
  binary: string;
  /** The bootstrap: serialized here, and its first listener is the one whose port is reported. */
  bootstrap: Bootstrap<{ name: string }, unknown>;
  /** A comment put at the top of the YAML written for Envoy. */
  header?: string;
  /** A directory this run owns: the config and the admin address file go there. */
  workDir: string;
  /** Worker threads (--concurrency). */
  concurrency: number;
  /** Envoy's --log-level. */
  logLevel: EnvoyLogLevel;
  /** How long Envoy may take to come up, in ms. */
  startTimeoutMs: number;
  /** Name used in messages and process errors. Default "envoy". */
  name?: string;
  /** Ctrl-C: stop waiting for Envoy to come up. */
  signal?: AbortSignal | undefined;
  /**
   * Start Envoy so that it can be hot-restarted (EnvoyHandle.hotRestart) with Envoy's own
   * protocol: a base id of its own (--use-dynamic-base-id), epochs counted from 0. Default
   * undefined: --disable-hot-restart.
   */
  hotRestart?: HotRestartOptions | undefined;
}

export interface HotRestartOptions {
  /** How long a parent drains its connections once its child is up (--drain-time-s), in s. */
  drainTimeS: number;
  /** When the parent exits after its child started (--parent-shutdown-time-s), in s; above drainTimeS. */
  parentShutdownTimeS: number;
}

export interface EnvoyHandle {
  readonly admin: EnvoyAdmin;
  /** host:port of the admin API. */
  readonly adminAddress: string;
  /** Bound port of the gRPC listener. */
  readonly listenerPort: number;
  readonly process: ChildHandle;
  /** Hot restart epoch of this process (0 for the first). */
  readonly epoch: number;
  /**
   * Starts the next epoch with this bootstrap (its listener on the same address and port):
   * the new process takes the listening sockets over, this one drains and exits by itself
   * after parentShutdownTimeS. Resolves with the new process once it is LIVE. Only for an
   * Envoy started with `hotRestart`.
   */
  hotRestart(bootstrap: EnvoyProcessOptions["bootstrap"], signal?: AbortSignal): Promise<EnvoyHandle>;
  stop(): Promise<void>;
}

/** Where one epoch of a hot-restartable Envoy finds its parent. */
interface Epoch {
  n: number;
  /** The base id file written by epoch 0 (--base-id-path). */
  baseIdPath: string;
  /** Shared by every epoch of one Envoy: the newest one that came up. */
  family: { newest: number };
}

/**
 * Hot restart keeps its state in a POSIX shared memory segment named after the base id
 * (/dev/shm/envoy_shared_memory_<base id × 10>), which Envoy leaves behind when it exits.
 */
async function removeSharedMemory(baseIdPath: string): Promise<void> {
  const id = Number((await readFile(baseIdPath, "utf8").catch(() => "")).trim());
  if (Number.isSafeInteger(id) && id > 0)
    await rm(`/dev/shm/envoy_shared_memory_${id * 10}`, { force: true });
}

/**
 * Starts Envoy and waits until its admin API answers LIVE and the listener
 * is bound. The admin port may be 0: Envoy writes the real address to a file
 * (--admin-address-path), which is read rather than guessed.
 */
export function startEnvoy(o: EnvoyProcessOptions): Promise<EnvoyHandle> {
  const base = (o.name ?? "envoy").replace(/[^a-z0-9-]+/gi, "-");
  return launch(
    o,
    o.hotRestart && { n: 0, baseIdPath: join(o.workDir, `${base}-base-id`), family: { newest: 0 } },
  );
}

function hotRestartArgs(h: HotRestartOptions, epoch: Epoch, baseId: string | undefined): string[] {
  const id =
    baseId === undefined
      ? ["--use-dynamic-base-id", "--base-id-path", epoch.baseIdPath]
      : ["--base-id", baseId];
  return [
    ...id,
    "--restart-epoch",
    String(epoch.n),
    "--drain-time-s",
    String(h.drainTimeS),
    "--parent-shutdown-time-s",
    String(h.parentShutdownTimeS),
    // A parent tells every connection to go at once (HTTP/2 GOAWAY), not a growing share of them.
    "--drain-strategy",
    "immediate",
  ];
}

async function launch(o: EnvoyProcessOptions, epoch: Epoch | undefined): Promise<EnvoyHandle> {
  const base = (o.name ?? "envoy").replace(/[^a-z0-9-]+/gi, "-");
  const n = epoch?.n ?? 0;
  const suffix = n === 0 ? "" : `-epoch-${n}`;
  const configPath = join(o.workDir, `${base}${suffix}.yaml`);
  const adminPath = join(o.workDir, `${base}${suffix}-admin-address`);
  const listenerName = o.bootstrap.static_resources.listeners[0]?.name;
  if (listenerName === undefined) throw new EnvoyError(`${o.name ?? "envoy"}: the bootstrap has no listener`);
  // Epoch 0 picks a free base id and writes it down; later epochs join it.
  const baseId =
    epoch === undefined || n === 0 ? undefined : (await readFile(epoch.baseIdPath, "utf8")).trim();
  await writeFile(configPath, bootstrapToYaml(o.bootstrap, o.header));
  const restart =
    o.hotRestart === undefined || epoch === undefined
      ? ["--disable-hot-restart", "--drain-time-s", "1"]
      : hotRestartArgs(o.hotRestart, epoch, baseId);
  const child = startChild({
    name: n === 0 ? (o.name ?? "envoy") : `${o.name ?? "envoy"} (epoch ${n})`,
    command: o.binary,
    args: [
      "-c",
      configPath,
      "--admin-address-path",
      adminPath,
      ...restart,
      "--concurrency",
      String(o.concurrency),
      "--log-level",
      o.logLevel,
    ],
  });
  try {
    const stillRunning = (): true | undefined => {
      const s = child.state();
      if (s.t === "exited") {
        const tail = child.stderrTail();
        const who = o.name === undefined ? "" : `${o.name} `;
        throw new EnvoyError(`${who}${describeExit(s.exit)} before ready${tail ? `:\n${tail}` : ""}`);
      }
      return true;
    };
    const deadline = {
      timeoutMs: o.startTimeoutMs,
      intervalMs: 25,
      ...(o.signal ? { signal: o.signal } : {}),
    };
    const adminAddress = await waitFor(
      "Envoy to write its admin address",
      async () => {
        stillRunning();
        const text = await readFile(adminPath, "utf8").catch(() => "");
        return text.trim() === "" ? undefined : text.trim();
      },
      deadline,
    );
    const admin = new EnvoyAdmin(adminAddress);
    const listenerPort = await waitFor(
      "Envoy to be LIVE with its listener bound",
      async () => {
        stillRunning();
        if (!(await admin.live().catch(() => false))) return undefined;
        const port = await admin.listenerPort(listenerName).catch(() => undefined);
        return port === undefined || port === 0 ? undefined : port;
      },
      deadline,
      () => child.stderrTail().split("\n").slice(-3).join(" | "),
    );
    if (epoch !== undefined) epoch.family.newest = epoch.n;
    return {
      admin,
      adminAddress,
      listenerPort,
      process: child,
      epoch: n,
      async hotRestart(bootstrap, signal) {
        if (epoch === undefined)
          throw new EnvoyError(`${o.name ?? "envoy"} was started with hot restart disabled`);
        const next = await launch({ ...o, bootstrap, signal }, { ...epoch, n: epoch.n + 1 });
        if (next.listenerPort !== listenerPort) {
          await next.stop();
          throw new EnvoyError(
            `${o.name ?? "envoy"}: epoch ${epoch.n + 1} listens on port ${next.listenerPort}, not on ${listenerPort}`,
          );
        }
        return next;
      },
      async stop() {
        await child.stop(5000);
        // The newest epoch gone, nothing can hot-restart from this base id any more.
        if (epoch !== undefined && epoch.family.newest === epoch.n)
          await removeSharedMemory(epoch.baseIdPath);
      },
    };
  } catch (e) {
    await child.stop(2000);
    if (epoch?.n === 0) await removeSharedMemory(epoch.baseIdPath);
    // A bind failure leaves Envoy running with a warning; an exit leaves its stderr: say which.
    throw errorFrom(EnvoyError, e);
  }
}
