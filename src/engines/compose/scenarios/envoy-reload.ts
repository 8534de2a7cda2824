import { composePreset } from "../../../deploy/presets.js";
import { CLUSTER_NAME } from "../../../envoy/bootstrap.js";
import { SCHEDULING_SLACK_MS } from "../../../envoy/budgets.js";
import type { LbPolicy } from "../../../envoy/options.js";
import { envoyConfigYaml } from "../../../envoy/yaml.js";
import { check, distribution, round, type ScenarioCheck, withinBudget } from "../../../scenarios/report.js";
import type { ScenarioContext } from "../../../scenarios/scenario.js";
import type { ComposeCluster } from "../cluster.js";
import { docker } from "../docker.js";
import type { ComposeScenario } from "./scenario.js";

/** compose.yaml's --parent-shutdown-time-s: an old epoch exits this long after the new one started. */
export const PARENT_SHUTDOWN_MS = 10_000;
/** How long an Envoy told to shut down may take to exit, in ms. */
const ENVOY_SHUTDOWN_MS = 1000;
/** The running configuration inside the container (compose.yaml: the restarter's RUN_DIR). */
const RUN_CONFIG = "/run/envoy/envoy.yaml";
/** The mounted configuration, the restarter's source. */
const MOUNTED_CONFIG = "/etc/envoy/envoy.yaml";

/** The Envoy processes (epochs) running in the container, by the pid `docker top` shows. */
async function epochs(container: string, signal?: AbortSignal): Promise<string[]> {
  const out = await docker(["top", container, "-eo", "pid,args"], { signal });
  return out
    .split("\n")
    .filter((line) => / --restart-epoch \d+/.test(line) && !line.includes("hot-restarter"))
    .map((line) => line.trim().split(/\s+/)[0] ?? "");
}

/** One reload, on the load's clock, and what Envoy ran after it. */
interface Reload {
  reloadAt: number;
  liveAt: number;
  exitedAt: number;
  epoch: number;
  policy: string;
}

/**
 * One configuration change in place: writes `yaml` (or the mounted file when undefined) as the
 * running configuration, sends the restarter SIGHUP, and waits for the next epoch to serve and
 * the old one to drain and exit. Returns when each happened, on the load's clock.
 */
async function reload(
  ctx: ScenarioContext<ComposeCluster>,
  container: string,
  yaml: string | undefined,
): Promise<Reload> {
  const { env: cluster, load, signal, waitFor } = ctx;
  const admin = () => cluster.target.admin;
  const before = (await admin().stat("server.hot_restart_epoch")) ?? 0;
  // Written whole, then moved into place: the restarter never reads half a file.
  const write =
    yaml === undefined
      ? `cp ${MOUNTED_CONFIG} ${RUN_CONFIG}.next && mv -f ${RUN_CONFIG}.next ${RUN_CONFIG}`
      : `cat > ${RUN_CONFIG}.next && mv -f ${RUN_CONFIG}.next ${RUN_CONFIG}`;
  await docker(["exec", "-i", container, "sh", "-c", write], {
    signal,
    ...(yaml === undefined ? {} : { input: yaml }),
  });
  const reloadAt = load.now();
  await docker(["kill", "--signal", "HUP", container], { signal });
  const epoch = await waitFor(
    `Envoy's epoch ${before + 1} to serve`,
    async () => {
      const e = await admin()
        .stat("server.hot_restart_epoch")
        .catch(() => undefined);
      return e === before + 1 && (await admin().live()) ? e : undefined;
    },
    30_000,
  );
  const liveAt = load.now();
  await waitFor(
    `the old epoch ${before} to drain and exit`,
    async () => ((await epochs(container, signal)).length === 1 ? true : undefined),
    PARENT_SHUTDOWN_MS + 30_000,
  );
  const exitedAt = load.now();
  const policy = String((await admin().staticCluster(CLUSTER_NAME))?.lb_policy ?? "ROUND_ROBIN");
  return { reloadAt, liveAt, exitedAt, epoch, policy };
}

const configWith = (policy: LbPolicy): string =>
  envoyConfigYaml(
    { ...composePreset.envoy, policy },
    `Written by grpc-lb compose scenario envoy-reload: deploy/compose/envoy.yaml with policy ${policy}.`,
  );

/**
 * Envoy's configuration changed in place, in its container, by Envoy's own hot restart:
 * round robin → least request under load, then back to the mounted file. The restarter
 * (PID 1) starts each new epoch; the old one hands its sockets over, tells its connections
 * to go, and exits. No call may fail.
 */
export const envoyReload: ComposeScenario = {
  name: "envoy-reload",
  summary: "hot-restart Envoy in its container into least_request under load, then back; no call may fail",
  load: "paced",
  async run(ctx) {
    const { env: cluster, load, signal } = ctx;
    const before = await cluster.settled(signal);
    const settledAt = load.now();
    const envoy = await cluster.project.envoy(signal);
    const exitBudgetMs = PARENT_SHUTDOWN_MS + ENVOY_SHUTDOWN_MS + SCHEDULING_SLACK_MS;

    const reloadChecks = (r: Reload, policy: string, what: string): ScenarioCheck[] => [
      check(`Envoy runs ${what}`, r.policy === policy, `epoch ${r.epoch}: lb_policy ${r.policy}`),
      withinBudget(`epoch ${r.epoch - 1} was gone in time`, r.exitedAt - r.liveAt, exitBudgetMs),
    ];
    const changed = await reload(ctx, envoy.id, configWith("least_request"));
    await load.waitForMore(400);
    const back = await reload(ctx, envoy.id, undefined);
    await load.waitForMore(400);
    const results = await load.finish();
    const during = distribution(results, changed.exitedAt, back.reloadAt);
    const after = distribution(results, back.exitedAt);
    return {
      checks: [
        ...reloadChecks(changed, "LEAST_REQUEST", "the changed configuration"),
        check(
          "every replica answers through the new epoch",
          Object.keys(during).length === before.length,
          `${Object.keys(during).length} answered: ${Object.values(during).join("/")}`,
        ),
        ...reloadChecks(back, "ROUND_ROBIN", "the mounted configuration again"),
        check(
          "one Envoy process left in the container",
          (await epochs(envoy.id, signal)).length === 1,
          "docker top",
        ),
      ],
      measurements: {
        reloadToLiveMs: round(changed.liveAt - changed.reloadAt),
        liveToOldExitMs: round(changed.exitedAt - changed.liveAt),
        backReloadToLiveMs: round(back.liveAt - back.reloadAt),
        backLiveToOldExitMs: round(back.exitedAt - back.liveAt),
        oldExitBudgetMs: exitBudgetMs,
      },
      distributions: [
        { phase: "round_robin (mounted)", backends: distribution(results, settledAt, changed.reloadAt) },
        { phase: "least_request (hot restart)", backends: during },
        { phase: "round_robin (hot restart back)", backends: after },
      ],
    };
  },
};
