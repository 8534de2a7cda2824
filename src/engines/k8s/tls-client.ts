import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineError } from "../../errors.js";
import { type ClientTls, tlsTrusting } from "../../grpc/client-tls.js";
import { certFile } from "../../tls/cert-set.js";
import { CA_NAME } from "../../tls/plan.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { CA_CONFIGMAP, envoyServiceName } from "./tls-secrets.js";

/** The SDS file the tls overlay's ConfigMap adds (src/deploy/presets.ts): its presence means TLS. */
const LISTENER_SDS_KEY = "listener_cert.yaml";

/** How this machine's clients reach the deployment's Envoy: plaintext, or TLS with a CA file of their own. */
export interface ClusterClientTls {
  /** undefined on the plaintext deployment (base). */
  readonly tls: ClientTls | undefined;
  /** The CA file clients trust (in a temporary directory), undefined in plaintext. */
  readonly caFile: string | undefined;
  /** Removes the temporary CA file. */
  dispose(): Promise<void>;
}

/** Whether the deployment's Envoy terminates TLS: its ConfigMap carries the listener's SDS file. */
export async function deploymentUsesTls(t: KubeTarget, signal?: AbortSignal): Promise<boolean> {
  const keys = await kubectl(
    t,
    ["get", "configmap", "envoy", "-o", "jsonpath={.data}"],
    signal ? { signal } : {},
  );
  return keys.includes(`"${LISTENER_SDS_KEY}"`);
}

/**
 * What a client on this machine needs to call the deployment's Envoy (through a
 * port-forward): nothing on base; on the tls overlay the CA of the ConfigMap grpc-lb-ca
 * plus `extraCaPem` (CAs the client should trust beyond those of today), and the name
 * on Envoy's listener certificate, the envoy Service's.
 */
export async function clusterClientTls(
  t: KubeTarget,
  signal?: AbortSignal,
  extraCaPem = "",
): Promise<ClusterClientTls> {
  if (!(await deploymentUsesTls(t, signal))) {
    return { tls: undefined, caFile: undefined, dispose: async () => {} };
  }
  const ca = await kubectl(
    t,
    ["get", "configmap", CA_CONFIGMAP, "-o", `jsonpath={.data.${certFile(CA_NAME).replace(".", "\\.")}}`],
    signal ? { signal } : {},
  ).catch((e: unknown) => {
    throw new EngineError(
      `the deployment speaks TLS but its CA is not readable from ConfigMap ${CA_CONFIGMAP} (make k8s-tls-secrets)`,
      { cause: e },
    );
  });
  if (!ca.includes("BEGIN CERTIFICATE"))
    throw new EngineError(`ConfigMap ${CA_CONFIGMAP} in namespace ${t.namespace} holds no CA certificate`);
  const dir = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-ca-"));
  const caFile = join(dir, certFile(CA_NAME));
  await writeFile(caFile, `${extraCaPem}${ca}`);
  return {
    tls: tlsTrusting(caFile, { serverName: envoyServiceName(t.namespace) }),
    caFile,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
