import { Metadata, status } from "@grpc/grpc-js";
import { echoChannel } from "../grpc/channel.js";
import type { LabCluster } from "../lab/cluster.js";
import type { LabTlsKind } from "../lab/lab-tls.js";
import { startCall } from "../loadgen/calls.js";
import { startCpuWindow, startOwnCpuWindow } from "./proc-cpu.js";
import type { HandshakeRun } from "./tls-cost-result.js";

/** Deadline of the one call each new connection makes, in ms. */
const DEADLINE_MS = 5000;

/**
 * `count` new connections to the lab's Envoy one after another, or fewer if `budgetMs`
 * runs out: each a channel of its own that connects (TCP, TLS, HTTP/2), makes one unary
 * call and closes. grpc-js resumes no TLS session across channels: every handshake is full.
 */
export async function newConnections(
  lab: LabCluster,
  mode: LabTlsKind,
  repeat: number,
  count: number,
  budgetMs: number,
  signal: AbortSignal | undefined,
): Promise<HandshakeRun> {
  const envoyCpu = startCpuWindow(lab.envoy.process.pid);
  const clientCpu = startOwnCpuWindow();
  const until = performance.now() + budgetMs;
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < count && performance.now() < until; i++) {
    signal?.throwIfAborted();
    const t0 = performance.now();
    const client = echoChannel(lab.listenAddress, { ownConnection: true, tls: lab.clientTls });
    try {
      const r = await startCall(client, { kind: "unary", message: "hello" }, new Metadata(), DEADLINE_MS)
        .done;
      if (r.code === status.OK) times.push(performance.now() - t0);
      else failed++;
    } finally {
      client.close();
    }
  }
  const sorted = times.sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    mode,
    repeat,
    connections: times.length + failed,
    failed,
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    envoyCpu: envoyCpu(),
    clientCpu: clientCpu(),
  };
}
