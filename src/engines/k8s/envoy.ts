import { EnvoyAdmin } from "../../envoy/admin.js";
import { EngineError } from "../../errors.js";
import { waitFor } from "../../util/wait.js";
import type { KubeTarget } from "./kubectl.js";
import { ENVOY_SELECTOR, listPods, type PodInfo, servingPods } from "./pods.js";
import { type PortForward, startPortForward } from "./port-forward.js";

/** Envoy's gRPC listener and admin ports inside its pod (deploy/k8s/base). */
export const ENVOY_GRPC_PORT = 10000;
export const ENVOY_ADMIN_PORT = 9901;

/** One Envoy pod reached from this machine: its listener and its admin API (bound to 127.0.0.1 in the pod). */
export interface EnvoyForward {
  pod: string;
  grpc: PortForward;
  adminForward: PortForward;
  admin: EnvoyAdmin;
  stop(): Promise<void>;
}

/** The one ready Envoy pod; fails if there is none. */
export async function readyEnvoyPod(t: KubeTarget, signal?: AbortSignal): Promise<string> {
  const envoys = servingPods(await listPods(t, ENVOY_SELECTOR, signal));
  const pod = envoys[0];
  if (pod === undefined) throw new EngineError(`no ready Envoy pod in namespace ${t.namespace}`);
  return pod.name;
}

/** Port-forwards to an Envoy pod's admin API (bound to 127.0.0.1 in the pod) and waits until Envoy is LIVE. */
export async function forwardToEnvoyAdmin(
  t: KubeTarget,
  pod: string,
  signal?: AbortSignal,
): Promise<{ adminForward: PortForward; admin: EnvoyAdmin }> {
  const adminForward = await startPortForward(t, `pod/${pod}`, ENVOY_ADMIN_PORT, 0, signal);
  const admin = new EnvoyAdmin(`127.0.0.1:${adminForward.port}`);
  try {
    await waitFor(`Envoy in pod ${pod} to be LIVE`, () => admin.live().then((l) => l || undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    await adminForward.stop();
    throw e;
  }
  return { adminForward, admin };
}

/** Port-forwards to an Envoy pod's listener (on `grpcLocalPort`, 0 for any) and admin API. */
export async function forwardToEnvoy(
  t: KubeTarget,
  pod: string,
  grpcLocalPort = 0,
  signal?: AbortSignal,
): Promise<EnvoyForward> {
  const grpc = await startPortForward(t, `pod/${pod}`, ENVOY_GRPC_PORT, grpcLocalPort, signal);
  try {
    const { adminForward, admin } = await forwardToEnvoyAdmin(t, pod, signal);
    return {
      pod,
      grpc,
      adminForward,
      admin,
      async stop() {
        await Promise.all([grpc.stop(), adminForward.stop()]);
      },
    };
  } catch (e) {
    await grpc.stop();
    throw e;
  }
}

/** The address Envoy's host list shows for a server pod. */
export const podAddress = (p: PodInfo, port: number): string => `${p.ip}:${port}`;
