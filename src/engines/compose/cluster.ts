import { existsSync } from "node:fs";
import { join } from "node:path";
import { composePreset, composeTlsPreset } from "../../deploy/presets.js";
import { describeTimings, type EngineBudgets, engineBudgets } from "../../envoy/budgets.js";
import { resolveEnvoyConfigOptions } from "../../envoy/options.js";
import { EngineError, messageOf } from "../../errors.js";
import { packageRoot } from "../../paths.js";
import { pollEnvoyHosts, routesToExactly } from "../../routing/wait-hosts.js";
import type { ScenarioTarget } from "../../scenarios/scenario.js";
import type { EngineTarget, Replica } from "../target.js";
import { type AdminRelay, startAdminRelay } from "./admin-relay.js";
import { ComposeProject } from "./project.js";
import { type ComposeTls, composeTlsOf } from "./tls.js";

/** The seed's Compose project: deploy/compose/compose.yaml, project `grpc-envoy-lb`. */
export const COMPOSE_FILE = join(packageRoot, "deploy", "compose", "compose.yaml");
export const COMPOSE_PROJECT = "grpc-envoy-lb";
/** Replicas the file starts (deploy.replicas) and every scenario returns to. */
export const BASE_REPLICAS = 3;

/** Envoy as the scenarios reach it; over TLS on the TLS variant. */
export type ComposeTarget = EngineTarget & Pick<ScenarioTarget, "tls">;

/** A running Compose cluster that scenarios act on: the project, Envoy as a target, the budgets. */
export interface ComposeCluster {
  project: ComposeProject;
  target: ComposeTarget;
  /** The TLS variant's certificates (compose.tls.yaml); undefined on the plaintext one. */
  tls: ComposeTls | undefined;
  budgets: EngineBudgets;
  timings: string;
  /** The running server replicas, by replica number (each has reported ready). */
  replicas(signal?: AbortSignal): Promise<Replica[]>;
  /** Waits until Envoy routes to exactly the running replicas, all healthy; returns them. */
  settled(signal?: AbortSignal): Promise<Replica[]>;
  close(): Promise<void>;
}

/**
 * Attaches to the Compose cluster `make docker-cluster` started (it starts nothing
 * itself): finds Envoy, opens the admin relay, and waits for a settled cluster.
 */
export async function openComposeCluster(envoyPort: number, signal?: AbortSignal): Promise<ComposeCluster> {
  if (!existsSync(COMPOSE_FILE)) {
    // npm installs no deploy/: the cluster is built and started from a checkout, and the scenarios name its file.
    throw new EngineError(
      `compose: there is no ${COMPOSE_FILE} (an installed copy of grpc-lb ships no deploy/): the Compose ` +
        "cluster is built and started from a checkout of the repository ('make docker-cluster'); run " +
        "'./bin/grpc-lb compose scenario ...' there",
    );
  }
  const project = new ComposeProject({ composeFile: COMPOSE_FILE, project: COMPOSE_PROJECT, envoyPort });
  const tls = composeTlsOf(await project.envoy(signal));
  const envoy = resolveEnvoyConfigOptions((tls === undefined ? composePreset : composeTlsPreset).envoy);
  const relay: AdminRelay = await startAdminRelay(project, envoy.adminPort, signal);
  const target: ComposeTarget = {
    engine: "compose",
    listenAddress: project.listenAddress,
    admin: relay.admin,
    envoy,
    ...(tls === undefined ? {} : { tls: tls.client }),
  };
  const replicas = async (s?: AbortSignal): Promise<Replica[]> => {
    const running = (await project.containers("server", s)).filter((c) => c.state === "running");
    return Promise.all(running.map((c) => project.replica(c, s)));
  };
  const cluster: ComposeCluster = {
    project,
    target,
    tls,
    budgets: engineBudgets(envoy),
    timings: describeTimings(envoy),
    replicas,
    async settled(s) {
      let last = "nothing yet";
      try {
        const { value } = await pollEnvoyHosts(
          () => target.admin,
          "Envoy to route to every running server replica, all healthy",
          async (hosts) => {
            const running = await replicas(s).catch((e: unknown) => {
              last = messageOf(e);
              return undefined;
            });
            if (running === undefined) return undefined;
            last = `${running.length} replicas running`;
            return routesToExactly(running.map((r) => r.address))(hosts) ? running : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 200, signal: s, listener: target.listenAddress, tls: target.tls },
          () => last,
        );
        return value;
      } catch (e) {
        if (s?.aborted) throw e;
        throw new EngineError(`compose: the cluster did not settle: ${messageOf(e)}`, { cause: e });
      }
    },
    close: () => relay.stop(),
  };
  return cluster;
}
