import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { pollEnvoyHosts, routesToExactly } from "../../envoy/wait-hosts.js";
import { EngineError, messageOf } from "../../errors.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { forwardToEnvoyAdmin, podAddress, readyEnvoyPod } from "./envoy.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { listPods, SERVER_SELECTOR, servingPods } from "./pods.js";

/** What Envoy should route to: every ready pod behind a headless Service, or the one cluster IP of a ClusterIP one. */
async function expectedHosts(
  t: KubeTarget,
  signal?: AbortSignal,
): Promise<{ what: string; addresses: string[] }> {
  const opts = signal ? { signal } : {};
  const clusterIp = (
    await kubectl(t, ["get", "service", "server", "-o", "jsonpath={.spec.clusterIP}"], opts)
  ).trim();
  if (clusterIp !== "" && clusterIp !== "None") {
    return { what: `the server Service's cluster IP`, addresses: [`${clusterIp}:${DEFAULT_SERVER_PORT}`] };
  }
  const pods = servingPods(await listPods(t, SERVER_SELECTOR, signal));
  return {
    what: `every ready server pod (${pods.map((p) => p.name).join(", ")})`,
    addresses: pods.map((p) => podAddress(p, DEFAULT_SERVER_PORT)),
  };
}

/**
 * Waits (up to `waitMs`) until Envoy's `server` cluster routes to exactly what the
 * server Service's name answers, every host healthy: each ready pod's IP when it
 * is headless, its cluster IP otherwise. Returns the hosts as a table.
 */
export async function envoyHostsReport(t: KubeTarget, waitMs: number, signal?: AbortSignal): Promise<string> {
  const pod = await readyEnvoyPod(t, signal);
  const { adminForward, admin } = await forwardToEnvoyAdmin(t, pod, signal);
  try {
    let expected = { what: "", addresses: [] as string[] };
    const { value: hosts } = await pollEnvoyHosts(
      () => admin,
      `Envoy (pod ${pod}) to route to exactly what the server Service answers`,
      async (now) => {
        expected = await expectedHosts(t, signal);
        return routesToExactly(expected.addresses)(now) ? now : undefined;
      },
      { timeoutMs: waitMs, intervalMs: 250, signal },
      () => `expected ${expected.addresses.join(", ")}`,
    ).catch((e: unknown) => {
      if (signal?.aborted) throw e;
      throw new EngineError(messageOf(e), { cause: e });
    });
    const lines = [`Envoy pod ${pod}, cluster ${CLUSTER_NAME}: ${hosts.length} host(s), ${expected.what}`];
    for (const h of hosts) {
      lines.push(`  ${`${h.address}:${h.port}`.padEnd(21)} healthy, ${h.requestsTotal} calls so far`);
    }
    return `${lines.join("\n")}\n`;
  } finally {
    await adminForward.stop();
  }
}
