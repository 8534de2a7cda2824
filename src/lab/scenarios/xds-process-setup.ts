import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EdsOptions } from "../../envoy/options.js";
import type { EnvoyHandle } from "../../envoy/process.js";
import { Disposers } from "../../util/disposers.js";
import { writeEndpointsFile } from "../../xds/sources/file-format.js";
import type { DiscoveredEndpoint } from "../../xds/types.js";
import type { LabCluster } from "../cluster.js";
import type { LabServer } from "../servers.js";
import { proxylessLoadOptions } from "./discovery-phase.js";
import { startXdsServerProcess, type XdsServerProcess } from "./xds-process.js";
import { type ProxylessLoad, startProxylessThread } from "./xds-proxyless-thread.js";
import { startSideEnvoy } from "./xds-side-envoy.js";

/** The node id of the process phase's Envoy, as the xDS server's /metrics name it. */
export const ENVOY_NODE = "grpc-lb-envoy-xds-process";

/** The lab's servers as the endpoints file lists them, every one HEALTHY. */
export const endpointsOf = (servers: readonly LabServer[]): DiscoveredEndpoint[] =>
  servers.map((s) => ({ address: s.host, port: s.port, health: "HEALTHY" }));

/** What the phase starts before it acts: the file, the process, its Envoy, the proxyless load. */
export interface ProcessPhaseSetup {
  file: string;
  xds: XdsServerProcess;
  envoy: EnvoyHandle;
  /** Its calls run from the start; the phase counts those from its first mark on. */
  proxyless: ProxylessLoad;
  /** Stops whatever the setup and the phase started, last first. */
  readonly disposers: Disposers;
}

/**
 * Writes all the lab's servers but the last to an endpoints file, starts `grpc-lb xds-server
 * --source file` on it as a child process, an Envoy of its own taking its hosts from it by
 * EDS, and a proxyless load (grpc-js-xds, in a worker thread) on it. Nothing acts on the lab:
 * the scenario runs this while it waits on something else.
 */
export async function prepareXdsProcess(
  lab: LabCluster,
  eds: EdsOptions,
  signal: AbortSignal,
): Promise<ProcessPhaseSetup> {
  const disposers = new Disposers();
  try {
    const dir = await mkdtemp(join(tmpdir(), "grpc-lb-xds-process-"));
    disposers.defer(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "endpoints.json");
    await writeEndpointsFile(file, endpointsOf(lab.servers().slice(0, -1)));
    const xds = await startXdsServerProcess({
      endpointsFile: file,
      port: 0,
      startTimeoutMs: lab.options.startTimeoutMs,
      signal,
    });
    disposers.defer(() => xds.stop());
    const proxyless = startProxylessThread({ ...proxylessLoadOptions(lab), xdsServer: xds.address }, signal);
    disposers.defer(() => proxyless.stop());
    const envoy = await startSideEnvoy(
      lab,
      dir,
      "xds-process Envoy",
      { ...eds, xdsAddress: "127.0.0.1", xdsPort: xds.port, nodeId: ENVOY_NODE },
      signal,
    );
    disposers.defer(() => envoy.stop());
    return { file, xds, envoy, proxyless, disposers };
  } catch (e) {
    await disposers.dispose();
    throw e;
  }
}
