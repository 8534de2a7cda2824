import { EngineError } from "../../../errors.js";

/** The name of the server's container in deployment/server (deploy/k8s/base). */
const CONTAINER = "server";

/** What a scenario changes in deployment/server and puts back afterwards. */
export interface ServerDeployment {
  /** The args of its server container. */
  args: string[];
  /** spec.strategy as it was (a rolling update of maxSurge 1, maxUnavailable 0 in deploy/k8s/base). */
  strategy: { type?: string; rollingUpdate?: Record<string, unknown> };
}

/** The server container's args and the rollout strategy in `kubectl get deployment/server -o json`. */
export function serverDeploymentOf(deploymentJson: string): ServerDeployment {
  const d = JSON.parse(deploymentJson) as {
    spec?: {
      strategy?: ServerDeployment["strategy"];
      template?: { spec?: { containers?: { name: string; args?: string[] }[] } };
    };
  };
  const c = d.spec?.template?.spec?.containers?.find((x) => x.name === CONTAINER);
  if (c === undefined) throw new EngineError(`deployment/server has no container named ${CONTAINER}`);
  return { args: c.args ?? [], strategy: d.spec?.strategy ?? {} };
}

/** What a patch of deployment/server sets beside its container's args. */
export interface ServerPatchOptions {
  /** spec.replicas; unchanged when absent. */
  replicas?: number;
  /**
   * Replace every pod at once (maxSurge 100 %): for a patch that prepares or restores the
   * deployment, not for an operation under test. Only on a rolling update.
   */
  allAtOnce?: boolean;
}

/**
 * A strategic-merge patch of deployment/server: its container's args (a list, so replaced
 * whole), and what `o` asks for.
 */
export function serverPatch(
  args: readonly string[],
  d: ServerDeployment,
  o: ServerPatchOptions = {},
): string {
  const fast = o.allAtOnce === true && (d.strategy.type ?? "RollingUpdate") === "RollingUpdate";
  return JSON.stringify({
    spec: {
      ...(o.replicas === undefined ? {} : { replicas: o.replicas }),
      ...(fast ? { strategy: { rollingUpdate: { maxSurge: "100%" } } } : {}),
      template: { spec: { containers: [{ name: CONTAINER, args }] } },
    },
  });
}

/** A JSON patch that puts spec.strategy back as it was (a merge could not remove what a patch added). */
export const strategyRestore = (d: ServerDeployment): string =>
  JSON.stringify([{ op: "replace", path: "/spec/strategy", value: d.strategy }]);
