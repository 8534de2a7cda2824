import { atFairShare } from "../../../lab/scenarios/streams-strategies.js";
import type { StreamReport, StreamSample } from "../../../loadgen/streams/stream-report.js";
import type { ScenarioContext } from "../../../scenarios/scenario.js";
import { startScenarioStreams } from "../../../scenarios/scenario-streams.js";
import { WaitTimeoutError, waitFor } from "../../../util/wait.js";
import { kubectl } from "../kubectl.js";
import { type PodInfo, servingPods } from "../pods.js";
import { type K8sEnv, rolloutStatus, scaleServers } from "../scenario.js";
import { k8sBudgets } from "../timing.js";
import { type FairShareBudget, fairShareBudget, K8S_STREAMS_TIMINGS } from "./streams-plan.js";

type Ctx = ScenarioContext<K8sEnv>;

/** Server pods the scale-out goes to. */
export const SCALED_REPLICAS = 6;

/** One step of the scenario under the streams, as measured (times on the stream load's clock). */
export interface StreamsPhase {
  /** Its name in the report's measurements. */
  key: string;
  label: string;
  /** When its operation began. */
  fromMs: number;
  /** When it ended: every pod at its fair share, or the budget spent. */
  toMs: number;
  budget: FairShareBudget;
  /** From the operation to every serving pod at its fair share; undefined: not within the budget. */
  fairShareMs: number | undefined;
  /** Server ids of the pods before, then of the serving pods after: the timeline's columns. */
  columns: string[];
  /** The serving pods afterwards. */
  pods: PodInfo[];
  /** Streams per server at toMs. */
  shares: Record<string, number>;
  /** The run's report at its end (counts since the start). */
  report: StreamReport;
}

/** What the streams went through. */
export interface StreamsRun {
  phases: StreamsPhase[];
  /** The pods the rollout replaced. */
  replaced: PodInfo[];
  samples: readonly StreamSample[];
  /** The pod watch's clock less the stream load's. */
  watchOffsetMs: number;
  report: StreamReport;
}

/**
 * Holds the streams through Envoy (its port-forward) on `three` pods, scales out to
 * SCALED_REPLICAS, then restarts the rollout; after each, waits for every serving pod to carry
 * its fair share within the budget the operation's measured pod start gives.
 */
export async function runStreamsPhases(
  ctx: Ctx,
  three: readonly PodInfo[],
  watchNow: () => number,
): Promise<StreamsRun> {
  const { env, signal } = ctx;
  const t = K8S_STREAMS_TIMINGS;
  const load = await startScenarioStreams(
    { listenAddress: `127.0.0.1:${env.envoy.grpc.port}`, tls: env.tls.tls },
    t,
    { maxLifetimeMs: 0, connectTimeoutMs: 30_000 },
  );
  const watchOffsetMs = watchNow() - load.now();
  const budgets = k8sBudgets(env.discovery);
  const phase = async (
    key: string,
    label: string,
    fromMs: number,
    hostsMs: number,
    before: readonly PodInfo[],
    pods: PodInfo[],
  ): Promise<StreamsPhase> => {
    const readyMs = load.now() - fromMs;
    await env.learnIds([...before, ...pods]);
    const idOf = (p: PodInfo): string => env.ids.get(p.name) ?? p.name;
    const ids = pods.map(idOf);
    const budget = fairShareBudget(readyMs, hostsMs, t);
    env.progress(
      `${label}: waiting for ${ids.length} pods at their fair share (${budget.totalMs} ms budget)`,
    );
    let fairShareMs: number | undefined;
    try {
      await waitFor("the fair share", () => atFairShare(load.openByServer(), ids, t.streams) || undefined, {
        timeoutMs: Math.max(0, fromMs + budget.totalMs - load.now()),
        intervalMs: t.sampleMs / 2,
        signal,
      });
      fairShareMs = Math.round(load.now() - fromMs);
    } catch (e) {
      if (!(e instanceof WaitTimeoutError)) throw e;
    }
    const columns = [...new Set([...before.map(idOf), ...ids])];
    const shares = load.openByServer();
    return {
      key,
      label,
      fromMs,
      toMs: load.now(),
      budget,
      fairShareMs,
      columns,
      pods,
      shares,
      report: load.snapshot(),
    };
  };
  try {
    const phases = [await phase("start", `${three.length} pods`, 0, 0, [], [...three])];
    const upAt = load.now();
    env.progress(`kubectl scale deployment/server --replicas=${SCALED_REPLICAS}`);
    await scaleServers(ctx, SCALED_REPLICAS);
    await rolloutStatus(ctx, "server");
    const six = servingPods(await env.servers());
    phases.push(await phase("scaleOut", `${three.length} → ${six.length}`, upAt, budgets.joinMs, three, six));

    const rollAt = load.now();
    env.progress("kubectl rollout restart deployment/server");
    await kubectl(env.kube, ["rollout", "restart", "deployment/server"], { signal });
    await rolloutStatus(ctx, "server");
    const fresh = servingPods(await env.servers()).filter((p) => !six.some((o) => o.name === p.name));
    const hostsMs = Math.max(budgets.joinMs, budgets.removalMs);
    phases.push(await phase("rollout", "rollout", rollAt, hostsMs, six, fresh));
    const report = await load.stop();
    return { phases, replaced: six, samples: report.samples, watchOffsetMs, report };
  } finally {
    await load.stop();
  }
}
