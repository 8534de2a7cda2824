import {
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { withTimeout } from "../src/util/wait.js";
import { resourceTypeOf, xdsProtos } from "../src/xds/protos.js";
import type { DiscoveryRequest } from "../src/xds/stream.js";

/** A response as the client decodes it, its resources decoded too. */
export interface ReceivedResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: Record<string, unknown>[];
}

/**
 * A real grpc-js ADS stream to an xDS server, driven by hand: each request is sent as
 * given, and responses are read in order (next() waits for the one after the last read).
 */
export interface AdsTestClient {
  send(req: DiscoveryRequest): void;
  next(timeoutMs?: number): Promise<ReceivedResponse>;
  /** Responses received and not yet read by next(). */
  unread(): number;
  close(): void;
}

export function openAdsStream(address: string): AdsTestClient {
  const { ads, decode } = xdsProtos();
  const Client = makeGenericClientConstructor(ads, "AggregatedDiscoveryService") as ServiceClientConstructor;
  const client = new Client(address, credentials.createInsecure());
  const call = (
    client as unknown as {
      StreamAggregatedResources(): ClientDuplexStream<DiscoveryRequest, ReceivedResponse>;
    }
  ).StreamAggregatedResources();
  const queue: ReceivedResponse[] = [];
  let wake: (() => void) | undefined;
  call.on("data", (r: Omit<ReceivedResponse, "resources"> & { resources: { value: Buffer }[] }) => {
    const type = resourceTypeOf(r.type_url);
    queue.push({
      ...r,
      resources: r.resources.map((a) => (type === undefined ? {} : decode[type](a.value))),
    });
    wake?.();
  });
  call.on("error", () => {});
  return {
    send: (req) => call.write(req),
    async next(timeoutMs = 5000) {
      if (queue.length === 0)
        await withTimeout(
          "the next ADS response",
          new Promise<void>((resolve) => {
            wake = resolve;
          }),
          timeoutMs,
        );
      wake = undefined;
      return queue.shift() as ReceivedResponse;
    },
    unread: () => queue.length,
    close() {
      call.cancel();
      client.close();
    },
  };
}
