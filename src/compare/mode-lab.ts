import { type LabCluster, startLabCluster } from "../lab/cluster.js";
import type { LabEvent } from "../lab/events.js";
import { layerLabOptions, type ResolvedLabOptions, resolveLabOptions } from "../lab/options.js";
import type { LabServer } from "../lab/servers.js";
import { asXdsTopology } from "../lab/topologies/xds.js";
import { type PeerClusterEvent, startPeerCluster } from "../peers/cluster.js";
import { processTree } from "../peers/pids.js";
import { balancerPids, type CompareMode, type ModeTarget, modeLabOptions, modeTarget } from "./modes.js";
import type { ResolvedCompareOptions } from "./options.js";

/**
 * How a mode's layer meets a server that joins DNS. The newcomer starts before the load
 * (`prepare`), so that joining is one DNS change at a known moment (`publish`), not a process
 * start that takes seconds on a busy machine.
 */
export interface ScaleOutPath {
  prepare(): Promise<LabServer>;
  publish(): void;
}

/** The scale-out of a lab whose DNS answers every live server. */
const dnsScaleOut = (lab: {
  pool: { add(n: number): Promise<LabServer[]> };
  servers(): readonly LabServer[];
  setServerRecords(servers: readonly LabServer[]): void;
}): ScaleOutPath => ({
  prepare: async () => (await lab.pool.add(1))[0] as LabServer,
  publish: () => lab.setServerRecords(lab.servers()),
});

/**
 * The scale-out of a lab whose xDS server follows the pool: the newcomer is held out of EDS
 * from its start until `publish`, when it enters EDS (and DNS, for the record) at once.
 */
const xdsScaleOut = (
  lab: Parameters<typeof dnsScaleOut>[0],
  topology: { holdNewcomers(): () => void },
): ScaleOutPath => {
  let release: (() => void) | undefined;
  return {
    prepare: async () => {
      release = topology.holdNewcomers();
      return (await lab.pool.add(1))[0] as LabServer;
    },
    publish: () => {
      release?.();
      lab.setServerRecords(lab.servers());
    },
  };
};

/** The scale-out of Envoy's lab: by its xDS server where it has one, else by DNS. */
const scaleOutPath = (lab: LabCluster): ScaleOutPath => {
  const xds = asXdsTopology(lab.topology);
  return xds === undefined ? dnsScaleOut(lab) : xdsScaleOut(lab, xds.controlPlane());
};

/** What a mode runs on, Envoy's lab or a peer's, seen the same way by runMode. */
export interface ModeLab {
  servers(): readonly LabServer[];
  kill(server: LabServer): Promise<void>;
  scaleOut: ScaleOutPath;
  target: ModeTarget;
  /** The processes that balance, whose CPU is measured; "self" when the client balances. */
  balancerPids(): readonly number[] | "self";
  /** "Envoy 1.x" or "HAProxy 2.6.x", for the report. */
  envoyVersion: string | undefined;
  peerVersion: string | undefined;
  /** The lab's own budget for a part to come up, in ms: what waits on the mode's clients derive from. */
  startTimeoutMs: number;
  stop(reason: string): Promise<void>;
}

/** The lab options every mode shares: the workload's servers, server 1 slowed. */
const workloadLab = (o: ResolvedCompareOptions, mode: CompareMode): ResolvedLabOptions =>
  resolveLabOptions(
    layerLabOptions(
      { servers: o.servers, firstServerFaults: { delayMs: o.slowServerMs }, tls: o.tls },
      modeLabOptions(mode),
    ),
  );

/** Starts the lab the mode needs and says how to drive it. */
export async function startModeLab(
  o: ResolvedCompareOptions,
  mode: CompareMode,
  onEvent: (e: LabEvent | PeerClusterEvent) => void,
  signal: AbortSignal | undefined,
): Promise<ModeLab> {
  const labOptions = workloadLab(o, mode);
  if (mode.kind === "peer") {
    const lab = await startPeerCluster(mode.peer, labOptions, {}, onEvent, signal);
    return {
      servers: () => lab.servers(),
      kill: (s) => lab.pool.kill(s),
      // nginx 1.22 gets the newcomer in DNS all the same: that it never calls it is the finding.
      scaleOut: dnsScaleOut(lab),
      target: { target: lab.listenAddress },
      balancerPids: () => processTree(lab.peer.process.pid),
      envoyVersion: undefined,
      peerVersion: `${mode.peer} ${lab.peer.binary.version}`,
      startTimeoutMs: labOptions.startTimeoutMs,
      stop: (reason) => lab.stop(reason),
    };
  }
  const lab = await startLabCluster(labOptions, onEvent, signal);
  return {
    servers: () => lab.servers(),
    kill: (s) => lab.pool.kill(s),
    // Under L4 the newcomer joins the kube-proxy stand-in's endpoints, not the name clients resolve.
    scaleOut: scaleOutPath(lab),
    target: modeTarget(mode, lab),
    balancerPids: () => balancerPids(mode, lab),
    envoyVersion: lab.envoyBinary.version,
    peerVersion: undefined,
    startTimeoutMs: labOptions.startTimeoutMs,
    stop: (reason) => lab.stop(reason),
  };
}
