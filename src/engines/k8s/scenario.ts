import { describeTimings } from "../../envoy/budgets.js";
import { EngineError } from "../../errors.js";
import { pollEnvoyHosts, routesToExactly } from "../../routing/wait-hosts.js";
import { retryCounters, runScenarioOn } from "../../scenarios/runner.js";
import type {
  RetryCounters,
  Scenario,
  ScenarioContext,
  ScenarioOutcome,
  ScenarioTarget,
} from "../../scenarios/scenario.js";
import type { LoadBounds } from "../../scenarios/scenario-load.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { ENGINE_LOAD } from "../load.js";
import { engineReport } from "../report.js";
import { type EnvoyForward, forwardToEnvoy, podAddress, readyEnvoyPod } from "./envoy.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { type PodWatch, watchPods } from "./pod-watch.js";
import { listPods, type PodInfo, SERVER_SELECTOR, serverIdOf, servingPods } from "./pods.js";
import type { K8sScenarioName, K8sScenarioReport } from "./report.js";
import { K8S_ENVOY, type K8sDiscovery } from "./timing.js";
import { type ClusterClientTls, clusterClientTls } from "./tls-client.js";
import { K8S_CERTS_DIR } from "./tls-secrets.js";

/** What a Kubernetes scenario acts on: the cluster, its server pods as watched, and the Envoy pod it reaches. */
export interface K8sEnv {
  kube: KubeTarget;
  /** The Envoy pod the load goes through, until replaceEnvoy(). */
  readonly envoy: EnvoyForward;
  /** The watch on the server pods, on the load's clock. */
  readonly pods: PodWatch;
  /** Pod name → the server_id it answers with, learnt from its log. */
  ids: Map<string, string>;
  /** Server pods, terminating ones included. */
  servers(): Promise<PodInfo[]>;
  /** Learns the server ids of these pods (kept for pods deleted later). */
  learnIds(pods: readonly PodInfo[]): Promise<void>;
  /** Waits until Envoy routes to exactly the serving server pods, and returns them. */
  envoyMatchesPods(what: string, timeoutMs?: number): Promise<PodInfo[]>;
  /**
   * Switches to a new Envoy pod; `old` are the replaced Envoy's retry counters as last read,
   * so the report still counts its retries.
   */
  replaceEnvoy(next: EnvoyForward, old: RetryCounters): void;
  progress(text: string): void;
  /** How this machine's clients (the load, probes) reach Envoy: plaintext on base, TLS on overlays/tls. */
  readonly tls: ClusterClientTls;
  /** The certificate set the deployment's Secrets come from (grpc-lb k8s secrets). */
  readonly certsDir: string;
  /** How Envoy finds the server pods: xds when deployment/xds-server exists (overlays/xds). */
  readonly discovery: K8sDiscovery;
}

/** What runK8sScenario takes beyond the scenario and the cluster. */
export interface K8sRunOptions {
  /** The certificate set of the tls overlay's Secrets. Default .tools/k8s-certs. */
  certsDir?: string;
}

/** Where every Kubernetes scenario starts: the serving pods (their ids learnt) and when it acts. */
export interface K8sStart {
  before: PodInfo[];
  /** When the scenario acts, on the load's clock. */
  opAt: number;
  /** The clock of opAt and of the pod watch: the paced load's, else the run's own. */
  now(): number;
}

export interface K8sScenario {
  name: K8sScenarioName;
  summary: string;
  /** True when failed calls are measured, not a check. */
  allowFailedCalls?: boolean;
  /**
   * True when the scenario sends its own load from inside the cluster, through the envoy
   * Service (an Envoy-tier operation: a port-forward would pin the load to one Envoy pod).
   */
  inCluster?: boolean;
  /**
   * True when the scenario sends its own load through the port-forward to Envoy (long-lived
   * streams) instead of the runner's paced calls.
   */
  ownLoad?: boolean;
  /** Bounds of its paced load, when it needs more than ENGINE_LOAD (waits on kubelet's sync period). */
  bounds?(kube: KubeTarget): LoadBounds;
  /**
   * Run before the load starts: PEM of CAs the load should trust beyond today's, as a client
   * that was handed a new CA ahead of a CA rotation (a grpc-js channel reads its CAs once).
   */
  prepareClientTrust?(kube: KubeTarget, certsDir: string): Promise<string>;
  run(ctx: ScenarioContext<K8sEnv>, start: K8sStart): Promise<ScenarioOutcome>;
}

/** Calls beyond the runner's warm-up before a scenario acts, so its "before" phase has traffic. */
const MORE_BEFORE_ACTING = 100;

/**
 * Runs a scenario against the deployment of deploy/k8s in the target namespace:
 * waits for it to be rolled out and for Envoy to route to every ready server pod,
 * port-forwards to the Envoy pod, then hands over to the scenario runner (its
 * load, waits and common checks), starting every scenario the same way: a pod
 * watch, the serving pods and their ids. It always stops the watch and the forwards.
 */
export async function runK8sScenario(
  scenario: K8sScenario,
  kube: KubeTarget,
  progress: (text: string) => void,
  signal: AbortSignal = new AbortController().signal,
  options: K8sRunOptions = {},
): Promise<K8sScenarioReport> {
  const certsDir = options.certsDir ?? K8S_CERTS_DIR;
  for (const d of ["server", "envoy"]) {
    progress(`waiting for deployment/${d} to be rolled out`);
    await kubectl(kube, ["rollout", "status", `deployment/${d}`, "--timeout=120s"], {
      timeoutMs: 130_000,
      signal,
    });
  }
  const extraTrust = (await scenario.prepareClientTrust?.(kube, certsDir)) ?? "";
  const tls = await clusterClientTls(kube, signal, extraTrust);
  if (tls.tls !== undefined) progress(`the deployment speaks TLS: clients trust ${tls.caFile}`);
  if (tls.tls !== undefined && scenario.inCluster) {
    await tls.dispose();
    throw new EngineError(
      `scenario ${scenario.name} runs its load in a pod, on the plaintext deployment only`,
    );
  }
  try {
    return await runWith(scenario, kube, progress, signal, tls, certsDir);
  } finally {
    await tls.dispose();
  }
}

async function runWith(
  scenario: K8sScenario,
  kube: KubeTarget,
  progress: (text: string) => void,
  signal: AbortSignal,
  tls: ClusterClientTls,
  certsDir: string,
): Promise<K8sScenarioReport> {
  const discovery = await discoveryOf(kube, signal);
  progress(
    discovery === "xds"
      ? "Envoy is fed by EDS over ADS (deployment/xds-server)"
      : "Envoy resolves the server Service by DNS",
  );
  const pod = await readyEnvoyPod(kube, signal);
  progress(`port-forwarding to Envoy (pod/${pod}: its listener and admin API)`);
  let envoy = await forwardToEnvoy(kube, pod, 0, signal);
  let replaced: RetryCounters = { retries: 0, overflows: 0 };
  const target: ScenarioTarget = {
    ...(tls.tls === undefined ? {} : { tls: tls.tls }),
    listenAddress: `127.0.0.1:${envoy.grpc.port}`,
    get admin() {
      return envoy.admin;
    },
    get replacedEnvoys() {
      return replaced;
    },
  };
  const servers = (): Promise<PodInfo[]> => listPods(kube, SERVER_SELECTOR, signal);
  let lastPods = "";
  const envoyMatchesPods = async (what: string, timeoutMs = 90_000): Promise<PodInfo[]> =>
    (
      await pollEnvoyHosts(
        () => envoy.admin,
        what,
        async (hosts) => {
          const pods = servingPods(await servers());
          lastPods = pods.map((p) => p.ip).join(" ") || "none";
          return routesToExactly(pods.map((p) => podAddress(p, DEFAULT_SERVER_PORT)))(hosts)
            ? pods
            : undefined;
        },
        { timeoutMs, intervalMs: 250, signal, listener: `127.0.0.1:${envoy.grpc.port}`, tls: tls.tls },
        () => `serving pods ${lastPods} in namespace ${kube.namespace}`,
      )
    ).value;
  const ids = new Map<string, string>();
  const learnIds = async (list: readonly PodInfo[]): Promise<void> => {
    for (const p of list) if (!ids.has(p.name)) ids.set(p.name, await serverIdOf(kube, p.name, signal));
  };
  let watch: PodWatch | undefined;
  const paced = !scenario.inCluster && !scenario.ownLoad;
  const env: K8sEnv = {
    kube,
    get envoy() {
      return envoy;
    },
    get pods() {
      if (watch === undefined) throw new EngineError("the pod watch starts with the scenario");
      return watch;
    },
    ids,
    servers,
    learnIds,
    envoyMatchesPods,
    replaceEnvoy(next, old) {
      envoy = next;
      replaced = { retries: replaced.retries + old.retries, overflows: replaced.overflows + old.overflows };
    },
    progress,
    tls,
    certsDir,
    discovery,
  };
  const opened: Scenario<K8sEnv> = {
    name: scenario.name,
    summary: scenario.summary,
    load: paced ? "paced" : "none",
    ...(scenario.allowFailedCalls ? { allowFailedCalls: true } : {}),
    async run(ctx) {
      const t0 = performance.now();
      const now = paced ? ctx.load.now : () => performance.now() - t0;
      watch = watchPods(kube, SERVER_SELECTOR, now);
      try {
        if (paced) await ctx.load.waitForMore(MORE_BEFORE_ACTING);
        const before = servingPods(await servers());
        await learnIds(before);
        progress(`scenario ${scenario.name}: ${scenario.summary}`);
        return await scenario.run(ctx, { before, opAt: now(), now });
      } finally {
        await watch.stop();
      }
    },
  };
  try {
    const ready = await envoyMatchesPods("Envoy to route to every ready server pod");
    progress(`Envoy routes to ${ready.length} server pods: ${ready.map((p) => p.ip).join(", ")}`);
    await learnIds(ready);
    const report = await runScenarioOn(opened, env, target, signal, {
      bounds: scenario.bounds?.(kube) ?? ENGINE_LOAD,
      errors: EngineError,
    });
    return engineReport(report, scenario.name, "kubernetes", describeTimings(K8S_ENVOY));
  } finally {
    await envoy.stop();
  }
}

/** xds when the namespace runs the xDS server of overlays/xds, dns otherwise. */
async function discoveryOf(kube: KubeTarget, signal: AbortSignal): Promise<K8sDiscovery> {
  const found = await kubectl(kube, ["get", "deployment/xds-server", "--ignore-not-found", "-o", "name"], {
    signal,
  });
  return found.trim() === "" ? "dns" : "xds";
}

/** Envoy's retry counters read through a forward to it. */
export const envoyRetryCounters = (e: EnvoyForward): Promise<RetryCounters> => retryCounters(e.admin);

export async function scaleServers(ctx: ScenarioContext<K8sEnv>, replicas: number): Promise<void> {
  await kubectl(ctx.env.kube, ["scale", "deployment/server", `--replicas=${replicas}`], {
    signal: ctx.signal,
  });
}

export async function rolloutStatus(ctx: ScenarioContext<K8sEnv>, deployment: string): Promise<void> {
  await kubectl(ctx.env.kube, ["rollout", "status", `deployment/${deployment}`, "--timeout=180s"], {
    timeoutMs: 190_000,
    signal: ctx.signal,
  });
}
