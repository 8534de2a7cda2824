import type { ComposeCluster } from "../cluster.js";

/** Seconds a replica removed while putting the cluster back after Ctrl-C gets to stop (no load runs then). */
export const INTERRUPTED_STOP_S = 1;

/**
 * `docker compose up --scale server=N` on the server service alone: no other container is
 * touched. `stopTimeoutS` overrides the service's stop_grace_period for replicas it removes.
 */
export const scaleTo = (cluster: ComposeCluster, n: number, signal?: AbortSignal, stopTimeoutS?: number) =>
  cluster.project.compose(
    [
      "up",
      "--detach",
      "--no-deps",
      "--no-recreate",
      "--no-build",
      ...(stopTimeoutS === undefined ? [] : ["--timeout", String(stopTimeoutS)]),
      "--scale",
      `server=${n}`,
      "server",
    ],
    { signal, timeoutMs: 120_000 },
  );
