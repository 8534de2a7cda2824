import { Metadata, status } from "@grpc/grpc-js";
import { LoadError } from "../../errors.js";
import type { EchoClient } from "../../generated/lbdemo/v1/Echo.js";
import type { SubscribeReply__Output } from "../../generated/lbdemo/v1/SubscribeReply.js";
import { type ClientLbPolicy, echoChannel } from "../../grpc/channel.js";
import type { CallResult } from "../calls.js";
import type { StreamConnectOptions } from "./open-h2.js";
import type { OpenedStream, StreamKind, StreamOpener, StreamReply, SubscribeAsk } from "./open-stream.js";

/**
 * Subscribe streams on grpc-js channels, each its own connection: any target,
 * dns:///NAME:PORT balanced by the channel's own policy (`lb`), xds:///NAME by
 * the endpoints of the xDS server at `xdsServer` (host:port).
 */
export function grpcJsStreamOpener(
  o: StreamConnectOptions & {
    lb: ClientLbPolicy | undefined;
    kind: StreamKind;
    xdsServer?: string | undefined;
  },
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
      return o.kind === "exchange"
        ? openExchange(client, metadata, ask, onReply)
        : openSubscribe(client, metadata, ask, onReply);
    },
    close() {
      for (const c of clients) c.close();
    },
  };
}

type Reply = (r: StreamReply) => void;

/** How a call's end is reported: its status, details only when it failed. */
function ended(call: { on(e: "status", f: (s: { code: number; details: string }) => void): unknown }) {
  return new Promise<CallResult>((resolve) =>
    call.on("status", (s) =>
      resolve(s.code === status.OK ? { code: s.code } : { code: s.code, details: s.details }),
    ),
  );
}

const toReply = (r: SubscribeReply__Output) => ({
  sequence: r.sequence,
  serverId: r.server_id,
  address: r.address,
});

function openSubscribe(
  client: EchoClient,
  metadata: Metadata,
  ask: SubscribeAsk,
  onReply: Reply,
): OpenedStream {
  const call = client.Subscribe(
    { from_seq: ask.fromSeq, interval_ms: ask.intervalMs, max_lifetime_ms: ask.maxLifetimeMs },
    metadata,
  );
  call.on("data", (r: SubscribeReply__Output) => onReply(toReply(r)));
  // 'error' carries the same status as 'status'; it needs a listener to not be thrown.
  call.on("error", () => {});
  return { done: ended(call), cancel: () => call.cancel() };
}

/**
 * An Exchange stream: sends message `fromSeq`, then the next every intervalMs,
 * each answered by the server. Messages sent but not answered when the stream
 * ends are sent again by the next stream, which starts at the ledger's next.
 */
function openExchange(
  client: EchoClient,
  metadata: Metadata,
  ask: SubscribeAsk,
  onReply: Reply,
): OpenedStream {
  const call = client.Exchange(metadata);
  let sequence = ask.fromSeq;
  const send = (): void => {
    call.write({ sequence, max_lifetime_ms: ask.maxLifetimeMs });
    sequence += 1;
  };
  call.on("data", (r: SubscribeReply__Output) => onReply(toReply(r)));
  call.on("error", () => {});
  send();
  const timer = setInterval(send, ask.intervalMs);
  const done = ended(call).finally(() => clearInterval(timer));
  return {
    done,
    cancel: () => {
      clearInterval(timer);
      call.cancel();
    },
  };
}
