import { join } from "node:path";
import { EngineError } from "../../errors.js";
import { packageRoot } from "../../paths.js";
import { type CertSet, certFile, keyFile, readSet } from "../../tls/cert-set.js";
import { CA_NAME, ENVOY_CLIENT, ENVOY_LISTENER } from "../../tls/plan.js";
import { type KubeTarget, kubectl } from "./kubectl.js";

/*
 * How deploy/k8s/overlays/tls gets its certificates: a set made by `grpc-lb certs`
 * (never committed: it holds private keys) is put into two Secrets and one ConfigMap.
 *   envoy-tls   envoy-listener.crt/.key, envoy-client.crt/.key, ca.crt   → Envoy's /etc/envoy/certs
 *   server-tls  server.crt/.key, ca.crt                                  → every server pod
 *   grpc-lb-ca  ca.crt                                                   → clients (the load Job)
 * The CA's own key stays on the machine that made the set.
 */

export const ENVOY_TLS_SECRET = "envoy-tls";
export const SERVER_TLS_SECRET = "server-tls";
export const CA_CONFIGMAP = "grpc-lb-ca";
/** The one server leaf of a Kubernetes set (`grpc-lb certs --server-name server`): every pod serves it. */
export const K8S_SERVER_LEAF = "server";
/** Where `make k8s-tls-secrets` keeps the set. */
export const K8S_CERTS_DIR = join(packageRoot, ".tools", "k8s-certs");
/** The name clients in the cluster use for Envoy's Service, on its listener certificate. */
export const envoyServiceName = (namespace: string): string => `envoy.${namespace}.svc.cluster.local`;
/** The headless Service's name: the SNI Envoy sends to every server and the SAN it checks. */
export const serverServiceName = (namespace: string): string => `server.${namespace}.svc.cluster.local`;

const LABELS = { "app.kubernetes.io/part-of": "grpc-envoy-lb" };

interface Leaf {
  certPem: string;
  keyPem: string;
}

function leaf(set: CertSet, name: string, dir: string): Leaf {
  const found = set.leaves.find((l) => l.record.name === name);
  if (found === undefined) {
    throw new EngineError(
      `${dir} has no certificate '${name}': make the set with ` +
        `grpc-lb certs --out ${dir} --server-name ${K8S_SERVER_LEAF} --shared-name server --k8s-namespace NS`,
    );
  }
  return found;
}

/** The trust bundle of a set: every CA trusted now, the issuing one first (its ca.crt). */
export const caBundle = (set: CertSet): string => set.cas.map((c) => c.certPem).join("");

/** The Secrets and the ConfigMap for `set`, as one List for `kubectl apply -f -`. */
export function tlsObjects(set: CertSet, namespace: string, dir: string): object {
  const ca = caBundle(set);
  const listener = leaf(set, ENVOY_LISTENER, dir);
  const client = leaf(set, ENVOY_CLIENT, dir);
  const server = leaf(set, K8S_SERVER_LEAF, dir);
  const meta = (name: string) => ({ name, namespace, labels: LABELS });
  const secret = (name: string, files: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(name),
    type: "Opaque",
    data: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  });
  return {
    apiVersion: "v1",
    kind: "List",
    items: [
      // First, so that the Secrets can go in before the deployment is applied.
      { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: LABELS } },
      secret(ENVOY_TLS_SECRET, {
        [certFile(ENVOY_LISTENER)]: listener.certPem,
        [keyFile(ENVOY_LISTENER)]: listener.keyPem,
        [certFile(ENVOY_CLIENT)]: client.certPem,
        [keyFile(ENVOY_CLIENT)]: client.keyPem,
        [certFile(CA_NAME)]: ca,
      }),
      secret(SERVER_TLS_SECRET, {
        [certFile(K8S_SERVER_LEAF)]: server.certPem,
        [keyFile(K8S_SERVER_LEAF)]: server.keyPem,
        [certFile(CA_NAME)]: ca,
      }),
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(CA_CONFIGMAP),
        data: { [certFile(CA_NAME)]: ca },
      },
    ],
  };
}

/**
 * Creates or updates the Secrets and the CA ConfigMap from `set`: server-side apply, so no
 * copy of the keys lands in a last-applied annotation; each object is one write, which
 * kubelet then swaps into each pod's volume as a whole.
 */
export async function applyTlsObjects(
  t: KubeTarget,
  set: CertSet,
  dir: string,
  signal?: AbortSignal,
): Promise<string> {
  return kubectl(t, ["apply", "--server-side", "--force-conflicts", "--field-manager=grpc-lb", "-f", "-"], {
    input: JSON.stringify(tlsObjects(set, t.namespace, dir)),
    ...(signal ? { signal } : {}),
  });
}

/** applyTlsObjects with the set `dir/current` holds. */
export async function applyTlsSecrets(t: KubeTarget, dir: string, signal?: AbortSignal): Promise<string> {
  return applyTlsObjects(t, await readSet(dir), dir, signal);
}
