import { forwardToEnvoyAdmin } from "../../engines/k8s/envoy.js";
import type { KubeTarget } from "../../engines/k8s/kubectl.js";
import { ENVOY_SELECTOR, listPods, servingPods } from "../../engines/k8s/pods.js";
import type { PortForward } from "../../engines/k8s/port-forward.js";
import { EngineError } from "../../errors.js";
import type { CommandContext } from "../args.js";
import { showWatch, type WatchFlags } from "./watch.js";

/** The help of `grpc-lb k8s watch`, beside the other subcommands'. */
export const K8S_WATCH_HELP = `'watch' runs grpc-lb watch on every ready Envoy pod at once, each through a
kubectl port-forward to its admin API (bound to 127.0.0.1 in the pod): one
section per pod, named pod/NAME (also the "admin" of --format json). It watches
the pods ready when it starts; start it again after an Envoy rollout.`;

/**
 * `grpc-lb k8s watch`: the Envoy pods serving now, each reached by a port-forward to its admin
 * API, watched together until --count or Ctrl-C; the forwards always stop.
 */
export async function k8sWatch(kube: KubeTarget, flags: WatchFlags, ctx: CommandContext): Promise<number> {
  const pods = servingPods(await listPods(kube, ENVOY_SELECTOR, ctx.signal));
  if (pods.length === 0) throw new EngineError(`k8s: no ready Envoy pod in namespace ${kube.namespace}`);
  const forwards: PortForward[] = [];
  try {
    for (const p of pods) forwards.push((await forwardToEnvoyAdmin(kube, p.name, ctx.signal)).adminForward);
    const names = pods.map((p) => `pod/${p.name}`);
    ctx.stderr(`k8s: watching ${names.join(", ")} through port-forwards to their admin APIs\n`);
    const admins = forwards.map((f) => `127.0.0.1:${f.port}`);
    await showWatch(admins, flags, ctx, undefined, names);
    return 0;
  } finally {
    await Promise.all(forwards.map((f) => f.stop()));
  }
}
