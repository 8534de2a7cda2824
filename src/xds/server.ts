import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { errorFrom, XdsError } from "../errors.js";
import { formatHostPort } from "../util/address.js";
import type { XdsEvent } from "./events.js";
import { XdsMetrics } from "./metrics.js";
import { type ResolvedXdsServerOptions, resolveXdsServerOptions, type XdsServerOptions } from "./options.js";
import { xdsProtos } from "./protos.js";
import { buildResourceSet } from "./resources.js";
import { Snapshots } from "./snapshot.js";
import type { XdsSource } from "./source.js";
import { AdsStream, type DiscoveryRequest, type DiscoveryResponse } from "./stream.js";

export interface XdsServerHandle {
  readonly options: ResolvedXdsServerOptions;
  /** host:port of the ADS gRPC server: what an Envoy bootstrap or a gRPC xDS bootstrap points at. */
  readonly address: string;
  readonly port: number;
  /** host:port of GET /metrics; undefined with metricsPort false. */
  readonly metricsAddress: string | undefined;
  readonly metrics: XdsMetrics;
  /** ADS streams open now. */
  streams(): number;
  /** Ends every stream (clients keep their last configuration) and stops listening. */
  stop(): Promise<void>;
}

/**
 * Starts an ADS server (state of the world, xDS v3) serving one service whose endpoints come
 * from `source`: a Listener, a RouteConfiguration, a Cluster and a ClusterLoadAssignment, all
 * named after it. Nothing is answered before the source has its full list.
 */
export async function startXdsServer(
  source: XdsSource,
  options: XdsServerOptions = {},
): Promise<XdsServerHandle> {
  const o = resolveXdsServerOptions(options);
  const { ads } = xdsProtos();
  const metrics = new XdsMetrics();
  const onEvent = (e: XdsEvent): void => {
    metrics.record(e);
    o.onEvent(e);
  };
  const snapshots = new Snapshots();
  const streams = new Set<AdsStream>();
  let ids = 0;

  const update = (): void => {
    const listed = source.current();
    metrics.source(listed);
    // Without the gate, no list yet reads as no endpoint: what the gate exists to prevent.
    const endpoints = listed ?? (o.syncGate ? undefined : []);
    if (endpoints === undefined) return;
    const first = !snapshots.synced;
    const changed = snapshots.set(buildResourceSet(o.service, endpoints, o.connectTimeoutMs));
    if (first) onEvent({ kind: "synced", endpoints: endpoints.length, source: source.describe });
    if (changed.length > 0) for (const s of streams) s.push();
  };

  const handlers: UntypedServiceImplementation = {
    StreamAggregatedResources(call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
      const stream = new AdsStream(++ids, call.getPeer(), snapshots, (r) => call.write(r), onEvent);
      streams.add(stream);
      const close = (): void => {
        if (!streams.delete(stream)) return;
        if (stream.nodeId !== "") onEvent({ kind: "stream-closed", stream: stream.id, node: stream.nodeId });
      };
      call.on("data", (req: DiscoveryRequest) => stream.onRequest(req));
      call.on("end", () => {
        close();
        call.end();
      });
      call.on("error", close);
      call.on("cancelled", close);
      call.on("close", close);
    },
  };

  const server = new Server({ interceptors: [metrics.interceptor] });
  server.addService(ads, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(formatHostPort(o.host, o.port), ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(errorFrom(XdsError, e, `cannot listen on ${formatHostPort(o.host, o.port)}`)) : resolve(p),
    ),
  );
  let endpoint: Awaited<ReturnType<XdsMetrics["listen"]>> | undefined;
  try {
    endpoint = o.metricsPort === false ? undefined : await metrics.listen(o.host, o.metricsPort);
  } catch (e) {
    server.forceShutdown();
    throw errorFrom(XdsError, e);
  }
  const unwatch = source.watch(update);
  update();

  return {
    options: o,
    address: formatHostPort(o.host, port),
    port,
    metricsAddress: endpoint === undefined ? undefined : formatHostPort(o.host, endpoint.port),
    metrics,
    streams: () => streams.size,
    async stop() {
      unwatch();
      // Streams never end by themselves: cancel them, as a crash would, and close the listener.
      server.forceShutdown();
      streams.clear();
      await endpoint?.close();
    },
  };
}
