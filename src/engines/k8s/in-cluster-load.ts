import { randomUUID } from "node:crypto";
import { kubernetesPreset, SERVER_IMAGE } from "../../deploy/presets.js";
import { LISTENER_NAME } from "../../envoy/bootstrap.js";
import { resolveEnvoyConfigOptions } from "../../envoy/options.js";
import { EngineError, messageOf } from "../../errors.js";
import type { LoadReport } from "../../loadgen/report.js";
import { waitFor } from "../../util/wait.js";
import { clientPod } from "./client-pod.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { ENVOY_SELECTOR, listPods, servingPods } from "./pods.js";

/** Envoy's admin port in its pods (bound to 127.0.0.1 there). */
const ENVOY_ADMIN_PORT = resolveEnvoyConfigOptions(kubernetesPreset.envoy).adminPort;

export interface InClusterLoadOptions {
  /** Calls started per second. */
  rps: number;
  /** How long the load runs, in ms. */
  durationMs: number;
  /** HTTP/2 connections to the envoy Service, each its own channel. */
  connections: number;
  /** Most calls in flight at once. */
  concurrency: number;
}

/** The load tool in a pod of its own, calling through the envoy Service as any client in the cluster does. */
export interface InClusterLoad {
  readonly pod: string;
  /** Waits until the load has ended and returns its report (`grpc-lb load --format json`). */
  report(timeoutMs: number, signal?: AbortSignal): Promise<LoadReport>;
  /**
   * Ends the load now, as Ctrl-C would (SIGINT to the load, PID 1 of its pod): it stops
   * starting calls, cancels those in flight (counted apart, not as failures) and prints its
   * report, which `report` then reads. The run's duration is then only its upper bound.
   */
  stop(signal?: AbortSignal): Promise<void>;
  /** Deletes the pod (at once: its report has been read, or is not wanted). */
  remove(): Promise<void>;
}

/** Starts `grpc-lb load` in a pod of the server image against the envoy Service; resolves once it runs. */
export async function startInClusterLoad(
  kube: KubeTarget,
  o: InClusterLoadOptions,
  signal?: AbortSignal,
): Promise<InClusterLoad> {
  const pod = `grpc-lb-load-${randomUUID().slice(0, 8)}`;
  const target = `envoy.${kube.namespace}.svc.cluster.local:10000`;
  const manifest = clientPod({
    name: pod,
    app: "grpc-lb-load",
    image: SERVER_IMAGE,
    container: "load",
    run: {
      args: [
        "grpc-lb",
        "load",
        "--target",
        target,
        "--rps",
        String(o.rps),
        "--duration",
        `${o.durationMs}ms`,
        "--connections",
        String(o.connections),
        "--concurrency",
        String(o.concurrency),
        "--format",
        "json",
      ],
    },
    cpuRequest: "100m",
    cpuLimit: "1",
  });
  const opts = signal ? { signal } : {};
  await kubectl(kube, ["create", "-f", "-"], { ...opts, input: JSON.stringify(manifest) });
  const remove = async (): Promise<void> => {
    await kubectl(kube, [
      "delete",
      "pod",
      pod,
      "--ignore-not-found",
      "--grace-period=0",
      "--wait=false",
    ]).catch(() => "");
  };
  try {
    await kubectl(kube, ["wait", "--for=condition=Ready", `pod/${pod}`, "--timeout=60s"], {
      ...opts,
      timeoutMs: 70_000,
    });
  } catch (e) {
    await remove();
    throw e;
  }
  return {
    pod,
    async report(timeoutMs, s) {
      const phase = await waitFor(
        `the load pod ${pod} to finish`,
        async () => {
          const p = (
            await kubectl(kube, ["get", "pod", pod, "-o", "jsonpath={.status.phase}"], s ? { signal: s } : {})
          ).trim();
          return p === "Succeeded" || p === "Failed" ? p : undefined;
        },
        { timeoutMs, intervalMs: 1000, ...(s ? { signal: s } : {}) },
      );
      const log = await kubectl(kube, ["logs", pod], s ? { signal: s } : {});
      const start =
        log.indexOf("\n{") >= 0 && !log.startsWith("{") ? log.indexOf("\n{") + 1 : log.indexOf("{");
      try {
        return JSON.parse(log.slice(start)) as LoadReport;
      } catch (e) {
        throw new EngineError(
          `the load pod ${pod} ended ${phase} without a report (${messageOf(e)}): ${log.trim().split("\n").slice(-3).join(" | ")}`,
        );
      }
    },
    async stop(s) {
      await kubectl(
        kube,
        ["exec", pod, "-c", "load", "--", "sh", "-c", "kill -INT 1"],
        s ? { signal: s } : {},
      );
    },
    remove,
  };
}

/** Requests each Envoy pod took (http.<listener>.downstream_rq_total), read in the pod through bash. */
export async function envoyRequestCounts(
  kube: KubeTarget,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const pods = (await listPods(kube, ENVOY_SELECTOR, signal)).filter((p) => p.ip !== "");
  const counts = new Map<string, number>();
  const stat = `http.${LISTENER_NAME}.downstream_rq_total`;
  const script = [
    `exec 3<>/dev/tcp/127.0.0.1/${ENVOY_ADMIN_PORT} || exit 1`,
    `printf 'GET /stats?filter=^${stat.replaceAll(".", "\\\\.")}$ HTTP/1.1\\r\\nHost: envoy\\r\\nConnection: close\\r\\n\\r\\n' >&3`,
    "cat <&3",
  ].join("\n");
  await Promise.all(
    pods.map(async (p) => {
      const out = await kubectl(kube, ["exec", p.name, "-c", "envoy", "--", "/bin/bash", "-c", script], {
        timeoutMs: 10_000,
        ...(signal ? { signal } : {}),
      }).catch(() => "");
      const m = new RegExp(`${stat.replaceAll(".", "\\.")}: (\\d+)`).exec(out);
      if (m?.[1] !== undefined) counts.set(p.name, Number(m[1]));
    }),
  );
  return counts;
}

/** The serving Envoy pods now. */
export async function servingEnvoys(kube: KubeTarget, signal?: AbortSignal): Promise<string[]> {
  return servingPods(await listPods(kube, ENVOY_SELECTOR, signal)).map((p) => p.name);
}
