import { readFile, writeFile } from "node:fs/promises";
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
}

export interface EnvoyHandle {
  readonly admin: EnvoyAdmin;
  /** host:port of the admin API. */
  readonly adminAddress: string;
  /** Bound port of the gRPC listener. */
  readonly listenerPort: number;
  readonly process: ChildHandle;
  stop(): Promise<void>;
}

/**
 * Starts Envoy and waits until its admin API answers LIVE and the listener
 * is bound. The admin port may be 0: Envoy writes the real address to a file
 * (--admin-address-path), which is read rather than guessed.
 */
export async function startEnvoy(o: EnvoyProcessOptions): Promise<EnvoyHandle> {
  const base = (o.name ?? "envoy").replace(/[^a-z0-9-]+/gi, "-");
  const configPath = join(o.workDir, `${base}.yaml`);
  const adminPath = join(o.workDir, `${base}-admin-address`);
  const listenerName = o.bootstrap.static_resources.listeners[0]?.name;
  if (listenerName === undefined) throw new EnvoyError(`${o.name ?? "envoy"}: the bootstrap has no listener`);
  await writeFile(configPath, bootstrapToYaml(o.bootstrap, o.header));
  const child = startChild({
    name: o.name ?? "envoy",
    command: o.binary,
    args: [
      "-c",
      configPath,
      "--admin-address-path",
      adminPath,
      "--disable-hot-restart",
      "--concurrency",
      String(o.concurrency),
      "--log-level",
      o.logLevel,
      "--drain-time-s",
      "1",
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
    return {
      admin,
      adminAddress,
      listenerPort,
      process: child,
      async stop() {
        await child.stop(5000);
      },
    };
  } catch (e) {
    await child.stop(2000);
    // A bind failure leaves Envoy running with a warning; an exit leaves its stderr: say which.
    throw errorFrom(EnvoyError, e);
  }
}
