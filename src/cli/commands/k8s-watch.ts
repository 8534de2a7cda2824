import { forwardToEnvoyAdmin } from "../../engines/k8s/envoy.js";
import type { KubeTarget } from "../../engines/k8s/kubectl.js";
import { ENVOY_SELECTOR, listPods, servingPods } from "../../engines/k8s/pods.js";
import type { PortForward } from "../../engines/k8s/port-forward.js";
import { EngineError } from "../../errors.js";
import type { CommandContext } from "../args.js";
import { type Shown, showWatch, type WatchFlags, watchDuring } from "./watch.js";

/** The help of `grpc-lb k8s watch`, beside the other subcommands'. */
export const K8S_WATCH_HELP = `'watch' runs grpc-lb watch on every ready Envoy pod at once, each through a
kubectl port-forward to its admin API (bound to 127.0.0.1 in the pod): one
section per pod, named pod/NAME (also the "admin" of --format json). It watches
the pods ready when it starts; start it again after an Envoy rollout.`;

/** Port-forwards to the admin API of every Envoy pod serving now; stop() ends them all. */
async function forwardToEnvoyAdmins(kube: KubeTarget, signal: AbortSignal) {
  const pods = servingPods(await listPods(kube, ENVOY_SELECTOR, signal));
  if (pods.length === 0) throw new EngineError(`k8s: no ready Envoy pod in namespace ${kube.namespace}`);
  const forwards: PortForward[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(forwards.map((f) => f.stop()));
  };
  try {
    for (const p of pods) forwards.push((await forwardToEnvoyAdmin(kube, p.name, signal)).adminForward);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    names: pods.map((p) => `pod/${p.name}`),
    admins: forwards.map((f) => `127.0.0.1:${f.port}`),
    stop,
  };
}

/**
 * `grpc-lb k8s watch`: the Envoy pods serving now, each reached by a port-forward to its admin
 * API, watched together until --count or Ctrl-C; the forwards always stop.
 */
export async function k8sWatch(kube: KubeTarget, flags: WatchFlags, ctx: CommandContext): Promise<number> {
  const envoys = await forwardToEnvoyAdmins(kube, ctx.signal);
  try {
    ctx.stderr(`k8s: watching ${envoys.names.join(", ")} through port-forwards to their admin APIs\n`);
    await showWatch(envoys.admins, flags, ctx, undefined, envoys.names);
    return 0;
  } finally {
    await envoys.stop();
  }
}

/**
 * A k8s scenario's --watch: every Envoy pod serving when the scenario starts, on stderr, as
 * `k8s watch` shows them, until stop(). A pod the scenario replaces stays in the view, failing.
 */
export async function k8sWatchDuring(kube: KubeTarget, ctx: CommandContext): Promise<Shown> {
  const envoys = await forwardToEnvoyAdmins(kube, ctx.signal);
  const shown = watchDuring(envoys.admins, ctx, envoys.names);
  return {
    async stop() {
      await shown.stop();
      await envoys.stop();
    },
  };
}
