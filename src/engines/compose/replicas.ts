import { EngineError, messageOf } from "../../errors.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { formatHostPort } from "../../util/address.js";
import { waitFor } from "../../util/wait.js";
import type { Replica } from "../target.js";
import type { ComposeCluster } from "./cluster.js";
import type { ComposeContainer } from "./project.js";

/** A server replica with its container, and when its server reported ready (wall clock, ms). */
export interface ReplicaInContainer {
  container: ComposeContainer;
  replica: Replica;
  readyAtMs: number;
}

/**
 * Waits until container `id` runs, has an address on the project network, and its server
 * has printed its ready line for this start; returns it.
 */
export async function waitForReplica(
  cluster: ComposeCluster,
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ReplicaInContainer> {
  let last = "not looked yet";
  return waitFor(
    `container ${id.slice(0, 12)} to run and its server to report ready`,
    async () => {
      const c = (await cluster.project.containers("server", signal)).find((x) => x.id === id);
      if (c === undefined) throw new EngineError(`compose: container ${id.slice(0, 12)} is gone`);
      last = `${c.state}${c.ip ? ` at ${c.ip}` : ", no address"}`;
      if (c.state !== "running" || c.ip === "") return undefined;
      const ready = await cluster.project.readyLine(c, signal).catch((e: unknown) => {
        last = messageOf(e);
        return undefined;
      });
      if (ready === undefined) return undefined;
      return {
        container: c,
        replica: {
          name: c.name,
          address: formatHostPort(c.ip, DEFAULT_SERVER_PORT),
          serverId: ready.serverId,
        },
        readyAtMs: ready.readyAtMs,
      };
    },
    { timeoutMs, intervalMs: 100, ...(signal ? { signal } : {}) },
    () => last,
  );
}

/** The running server replicas with their containers, by replica number. */
export async function runningReplicas(
  cluster: ComposeCluster,
  signal?: AbortSignal,
): Promise<ReplicaInContainer[]> {
  const running = (await cluster.project.containers("server", signal)).filter((c) => c.state === "running");
  return Promise.all(running.map((c) => waitForReplica(cluster, c.id, 30_000, signal)));
}
