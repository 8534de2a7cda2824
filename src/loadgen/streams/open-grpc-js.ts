import { Metadata, status } from "@grpc/grpc-js";
import { LoadError } from "../../errors.js";
import type { SubscribeReply__Output } from "../../generated/lbdemo/v1/SubscribeReply.js";
import { type ClientLbPolicy, echoChannel } from "../../grpc/channel.js";
import type { CallResult } from "../calls.js";
import type { StreamConnectOptions } from "./open-h2.js";
import type { StreamOpener } from "./open-stream.js";

/**
 * Subscribe streams on grpc-js channels, each its own connection: any target,
 * dns:///NAME:PORT balanced by the channel's own policy (`lb`), xds:///NAME by
 * the endpoints of the xDS server at `xdsServer` (host:port).
 */
export function grpcJsStreamOpener(
  o: StreamConnectOptions & { lb: ClientLbPolicy | undefined; xdsServer?: string | undefined },
): StreamOpener {
  const clients = Array.from({ length: o.connections }, () =>
    echoChannel(o.target, {
      ownConnection: true,
      keepaliveMs: o.keepaliveMs,
      tls: o.tls,
      ...(o.lb ? { lb: o.lb } : {}),
      ...(o.xdsServer ? { xdsServer: o.xdsServer } : {}),
    }),
  );
  let next = 0;
  return {
    async waitReady(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      await Promise.all(
        clients.map(
          (c) =>
            new Promise<void>((resolve, reject) =>
              c.waitForReady(deadline, (err) =>
                err
                  ? reject(
                      new LoadError(`cannot connect to ${o.target} within ${timeoutMs} ms`, { cause: err }),
                    )
                  : resolve(),
              ),
            ),
        ),
      );
    },
    open(ask, onReply) {
      const client = clients[next] as (typeof clients)[number];
      next = (next + 1) % clients.length;
      const metadata = new Metadata();
      for (const [k, v] of o.metadata) metadata.add(k, v);
      const call = client.Subscribe(
        { from_seq: ask.fromSeq, interval_ms: ask.intervalMs, max_lifetime_ms: ask.maxLifetimeMs },
        metadata,
      );
      const done = new Promise<CallResult>((resolve) => {
        call.on("data", (r: SubscribeReply__Output) =>
          onReply({ sequence: r.sequence, serverId: r.server_id, address: r.address }),
        );
        // 'error' carries the same status as 'status'; it needs a listener to not be thrown.
        call.on("error", () => {});
        call.on("status", (s: { code: number; details: string }) =>
          resolve(s.code === status.OK ? { code: s.code } : { code: s.code, details: s.details }),
        );
      });
      return { done, cancel: () => call.cancel() };
    },
    close() {
      for (const c of clients) c.close();
    },
  };
}
