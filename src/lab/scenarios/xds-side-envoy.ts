import type { EdsOptions } from "../../envoy/options.js";
import type { EnvoyHandle } from "../../envoy/process.js";
import type { LabCluster } from "../cluster.js";
import { startLabEnvoy } from "../lab-envoy.js";

/**
 * An Envoy beside the lab's own, on any free ports in `dir`, speaking the lab's TLS, its hosts
 * by EDS as `eds` says (its own xDS server or node id): what the xDS scenarios start next to
 * the lab's Envoy to see how another one fares.
 */
export function startSideEnvoy(
  lab: LabCluster,
  dir: string,
  name: string,
  eds: EdsOptions,
  signal: AbortSignal,
): Promise<EnvoyHandle> {
  return startLabEnvoy(
    lab.options,
    lab.envoyBinary.path,
    lab.dns,
    lab.pool.port,
    dir,
    signal,
    name,
    { listenPort: 0, adminPort: 0, tls: lab.tls?.envoy ?? false },
    eds,
  );
}
