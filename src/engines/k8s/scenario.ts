import { describeTimings } from "../../envoy/budgets.js";
import type { ScenarioCheck, ScenarioReport } from "../../lab/scenarios/report.js";
import type { PacedLoad, RequestResult } from "../../loadgen/paced-load.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { underLoad } from "../load.js";
import { finishEngineReport, type RetryCounters, readRetryCounters } from "../report.js";
import type { EngineTarget } from "../target.js";
import { type EnvoyForward, forwardToEnvoy, readyEnvoyPod, waitForEnvoyToMatchPods } from "./envoy.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { type PodWatch, watchPods } from "./pod-watch.js";
import { listPods, type PodInfo, SERVER_SELECTOR, serverIdOf } from "./pods.js";
import type { K8sScenarioName, K8sScenarioReport } from "./report.js";
import { K8S_ENVOY } from "./timing.js";

/** What a running scenario works with. */
export interface K8sScenarioContext {
  kube: KubeTarget;
  /** The Envoy pod the load goes through, until replaceEnvoy(). */
  readonly envoy: EnvoyForward;
  load: PacedLoad;
  pods: PodWatch;
  signal: AbortSignal | undefined;
  /** Pod name → the server_id it answers with, learnt from its log. */
  ids: Map<string, string>;
  /** Server pods, terminating ones included. */
  servers(): Promise<PodInfo[]>;
  /** Learns the server ids of these pods (kept for pods deleted later). */
  learnIds(pods: readonly PodInfo[]): Promise<void>;
  /** Waits until Envoy routes to exactly the serving server pods, and returns them. */
  envoyMatchesPods(what: string, timeoutMs?: number): Promise<PodInfo[]>;
  /** Switches to a new Envoy pod (its retry counters start from zero). */
  replaceEnvoy(next: EnvoyForward): void;
  progress(text: string): void;
}

/** What a scenario hands back: every call's result and its judgement. */
export interface K8sScenarioOutcome extends Pick<ScenarioReport, "measurements" | "distributions"> {
  results: readonly RequestResult[];
  checks: ScenarioCheck[];
}

export interface K8sScenario {
  name: K8sScenarioName;
  summary: string;
  run(ctx: K8sScenarioContext): Promise<K8sScenarioOutcome>;
}

/**
 * Runs a scenario against the deployment of deploy/k8s in the target namespace:
 * waits for it to be rolled out and for Envoy to route to every ready server pod,
 * port-forwards to the Envoy pod, keeps the engine load going through it while the
 * scenario changes the cluster, and always stops the load, the watch and the forwards.
 */
export async function runK8sScenario(
  scenario: K8sScenario,
  kube: KubeTarget,
  progress: (text: string) => void,
  signal?: AbortSignal,
): Promise<K8sScenarioReport> {
  const opts = signal ? { signal } : {};
  for (const d of ["server", "envoy"]) {
    progress(`waiting for deployment/${d} to be rolled out`);
    await kubectl(kube, ["rollout", "status", `deployment/${d}`, "--timeout=120s"], {
      timeoutMs: 130_000,
      ...opts,
    });
  }
  const pod = await readyEnvoyPod(kube, signal);
  progress(`port-forwarding to Envoy (pod/${pod}: its listener and admin API)`);
  let envoy = await forwardToEnvoy(kube, pod, 0, signal);
  const target: EngineTarget = {
    engine: "kubernetes",
    listenAddress: `127.0.0.1:${envoy.grpc.port}`,
    admin: envoy.admin,
    envoy: K8S_ENVOY,
  };
  const servers = (): Promise<PodInfo[]> => listPods(kube, SERVER_SELECTOR, signal);
  const envoyMatchesPods = (what: string, timeoutMs = 90_000): Promise<PodInfo[]> =>
    waitForEnvoyToMatchPods(kube, envoy.admin, servers, DEFAULT_SERVER_PORT, what, timeoutMs, signal);
  try {
    const ready = await envoyMatchesPods("Envoy to route to every ready server pod");
    progress(`Envoy routes to ${ready.length} server pods: ${ready.map((p) => p.ip).join(", ")}`);
    const ids = new Map<string, string>();
    const learnIds = async (list: readonly PodInfo[]): Promise<void> => {
      for (const p of list) if (!ids.has(p.name)) ids.set(p.name, await serverIdOf(kube, p.name, signal));
    };
    await learnIds(ready);
    let retriesBefore: RetryCounters = await readRetryCounters(target);
    const t0 = performance.now();
    return await underLoad(target, signal, async (load) => {
      const pods = watchPods(kube, SERVER_SELECTOR, load.now);
      try {
        const ctx: K8sScenarioContext = {
          kube,
          get envoy() {
            return envoy;
          },
          load,
          pods,
          signal,
          ids,
          servers,
          learnIds,
          envoyMatchesPods,
          replaceEnvoy(next) {
            envoy = next;
            target.admin = next.admin;
            retriesBefore = { retries: 0, overflows: 0 };
          },
          progress,
        };
        progress(`scenario ${scenario.name}: ${scenario.summary}`);
        const out = await scenario.run(ctx);
        return await finishEngineReport(
          target,
          describeTimings(K8S_ENVOY),
          scenario.name,
          retriesBefore,
          out.results,
          out.checks,
          { measurements: out.measurements, distributions: out.distributions },
          performance.now() - t0,
        );
      } finally {
        await pods.stop();
      }
    });
  } finally {
    await envoy.stop();
  }
}

export async function scaleServers(ctx: K8sScenarioContext, replicas: number): Promise<void> {
  await kubectl(
    ctx.kube,
    ["scale", "deployment/server", `--replicas=${replicas}`],
    ctx.signal ? { signal: ctx.signal } : {},
  );
}

export async function rolloutStatus(ctx: K8sScenarioContext, deployment: string): Promise<void> {
  await kubectl(ctx.kube, ["rollout", "status", `deployment/${deployment}`, "--timeout=180s"], {
    timeoutMs: 190_000,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}
