import { type ClientTls, INSECURE } from "../grpc/client-tls.js";
import { type StreamLoadRun, startStreamLoad } from "../loadgen/streams/stream-load.js";

/**
 * The streams every streams scenario holds (lab, Compose, Kubernetes): `t.streams` Subscribe
 * streams over one HTTP/2 connection to Envoy's listener at `target`, sampled every
 * `t.sampleMs`, each asking for `maxLifetimeMs` (0: the server's own lifetime).
 */
export function startScenarioStreams(
  target: { listenAddress: string; tls?: ClientTls | undefined },
  t: { streams: number; intervalMs: number; sampleMs: number },
  o: { maxLifetimeMs: number; connectTimeoutMs: number },
): Promise<StreamLoadRun> {
  return startStreamLoad({
    target: target.listenAddress,
    engine: "h2",
    tls: target.tls ?? INSECURE,
    connections: 1,
    keepaliveMs: 0,
    metadata: [],
    streams: t.streams,
    intervalMs: t.intervalMs,
    maxLifetimeMs: o.maxLifetimeMs,
    sampleMs: t.sampleMs,
    connectTimeoutMs: o.connectTimeoutMs,
  });
}
