import { EngineError } from "../../errors.js";
import { type KubeTarget, kubectl } from "./kubectl.js";

/** The label every server pod carries (deploy/k8s/base/server-deployment.yaml). */
export const SERVER_SELECTOR = "app.kubernetes.io/name=server";
export const ENVOY_SELECTOR = "app.kubernetes.io/name=envoy";

/** One pod as the scenarios need it. */
export interface PodInfo {
  name: string;
  /** Empty until the pod has an address. */
  ip: string;
  ready: boolean;
  /** True once deletion started (it is terminating). */
  deleting: boolean;
}

interface PodListJson {
  items: {
    metadata: { name: string; deletionTimestamp?: string };
    status: { podIP?: string; conditions?: { type: string; status: string }[] };
  }[];
}

export async function listPods(t: KubeTarget, selector: string, signal?: AbortSignal): Promise<PodInfo[]> {
  const out = await kubectl(t, ["get", "pods", "-l", selector, "-o", "json"], signal ? { signal } : {});
  const list = JSON.parse(out) as PodListJson;
  return list.items
    .map((p) => ({
      name: p.metadata.name,
      ip: p.status.podIP ?? "",
      ready: p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      deleting: p.metadata.deletionTimestamp !== undefined,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Ready pods that are not terminating: the ones a Service's endpoints list as ready. */
export const servingPods = (pods: readonly PodInfo[]): PodInfo[] =>
  pods.filter((p) => p.ready && !p.deleting);

/**
 * The server_id a server pod answers with: the server prints it in its ready
 * line (`{"event":"ready","id":…}`), which is in the pod's log.
 */
export async function serverIdOf(t: KubeTarget, pod: string, signal?: AbortSignal): Promise<string> {
  const log = await kubectl(t, ["logs", pod, "--tail", "50"], signal ? { signal } : {});
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const parsed = JSON.parse(line) as { event?: string; id?: string };
      if (parsed.event === "ready" && typeof parsed.id === "string") return parsed.id;
    } catch {
      // Not a JSON line: keep looking.
    }
  }
  throw new EngineError(`no ready line with a server id in the log of pod ${pod}`);
}
