import { healthCaller } from "../../doctor/live.js";
import { forwardToEnvoy } from "../../engines/k8s/envoy.js";
import type { KubeTarget } from "../../engines/k8s/kubectl.js";
import { ENVOY_SELECTOR, listPods, type PodInfo, servingPods } from "../../engines/k8s/pods.js";
import { clusterClientTls } from "../../engines/k8s/tls-client.js";
import { EngineError } from "../../errors.js";
import { type ClientTls, INSECURE } from "../../grpc/client-tls.js";
import type { CommandContext } from "../args.js";
import { doctorAndPrint } from "./doctor.js";

/** Doctor on each ready Envoy pod in turn, through port-forwards; the worst exit status. */
export async function doctorOnEveryEnvoy(t: KubeTarget, json: boolean, ctx: CommandContext): Promise<number> {
  const pods = servingPods(await listPods(t, ENVOY_SELECTOR, ctx.signal));
  if (pods.length === 0) throw new EngineError(`k8s: no ready Envoy pod in namespace ${t.namespace}`);
  const client = await clusterClientTls(t, ctx.signal);
  try {
    return await doctorEach(t, pods, client.tls ?? INSECURE, json, ctx);
  } finally {
    await client.dispose();
  }
}

async function doctorEach(
  t: KubeTarget,
  pods: readonly PodInfo[],
  tls: ClientTls,
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  let worst = 0;
  for (const pod of pods) {
    ctx.stderr(`k8s: doctor on pod ${pod.name}\n`);
    const forward = await forwardToEnvoy(t, pod.name, 0, ctx.signal);
    try {
      const listener = `127.0.0.1:${forward.grpc.port}`;
      const code = await doctorAndPrint(
        {
          admin: forward.admin,
          live: { listener, caller: healthCaller(listener, tls), deadlineMs: 2000 },
          signal: ctx.signal,
        },
        json,
        ctx,
      );
      worst = Math.max(worst, code);
    } finally {
      await forward.stop();
    }
  }
  return worst;
}
