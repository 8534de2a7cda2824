import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { check, type ScenarioCheck, type ScenarioReport } from "../../lab/scenarios/report.js";
import { type PacedLoad, startPacedLoad } from "../../loadgen/paced-load.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { type EnvoyForward, forwardToEnvoy, readyEnvoyPod, waitForEnvoyHosts } from "./envoy.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { type PodWatch, watchPods } from "./pod-watch.js";
import { listPods, type PodInfo, SERVER_SELECTOR, serverIdOf } from "./pods.js";
import type { K8sScenarioName, K8sScenarioReport } from "./report.js";

/** The load every Kubernetes scenario keeps up through Envoy: 100 calls/s, bounded to 240 s and 24 000 calls. */
export const K8S_LOAD = {
  ratePerSec: 100,
  concurrency: 8,
  maxRequests: 24_000,
  maxDurationMs: 240_000,
  deadlineMs: 5000,
} as const;

/** What a running scenario works with. `envoy` changes when the scenario restarts Envoy. */
export interface K8sScenarioContext {
  target: KubeTarget;
  envoy: EnvoyForward;
  load: PacedLoad;
  pods: PodWatch;
  signal: AbortSignal | undefined;
  /** Pod name → the server_id it answers with, learnt from its log. */
  ids: Map<string, string>;
  /** Server pods, terminating ones included. */
  servers(): Promise<PodInfo[]>;
  /** Learns the server ids of these pods (kept for pods that are later deleted). */
  learnIds(pods: readonly PodInfo[]): Promise<void>;
  /** Waits until Envoy routes to exactly the serving server pods, and returns them. */
  envoyMatchesPods(what: string, timeoutMs?: number): Promise<PodInfo[]>;
  progress(text: string): void;
}

export interface K8sScenario {
  name: K8sScenarioName;
  summary: string;
  run(ctx: K8sScenarioContext): Promise<ScenarioRest>;
}

/**
 * Runs a scenario against the deployment of deploy/k8s in `target`'s namespace:
 * checks it is rolled out and Envoy sees every server, port-forwards to Envoy,
 * keeps the load going while the scenario changes the cluster, then stops the
 * load, the forwards and the watch whatever happened.
 */
export async function runK8sScenario(
  scenario: K8sScenario,
  target: KubeTarget,
  progress: (text: string) => void,
  signal?: AbortSignal,
): Promise<K8sScenarioReport> {
  const opts = signal ? { signal } : {};
  for (const d of ["server", "envoy"]) {
    progress(`waiting for deployment/${d} to be rolled out`);
    await kubectl(target, ["rollout", "status", `deployment/${d}`, "--timeout=120s"], {
      timeoutMs: 130_000,
      ...opts,
    });
  }
  const pod = await readyEnvoyPod(target, signal);
  progress(`port-forwarding to Envoy (pod/${pod}: listener and admin API)`);
  let envoy = await forwardToEnvoy(target, pod, 0, signal);
  const servers = (): Promise<PodInfo[]> => listPods(target, SERVER_SELECTOR, signal);
  const envoyMatchesPods = (what: string, timeoutMs = 60_000): Promise<PodInfo[]> =>
    waitForEnvoyHosts(target, envoy.admin, servers, DEFAULT_SERVER_PORT, what, timeoutMs, signal);
  let load: PacedLoad | undefined;
  let pods: PodWatch | undefined;
  try {
    const ready = await envoyMatchesPods("Envoy to route to every ready server pod");
    progress(`Envoy routes to ${ready.length} server pods: ${ready.map((p) => p.ip).join(", ")}`);
    const ids = new Map<string, string>();
    const learnIds = async (list: readonly PodInfo[]): Promise<void> => {
      for (const p of list) if (!ids.has(p.name)) ids.set(p.name, await serverIdOf(target, p.name, signal));
    };
    await learnIds(ready);
    const t0 = performance.now();
    load = startPacedLoad({ ...K8S_LOAD, target: `127.0.0.1:${envoy.grpc.port}`, ...opts });
    pods = watchPods(target, SERVER_SELECTOR, load.now);
    const ctx: K8sScenarioContext = {
      target,
      get envoy() {
        return envoy;
      },
      set envoy(e) {
        envoy = e;
      },
      load,
      pods,
      signal,
      ids,
      servers,
      learnIds,
      envoyMatchesPods,
      progress,
    };
    progress(`scenario ${scenario.name}: ${scenario.summary}`);
    const result = await scenario.run(ctx);
    const stat = async (name: string): Promise<number> =>
      (await envoy.admin.stat(`cluster.${CLUSTER_NAME}.${name}`).catch(() => undefined)) ?? 0;
    const envoyRetries = await stat("upstream_rq_retry");
    const envoyRetryOverflows = await stat("upstream_rq_retry_overflow");
    const checks: ScenarioCheck[] = [
      ...result.checks,
      check("no retry refused by the budget", envoyRetryOverflows === 0, `${envoyRetryOverflows} refused`),
    ];
    return {
      ...result,
      scenario: scenario.name,
      engine: "kubernetes",
      verdict: checks.every((c) => c.ok) ? "pass" : "fail",
      checks,
      envoyRetries,
      envoyRetryOverflows,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    await load?.stop();
    await pods?.stop();
    await envoy.stop();
  }
}

/** Scales deployment/server and waits for the rollout. */
export async function scaleServers(ctx: K8sScenarioContext, replicas: number): Promise<void> {
  await kubectl(
    ctx.target,
    ["scale", "deployment/server", `--replicas=${replicas}`],
    ctx.signal ? { signal: ctx.signal } : {},
  );
}

export async function rolloutStatus(ctx: K8sScenarioContext, deployment: string): Promise<void> {
  await kubectl(ctx.target, ["rollout", "status", `deployment/${deployment}`, "--timeout=180s"], {
    timeoutMs: 190_000,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

export type ScenarioRest = Pick<ScenarioReport, "requests" | "checks" | "measurements" | "distributions">;
