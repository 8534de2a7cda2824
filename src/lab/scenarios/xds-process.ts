import { LabError, messageOf } from "../../errors.js";
import { cliEntry } from "../../paths.js";
import { type ChildHandle, type ExitInfo, startChild } from "../../proc/child.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";

/** `grpc-lb xds-server --source file` as a separate process of the lab's. */
export interface XdsServerProcess {
  /** host:port of its ADS server, and of its /metrics. */
  readonly address: string;
  readonly port: number;
  readonly metricsAddress: string;
  readonly pid: number;
  /** ADS streams open now by node id, as its /metrics says (xds_streams). */
  streams(): Promise<Map<string, number>>;
  /** SIGKILL to its process group: no goodbye on any stream. Resolves once it has exited. */
  kill(): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after a grace. */
  stop(): Promise<void>;
}

export interface XdsServerProcessOptions {
  /** The endpoints file it serves. */
  endpointsFile: string;
  /** The ADS port; 0 lets the kernel pick (the handle says which). */
  port: number;
  /** How long it may take to print its ready line, in ms. */
  startTimeoutMs: number;
  signal: AbortSignal;
}

interface ReadyLine {
  address: string;
  metricsAddress: string;
  pid: number;
}

const readyOf = (line: string): ReadyLine | undefined => {
  if (!line.includes('"ready"')) return undefined;
  try {
    const r = JSON.parse(line) as Partial<ReadyLine> & { event?: string };
    if (r.event === "ready" && typeof r.address === "string" && typeof r.metricsAddress === "string")
      return { address: r.address, metricsAddress: r.metricsAddress, pid: r.pid ?? 0 };
  } catch {
    // Not its ready line.
  }
  return undefined;
};

/** One line of prom-client's text: xds_streams{node_id="NODE"} N. */
const STREAMS_LINE = /^xds_streams\{node_id="((?:[^"\\]|\\.)*)"\} (\d+)$/gm;

/**
 * Starts `grpc-lb xds-server --source file` on 127.0.0.1 (a child in its own process group,
 * dying with the lab) and waits for its ready line: it prints it once it has read the file.
 */
export async function startXdsServerProcess(o: XdsServerProcessOptions): Promise<XdsServerProcess> {
  const child: ChildHandle = startChild({
    name: "xds-server (--source file)",
    command: process.execPath,
    args: [
      cliEntry,
      "xds-server",
      "--source",
      "file",
      "--endpoints-file",
      o.endpointsFile,
      "--port",
      String(o.port),
      "--metrics-port",
      "0",
    ],
  });
  let ready: ReadyLine;
  try {
    ready = await child.waitForLine("its ready line", readyOf, o.startTimeoutMs, o.signal);
  } catch (e) {
    child.kill();
    await child.exited;
    throw e;
  }
  const port = Number(ready.address.split(":").pop());
  if (o.port !== 0 && port !== o.port)
    throw new LabError(`xds-server listens on ${ready.address}, not on port ${o.port}`);
  return {
    address: ready.address,
    port,
    metricsAddress: ready.metricsAddress,
    pid: child.pid,
    async streams() {
      let text: string;
      try {
        text = await (await fetch(`http://${ready.metricsAddress}/metrics`)).text();
      } catch (e) {
        throw new LabError(`cannot read the xds-server's /metrics: ${messageOf(e)}`, { cause: e });
      }
      return new Map([...text.matchAll(STREAMS_LINE)].map((m) => [JSON.parse(`"${m[1]}"`), Number(m[2])]));
    },
    async kill() {
      child.kill();
      return child.exited;
    },
    async stop() {
      await child.stop(2000);
    },
  };
}

/**
 * Reads the process's /metrics until each client `match` names has an ADS stream on it;
 * when each was first seen, in ms after `fromMs` (performance.now()).
 */
export async function streamsOpened<K extends string>(
  xds: XdsServerProcess,
  match: Record<K, (node: string) => boolean>,
  waitFor: ScenarioContext<unknown>["waitFor"],
  fromMs: number,
): Promise<Record<K, number>> {
  const names = Object.keys(match) as K[];
  const seen = new Map<K, number>();
  return waitFor(
    `${names.join(" and ")} to open an ADS stream on the restarted xds-server`,
    async () => {
      const streams = await xds.streams();
      const at = performance.now() - fromMs;
      for (const [node, n] of streams)
        for (const k of names) if (n > 0 && match[k](node) && !seen.has(k)) seen.set(k, at);
      return seen.size === names.length ? (Object.fromEntries(seen) as Record<K, number>) : undefined;
    },
    undefined,
    () => `streams of ${[...seen.keys()].join(", ") || "none of them"}`,
  );
}
