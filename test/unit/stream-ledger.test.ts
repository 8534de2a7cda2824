import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { buildListener } from "../../src/envoy/bootstrap.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { atFairShare } from "../../src/lab/scenarios/streams-strategies.js";
import type { CallResult } from "../../src/loadgen/calls.js";
import { SequenceLedger, sumCounts } from "../../src/loadgen/streams/ledger.js";
import type {
  OpenedStream,
  StreamOpener,
  StreamReply,
  SubscribeAsk,
} from "../../src/loadgen/streams/open-stream.js";
import { Subscription } from "../../src/loadgen/streams/subscription.js";
import { streamLifetimeMs } from "../../src/server/stream-end.js";

describe("the sequence ledger", () => {
  it("counts in-order replies as delivered and resumes one past the last", () => {
    const l = new SequenceLedger();
    for (const s of [0, 1, 2]) assert.equal(l.receive(s), "delivered");
    assert.equal(l.next, 3);
    assert.deepEqual(l.totals(), { delivered: 3, lost: 0, duplicated: 0 });
  });

  it("counts a gap's missing numbers as lost and a number already passed as duplicated", () => {
    const l = new SequenceLedger();
    l.receive(0);
    assert.equal(l.receive(4), "gap");
    assert.equal(l.receive(2), "duplicated");
    assert.equal(l.receive(4), "duplicated");
    assert.equal(l.next, 5);
    assert.deepEqual(l.totals(), { delivered: 2, lost: 3, duplicated: 2 });
    assert.deepEqual(sumCounts([l.totals(), { delivered: 1, lost: 0, duplicated: 1 }]), {
      delivered: 3,
      lost: 3,
      duplicated: 3,
    });
  });
});

/** An opener that plays scripted streams: each gives replies from the asked from_seq (shifted by `skew`), then ends. */
function scripted(streams: { replies: number; end: CallResult; skew?: number; server: string }[]): {
  opener: StreamOpener;
  asks: SubscribeAsk[];
} {
  const asks: SubscribeAsk[] = [];
  const opener: StreamOpener = {
    waitReady: async () => {},
    close: () => {},
    open(ask, onReply: (r: StreamReply) => void): OpenedStream {
      asks.push(ask);
      const s = streams.shift();
      if (s === undefined) return { done: new Promise(() => {}), cancel: () => {} };
      for (let i = 0; i < s.replies; i++)
        onReply({ sequence: ask.fromSeq + (s.skew ?? 0) + i, serverId: s.server, address: `${s.server}:1` });
      return { done: Promise.resolve(s.end), cancel: () => {} };
    },
  };
  return { opener, asks };
}

const OPTIONS = { intervalMs: 10, maxLifetimeMs: 0, maxAttempts: 3, backoffMs: 1 };

describe("a subscription", () => {
  it("resumes after a clean end and after UNAVAILABLE from the last sequence number, losing nothing", async () => {
    const { opener, asks } = scripted([
      { replies: 3, end: { code: status.OK }, server: "a" },
      { replies: 2, end: { code: status.UNAVAILABLE }, server: "b" },
      { replies: 4, end: { code: status.OK }, server: "c" },
      { replies: 0, end: { code: status.INVALID_ARGUMENT, details: "no" }, server: "c" },
    ]);
    const sub = new Subscription(opener, OPTIONS);
    await sub.run(new AbortController().signal);
    assert.deepEqual(
      asks.map((a) => a.fromSeq),
      [0, 3, 5, 9],
    );
    assert.deepEqual(sub.ledger.totals(), { delivered: 9, lost: 0, duplicated: 0 });
    assert.equal(sub.resumes, 3);
    assert.deepEqual(Object.fromEntries(sub.messagesByServer), { a: 3, b: 2, c: 4 });
    // INVALID_ARGUMENT is final: the subscription gives up, and says why.
    assert.deepEqual(sub.state, { t: "failed", code: status.INVALID_ARGUMENT, details: "no" });
  });

  it("finds a server that skips or repeats numbers", async () => {
    const { opener } = scripted([
      { replies: 2, end: { code: status.OK }, server: "a" },
      { replies: 2, end: { code: status.OK }, server: "b", skew: 3 },
      { replies: 2, end: { code: status.OK }, server: "a", skew: -2 },
      { replies: 0, end: { code: status.UNIMPLEMENTED }, server: "a" },
    ]);
    const sub = new Subscription(opener, OPTIONS);
    await sub.run(new AbortController().signal);
    // 0 1 | 5 6 (2, 3, 4 lost) | 5 6 (both again)
    assert.deepEqual(sub.ledger.totals(), { delivered: 4, lost: 3, duplicated: 2 });
  });

  it("gives up after maxAttempts ends in a row with no reply", async () => {
    const { opener, asks } = scripted(
      Array.from({ length: 5 }, () => ({ replies: 0, end: { code: status.UNAVAILABLE }, server: "a" })),
    );
    const sub = new Subscription(opener, OPTIONS);
    await sub.run(new AbortController().signal);
    assert.equal(asks.length, OPTIONS.maxAttempts);
    assert.equal(sub.state.t, "failed");
  });
});

describe("the fair share of streams", () => {
  it("holds when every server is within one of streams / servers, with every stream open", () => {
    assert.equal(
      atFairShare({ a: 5, b: 6, c: 4, d: 5, e: 5, f: 5 }, ["a", "b", "c", "d", "e", "f"], 30),
      true,
    );
    assert.equal(
      atFairShare({ a: 7, b: 3, c: 5, d: 5, e: 5, f: 5 }, ["a", "b", "c", "d", "e", "f"], 30),
      false,
    );
    // A server with no stream counts as 0; a stream still resuming breaks it too.
    assert.equal(atFairShare({ a: 10, b: 10, c: 10 }, ["a", "b", "c", "d"], 30), false);
    assert.equal(atFairShare({ a: 10, b: 10, c: 9 }, ["a", "b", "c"], 30), false);
    // Streams still on a server outside the list (one being replaced) break it, even with every
    // listed server within one.
    assert.equal(
      atFairShare({ a: 4, b: 5, c: 4, d: 4, e: 4, f: 5, old: 4 }, ["a", "b", "c", "d", "e", "f"], 30),
      false,
    );
  });
});

describe("a stream's lifetime", () => {
  it("is the shorter of the client's and the server's, less up to a tenth; none when neither sets one", () => {
    assert.equal(streamLifetimeMs(0, 0), 0);
    assert.equal(streamLifetimeMs(0, 1000, 0), 1000);
    assert.equal(streamLifetimeMs(500, 1000, 0), 500);
    assert.equal(streamLifetimeMs(2000, 1000, 1), 900);
  });
});

describe("Envoy's max_stream_duration on the route", () => {
  const route = (o: Parameters<typeof resolveEnvoyConfigOptions>[0]) => {
    const hcm = buildListener(resolveEnvoyConfigOptions(o)).filter_chains[0]?.filters[0]?.typed_config;
    return hcm?.route_config.virtual_hosts[0]?.routes[0]?.route;
  };

  it("is set only when asked, beside the grpc-timeout cap that stays off", () => {
    assert.deepEqual(route({})?.max_stream_duration, { grpc_timeout_header_max: "0s" });
    assert.deepEqual(route({ maxStreamDurationMs: 6000 })?.max_stream_duration, {
      grpc_timeout_header_max: "0s",
      max_stream_duration: "6s",
    });
    assert.throws(() => resolveEnvoyConfigOptions({ maxStreamDurationMs: -1 }), /maxStreamDurationMs/);
  });
});
