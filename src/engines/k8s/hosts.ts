import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { forwardToEnvoyAdmin, readyEnvoyPod, waitForEnvoyToMatchPods } from "./envoy.js";
import type { KubeTarget } from "./kubectl.js";
import { listPods, SERVER_SELECTOR } from "./pods.js";

/**
 * Waits (up to `waitMs`) until Envoy's `server` cluster lists exactly the ready
 * server pods' IPs, all healthy, and returns a table of them; throws with what
 * it saw last otherwise.
 */
export async function envoyHostsReport(t: KubeTarget, waitMs: number, signal?: AbortSignal): Promise<string> {
  const pod = await readyEnvoyPod(t, signal);
  const { adminForward, admin } = await forwardToEnvoyAdmin(t, pod, signal);
  try {
    const pods = await waitForEnvoyToMatchPods(
      t,
      admin,
      () => listPods(t, SERVER_SELECTOR, signal),
      DEFAULT_SERVER_PORT,
      `Envoy (pod ${pod}) to route to exactly the ready server pods`,
      waitMs,
      signal,
    );
    const hosts = await admin.clusterHosts(CLUSTER_NAME);
    const lines = [
      `Envoy pod ${pod}, cluster ${CLUSTER_NAME}: ${hosts.length} hosts, one per ready server pod`,
    ];
    for (const p of pods) {
      const h = hosts.find((x) => x.address === p.ip);
      lines.push(
        `  ${p.name.padEnd(28)} ${`${p.ip}:${DEFAULT_SERVER_PORT}`.padEnd(21)} healthy, ${h?.requestsTotal ?? 0} calls`,
      );
    }
    return `${lines.join("\n")}\n`;
  } finally {
    await adminForward.stop();
  }
}
