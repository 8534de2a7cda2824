import { errorFrom, LabError } from "../errors.js";
import { cliEntry } from "../paths.js";
import { type ChildHandle, startChild } from "../proc/child.js";

export interface LabServer {
  readonly index: number;
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly process: ChildHandle;
}

interface ReadyLine {
  event: "ready";
  id: string;
  host: string;
  port: number;
}

function parseReady(line: string): ReadyLine | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(line) as Partial<ReadyLine>;
    return v.event === "ready" && typeof v.id === "string" && typeof v.port === "number"
      ? (v as ReadyLine)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `grpc-lb serve` as a child process and waits for its ready line. */
export async function startLabServer(
  index: number,
  host: string,
  port: number,
  o: { graceMs: number; startTimeoutMs: number },
): Promise<LabServer> {
  const child = startChild({
    name: `server ${index + 1} (${host})`,
    command: process.execPath,
    args: [cliEntry, "serve", "--host", host, "--port", String(port), "--grace-ms", String(o.graceMs)],
  });
  try {
    const ready = await child.waitForLine("its ready line", parseReady, o.startTimeoutMs);
    return { index, id: ready.id, host, port: ready.port, process: child };
  } catch (e) {
    child.kill();
    await child.exited;
    throw errorFrom(LabError, e);
  }
}
