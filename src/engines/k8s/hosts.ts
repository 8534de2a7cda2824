import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { formatHostsTable } from "../../envoy/hosts-table.js";
import { EngineError, messageOf } from "../../errors.js";
import type { ClientTls } from "../../grpc/client-tls.js";
import { pollEnvoyHosts, routesToExactly } from "../../routing/wait-hosts.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { forwardToEnvoy, podAddress } from "./envoy.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { ENVOY_SELECTOR, listPods, SERVER_SELECTOR, servingPods } from "./pods.js";

/** What Envoy should route to: every ready pod behind a headless Service, or the one cluster IP of a ClusterIP one. */
async function expectedHosts(
  t: KubeTarget,
  signal?: AbortSignal,
): Promise<{ what: string; addresses: string[]; virtualIp: boolean }> {
  const opts = signal ? { signal } : {};
  const clusterIp = (
    await kubectl(t, ["get", "service", "server", "-o", "jsonpath={.spec.clusterIP}"], opts)
  ).trim();
  if (clusterIp !== "" && clusterIp !== "None") {
    return {
      what: `the server Service's cluster IP`,
      addresses: [`${clusterIp}:${DEFAULT_SERVER_PORT}`],
      virtualIp: true,
    };
  }
  const pods = servingPods(await listPods(t, SERVER_SELECTOR, signal));
  return {
    what: `every ready server pod (${pods.map((p) => p.name).join(", ")})`,
    addresses: pods.map((p) => podAddress(p, DEFAULT_SERVER_PORT)),
    virtualIp: false,
  };
}

/**
 * Waits (up to `waitMs` in all) until the `server` cluster of every ready Envoy pod routes to
 * exactly what the server Service's name answers, every host healthy: each ready pod's IP
 * when it is headless, its cluster IP otherwise; calls through each pod's listener confirm
 * that its load balancer does. A client of the envoy Service may reach any of them. Returns
 * the hosts of each as a table.
 */
export async function envoyHostsReport(
  t: KubeTarget,
  waitMs: number,
  signal?: AbortSignal,
  tls?: ClientTls,
): Promise<string> {
  const deadline = Date.now() + waitMs;
  const pods = servingPods(await listPods(t, ENVOY_SELECTOR, signal));
  if (pods.length === 0) throw new EngineError(`no ready Envoy pod in namespace ${t.namespace}`);
  const tables: string[] = [];
  for (const pod of pods)
    tables.push(await envoyPodHosts(t, pod.name, Math.max(deadline - Date.now(), 1), signal, tls));
  return tables.join("\n");
}

async function envoyPodHosts(
  t: KubeTarget,
  pod: string,
  waitMs: number,
  signal: AbortSignal | undefined,
  tls: ClientTls | undefined,
): Promise<string> {
  const envoy = await forwardToEnvoy(t, pod, 0, signal);
  try {
    const expected = await expectedHosts(t, signal);
    await pollEnvoyHosts(
      () => envoy.admin,
      `Envoy (pod ${pod}) to route to exactly what the server Service answers`,
      async (now) => {
        const want = await expectedHosts(t, signal);
        Object.assign(expected, want);
        return routesToExactly(want.addresses)(now) ? true : undefined;
      },
      {
        timeoutMs: Math.max(waitMs, 1),
        intervalMs: 250,
        signal,
        listener: `127.0.0.1:${envoy.grpc.port}`,
        tls,
        replies: expected.virtualIp ? "opaque" : "address",
      },
      () => `expected ${expected.addresses.join(", ")}`,
    ).catch((e: unknown) => {
      if (signal?.aborted) throw e;
      throw new EngineError(messageOf(e), { cause: e });
    });
    // Read again: the counts then include the calls that confirmed the routing.
    const hosts = await envoy.admin.clusterHosts(CLUSTER_NAME);
    return formatHostsTable(
      `Envoy pod ${pod}, cluster ${CLUSTER_NAME}: ${hosts.length} host(s), ${expected.what}`,
      hosts,
    );
  } finally {
    await envoy.stop();
  }
}
