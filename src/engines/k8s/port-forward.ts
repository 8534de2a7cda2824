import { type ChildHandle, startChild } from "../../proc/child.js";
import type { KubeTarget } from "./kubectl.js";

/** A running `kubectl port-forward` to one pod or Service. */
export interface PortForward {
  /** What it forwards to, e.g. "pod/envoy-5d9c…". */
  readonly resource: string;
  /** The local port on 127.0.0.1. */
  readonly port: number;
  readonly child: ChildHandle;
  stop(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:`localPort` (0: any free port, the real one is read from
 * kubectl's "Forwarding from" line) to `remotePort` of `resource`.
 */
export async function startPortForward(
  t: KubeTarget,
  resource: string,
  remotePort: number,
  localPort = 0,
  signal?: AbortSignal,
): Promise<PortForward> {
  const child = startChild({
    name: `kubectl port-forward ${resource}`,
    command: t.kubectl,
    args: [
      "-n",
      t.namespace,
      "port-forward",
      "--address",
      "127.0.0.1",
      resource,
      `${localPort === 0 ? "" : localPort}:${remotePort}`,
    ],
    env: t.env,
  });
  try {
    const port = await child.waitForLine(
      "its Forwarding line",
      (line) => {
        const m = /^Forwarding from 127\.0\.0\.1:(\d+) -> /.exec(line);
        return m?.[1] === undefined ? undefined : Number(m[1]);
      },
      30_000,
      signal,
    );
    return {
      resource,
      port,
      child,
      async stop() {
        await child.stop(2000);
      },
    };
  } catch (e) {
    await child.stop(2000);
    throw e;
  }
}
