import { envoyPresentedSerials, sdsUpdates } from "../../../lab/scenarios/rotation-probes.js";
import { DEFAULT_SERVER_PORT } from "../../../server/server.js";
import type { CertSet } from "../../../tls/cert-set.js";
import { ENVOY_CLIENT } from "../../../tls/plan.js";
import { tlsHandshake } from "../../../tls/probe.js";
import { type EnvoyForward, forwardToEnvoy } from "../envoy.js";
import { type KubeTarget, kubectl } from "../kubectl.js";
import { ENVOY_SELECTOR, listPods, type PodInfo, SERVER_SELECTOR, servingPods } from "../pods.js";
import { type PortForward, startPortForward } from "../port-forward.js";
import { caBundle, envoyServiceName, serverServiceName } from "../tls-secrets.js";

/** A probe's deadline, in ms: a handshake through a port-forward takes a few. */
const PROBE_TIMEOUT_MS = 3000;

/**
 * What the rotation looks at, from this machine: every Envoy pod's listener and admin API,
 * and every server pod's gRPC port, each through a port-forward of its own. The servers'
 * certificates are read on the wire, by a handshake as Envoy makes it (its SNI, its client
 * certificate); Envoy's /certs lists only what Envoy itself presents.
 */
export interface RotationProbes {
  envoys: EnvoyForward[];
  servers: { pod: PodInfo; forward: PortForward }[];
  stop(): Promise<void>;
}

export async function openRotationProbes(
  kube: KubeTarget,
  inUse: EnvoyForward,
  signal: AbortSignal,
): Promise<RotationProbes> {
  const opened: { stop(): Promise<void> }[] = [];
  const probes: RotationProbes = {
    envoys: [inUse],
    servers: [],
    stop: async () => {
      await Promise.all(opened.map((o) => o.stop()));
    },
  };
  try {
    for (const pod of servingPods(await listPods(kube, ENVOY_SELECTOR, signal))) {
      if (pod.name === inUse.pod) continue;
      const forward = await forwardToEnvoy(kube, pod.name, 0, signal);
      opened.push(forward);
      probes.envoys.push(forward);
    }
    for (const pod of servingPods(await listPods(kube, SERVER_SELECTOR, signal))) {
      const forward = await startPortForward(kube, `pod/${pod.name}`, DEFAULT_SERVER_PORT, 0, signal);
      opened.push(forward);
      probes.servers.push({ pod, forward });
    }
  } catch (e) {
    await probes.stop();
    throw e;
  }
  return probes;
}

/** What one handshake showed: the serial, and whether it chains to the bundle of `set`. */
export interface WireCertificate {
  serial: string;
  trusted: boolean;
}

/** The certificate an Envoy pod's listener shows a new client, named as in-cluster clients name it. */
export async function listenerOnWire(
  kube: KubeTarget,
  envoy: EnvoyForward,
  set: CertSet,
): Promise<WireCertificate> {
  const r = await tlsHandshake({
    host: "127.0.0.1",
    port: envoy.grpc.port,
    servername: envoyServiceName(kube.namespace),
    ca: caBundle(set),
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return { serial: r.serial, trusted: r.authorized };
}

/** The certificate a server pod shows Envoy: its SNI, and Envoy's client certificate of `set`. */
export async function serverOnWire(
  kube: KubeTarget,
  forward: PortForward,
  set: CertSet,
): Promise<WireCertificate> {
  const client = set.leaves.find((l) => l.record.name === ENVOY_CLIENT);
  const r = await tlsHandshake({
    host: "127.0.0.1",
    port: forward.port,
    servername: serverServiceName(kube.namespace),
    ca: caBundle(set),
    cert: client?.certPem,
    key: client?.keyPem,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return { serial: r.serial, trusted: r.authorized };
}

/** Serials an Envoy pod holds to present (listener and client), from its /certs. */
export const presentedSerials = (envoy: EnvoyForward): Promise<string[]> =>
  envoyPresentedSerials(envoy.admin);

/** ssl_context_update_by_sds of an Envoy pod, listener and cluster side. */
export const sdsUpdatesOf = (envoy: EnvoyForward) => sdsUpdates(envoy.admin);

/** Reloads a server pod has applied, as its log says ({"event":"tls-reloaded",…}, once each). */
export async function serverReloads(kube: KubeTarget, pod: string, signal: AbortSignal): Promise<number> {
  const log = await kubectl(kube, ["logs", pod], { signal });
  return log.split("\n").filter((l) => l.startsWith("{") && l.includes('"event":"tls-reloaded"')).length;
}
