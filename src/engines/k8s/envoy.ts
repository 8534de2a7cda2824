import { EnvoyAdmin } from "../../envoy/admin.js";
import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { EngineError } from "../../errors.js";
import { waitFor } from "../../util/wait.js";
import { routesToExactly } from "../hosts.js";
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

/**
 * Waits until Envoy routes to exactly the serving server pods (listed afresh each
 * time: pods come and go while it waits); returns them.
 */
export async function waitForEnvoyToMatchPods(
  t: KubeTarget,
  admin: EnvoyAdmin,
  listServers: () => Promise<PodInfo[]>,
  serverPort: number,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<PodInfo[]> {
  let last = "";
  return waitFor(
    what,
    async () => {
      const pods = servingPods(await listServers());
      const hosts = await admin.clusterHosts(CLUSTER_NAME);
      last = `pods ${pods.map((p) => p.ip).join(" ") || "none"}; Envoy ${hosts.map((h) => `${h.address}:${h.port}${h.healthy ? "" : " (unhealthy)"}`).join(" ") || "no hosts"}`;
      return routesToExactly(pods.map((p) => podAddress(p, serverPort)))(hosts) ? pods : undefined;
    },
    { timeoutMs, intervalMs: 250, ...(signal ? { signal } : {}) },
    () => `${last} in namespace ${t.namespace}`,
  );
}
