import { PINNED_ENVOY_VERSION } from "../envoy/binary.js";
import type { EdsOptions, EnvoyConfigOptions } from "../envoy/options.js";
import { DEFAULT_SERVER_PORT } from "../server/server.js";

/** The Kubernetes namespace every manifest under deploy/k8s/ lives in. */
export const K8S_NAMESPACE = "grpc-lb";

/** Name of the server service, in Compose and in Kubernetes; Envoy resolves it. */
export const SERVER_SERVICE = "server";

/** Port of Envoy's gRPC listener in containers, published (Compose) or exposed by a Service (Kubernetes). */
export const ENVOY_LISTEN_PORT = 10000;

/** The official Envoy image the deployments run: the same version the tests validate against. */
export const ENVOY_IMAGE = `envoyproxy/envoy:v${PINNED_ENVOY_VERSION}`;

/** The server image `docker build -t` makes and the Kubernetes manifests run. */
export const SERVER_IMAGE = "grpc-envoy-lb:0.1.0";

/**
 * Where one Envoy configuration of deploy/ goes and what it is built from.
 * compose: a file mounted into the Envoy container. configmap: the `envoy.yaml`
 * key of a ConfigMap manifest that the Envoy Deployment mounts.
 */
export type DeployOutput =
  | {
      kind: "compose-file";
      path: string;
      /** With TLS: the directory the SDS files go into, mounted as the preset's tls.sdsDir. */
      sdsPath?: string;
    }
  | { kind: "configmap"; path: string; name: string; namespace: string };

export interface DeployPreset {
  /** Short name, used in the generated header. */
  name: string;
  /** What the environment is, for the generated header. */
  description: string;
  /** Inputs of the one builder, envoyConfigYaml(); everything else keeps the builder's defaults. */
  envoy: EnvoyConfigOptions;
  /** With this, cluster 'server' comes by EDS over ADS from this xDS server (buildEdsBootstrap), not DNS. */
  eds?: EdsOptions;
  output: DeployOutput;
}

/** Envoy in a container: listen on every interface, ask the container's resolver (/etc/resolv.conf). */
const inContainer = (serverHost: string): EnvoyConfigOptions => ({
  listenAddress: "0.0.0.0",
  listenPort: ENVOY_LISTEN_PORT,
  serverHost,
  serverPort: DEFAULT_SERVER_PORT,
  dnsResolvers: { kind: "system" },
});

/**
 * Docker Compose: Docker's embedded DNS answers the service name `server` with
 * the IP of every replica.
 *
 * Timings tighter than the builder's production defaults (5 s): on one Docker host
 * the DNS server and every replica are local, so a check or a lookup every 2 s costs
 * nothing, and a lost replica is out of rotation within 9 s (3 intervals + 2 timeouts, then
 * the merge window) and a new one gets traffic within 2 s + 5 s (a refresh, 2 passed checks,
 * the merge window). The servers' --drain-delay-ms in compose.yaml (10 s) covers that 9 s.
 *
 * No panic routing (threshold 0): Docker's DNS keeps a stopping replica until it exits, so
 * `--scale` down by more than half leaves most hosts unhealthy-but-listed, and Envoy's
 * default panic (below 50 % healthy) would route to the replicas that are draining away.
 */
export const composePreset: DeployPreset = {
  name: "compose",
  description: "Docker Compose (deploy/compose/compose.yaml)",
  envoy: {
    ...inContainer(SERVER_SERVICE),
    dnsRefreshMs: 2000,
    healthCheck: { intervalMs: 2000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 },
    healthyPanicThresholdPercent: 0,
  },
  output: { kind: "compose-file", path: "deploy/compose/envoy.yaml" },
};

/**
 * Kubernetes: the headless Service `server` makes cluster DNS answer its name
 * with the IP of every ready pod. The name is fully qualified so it means the
 * same from any namespace.
 */
export const kubernetesPreset: DeployPreset = {
  name: "kubernetes",
  description: "Kubernetes (deploy/k8s/base)",
  envoy: {
    ...inContainer(`${SERVER_SERVICE}.${K8S_NAMESPACE}.svc.cluster.local`),
    // Two Envoys behind a ClusterIP Service: a client connection is told to go after 30 s
    // (GOAWAY, 5 s to finish its calls), so clients that all moved to one Envoy during a
    // rollout spread over both again within 30 s.
    maxConnectionDurationMs: 30_000,
  },
  output: {
    kind: "configmap",
    path: "deploy/k8s/base/envoy-configmap.yaml",
    name: "envoy",
    namespace: K8S_NAMESPACE,
  },
};

/** Where the TLS variants mount their certificates and SDS files inside Envoy's container. */
const ENVOY_CERTS_DIR = "/etc/envoy/certs";

/**
 * Docker Compose over TLS (deploy/compose/compose.tls.yaml on top of compose.yaml): TLS on
 * the listener, mTLS to the servers. The certificates are a `grpc-lb certs` directory on the
 * host, bind-mounted whole, so that a swap of its `current` link reaches Envoy's watch.
 */
export const composeTlsPreset: DeployPreset = {
  name: "compose-tls",
  description: "Docker Compose over TLS (deploy/compose/compose.tls.yaml)",
  envoy: {
    ...composePreset.envoy,
    tls: { certsDir: ENVOY_CERTS_DIR, sdsDir: "/etc/envoy/sds", mtls: true },
  },
  output: { kind: "compose-file", path: "deploy/compose/tls/envoy.yaml", sdsPath: "deploy/compose/tls/sds" },
};

/**
 * Kubernetes over TLS (deploy/k8s/overlays/tls): TLS on the listener, mTLS to the servers.
 * The certificates are a Secret volume (kubelet swaps its `..data` link on an update); the
 * SDS files are more keys of the ConfigMap, mounted at /etc/envoy. The ConfigMap is the
 * overlay's patch of base's.
 */
export const kubernetesTlsPreset: DeployPreset = {
  name: "kubernetes-tls",
  description: "Kubernetes over TLS (deploy/k8s/overlays/tls)",
  envoy: {
    ...kubernetesPreset.envoy,
    tls: { certsDir: ENVOY_CERTS_DIR, sdsDir: "/etc/envoy", mtls: true, certsLayout: "flat" },
  },
  output: {
    kind: "configmap",
    path: "deploy/k8s/overlays/tls/envoy-configmap.yaml",
    name: "envoy",
    namespace: K8S_NAMESPACE,
  },
};

/** The xDS server's Service (deploy/k8s/overlays/xds) and its ADS port. */
export const XDS_SERVICE = "xds";
export const XDS_PORT = 18000;

/**
 * Kubernetes with Envoy fed by EDS over ADS (deploy/k8s/overlays/xds): the xDS server watches
 * the server Service's EndpointSlices and pushes each change, so neither cluster DNS's cache nor
 * Envoy's refresh stands between a pod's Ready and its first call. Envoy finds the xDS
 * replicas by their ClusterIP Service's name. An Envoy that starts while no replica answers
 * waits 15 s (Envoy's own default) for its hosts, not Ready, then starts with none; its
 * liveness probe (30 s) would restart it later than that.
 */
export const kubernetesXdsPreset: DeployPreset = {
  name: "kubernetes-xds",
  description: "Kubernetes with EDS over ADS (deploy/k8s/overlays/xds)",
  envoy: kubernetesPreset.envoy,
  eds: {
    xdsAddress: `${XDS_SERVICE}.${K8S_NAMESPACE}.svc.cluster.local`,
    xdsPort: XDS_PORT,
    initialFetchTimeoutMs: 15_000,
  },
  output: {
    kind: "configmap",
    path: "deploy/k8s/overlays/xds/envoy-configmap.yaml",
    name: "envoy",
    namespace: K8S_NAMESPACE,
  },
};

export const DEPLOY_PRESETS: readonly DeployPreset[] = [
  composePreset,
  kubernetesPreset,
  composeTlsPreset,
  kubernetesTlsPreset,
  kubernetesXdsPreset,
];
