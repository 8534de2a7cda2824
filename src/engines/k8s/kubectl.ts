import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EngineError, messageOf } from "../../errors.js";
import { packageRoot } from "../../paths.js";

/** The Kubernetes version the local cluster (scripts/k8s-local) builds; its kubectl lives under .tools/. */
export const LOCAL_K8S_VERSION = "v1.34.3";

/** Where `make k8s-local-up` writes the local cluster's kubeconfig. */
export const LOCAL_KUBECONFIG = join(packageRoot, ".tools", "k8s-local", "kubeconfig");

/** How to reach a cluster: which kubectl, with which environment, in which namespace. */
export interface KubeTarget {
  kubectl: string;
  /** Extra environment for kubectl (KUBECONFIG for the local cluster). */
  env: Record<string, string>;
  namespace: string;
  /** True for the throwaway cluster of `make k8s-local-up`. */
  local: boolean;
}

/**
 * The local cluster when its kubeconfig exists (and the kubectl built for it),
 * otherwise kubectl from PATH with the user's current context.
 */
export function resolveKubeTarget(namespace: string): KubeTarget {
  if (existsSync(LOCAL_KUBECONFIG)) {
    const built = join(packageRoot, ".tools", `k8s-${LOCAL_K8S_VERSION}`, "bin", "kubectl");
    return {
      kubectl: existsSync(built) ? built : "kubectl",
      env: { KUBECONFIG: LOCAL_KUBECONFIG },
      namespace,
      local: true,
    };
  }
  return { kubectl: "kubectl", env: {}, namespace, local: false };
}

export interface KubectlOptions {
  /** Give up after this long, in ms (default 30 000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Run without `-n <namespace>` (cluster-wide objects). */
  clusterWide?: boolean;
  /** Written to kubectl's stdin (`-f -`), which is then closed. */
  input?: string;
}

/** Runs one kubectl command in the target's namespace and returns its stdout; fails with its stderr's last line. */
export function kubectl(t: KubeTarget, args: readonly string[], o: KubectlOptions = {}): Promise<string> {
  const full = o.clusterWide ? [...args] : ["-n", t.namespace, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      t.kubectl,
      full,
      {
        env: { ...process.env, ...t.env },
        timeout: o.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve(stdout);
          return;
        }
        const last = stderr.trim().split("\n").at(-1) || messageOf(err);
        reject(new EngineError(`kubectl ${full.join(" ")}: ${last}`, { cause: err }));
      },
    );
    if (o.input !== undefined) {
      child.stdin?.on("error", () => {});
      child.stdin?.end(o.input);
    }
  });
}
