import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { chooseEngine, defaultWorkers } from "../../src/loadgen/engine-choice.js";
import { statusOfTrailers } from "../../src/loadgen/h2/call.js";
import {
  decodeGrpcMessage,
  grpcTimeout,
  lengthPrefixed,
  MAX_RECEIVE_BYTES,
  MessageReader,
  statusOfHttp,
} from "../../src/loadgen/h2/wire.js";

describe("h2 wire: length-prefixed messages", () => {
  const body = Buffer.concat([
    lengthPrefixed(Buffer.from("first")),
    lengthPrefixed(Buffer.alloc(0)),
    lengthPrefixed(Buffer.from("third message")),
  ]);

  it("splits a body into its messages however the DATA frames cut it", () => {
    for (let cut = 1; cut <= body.length; cut++) {
      const got: string[] = [];
      const r = new MessageReader((m) => got.push(m.toString()));
      for (let at = 0; at < body.length; at += cut) r.push(body.subarray(at, at + cut));
      assert.deepEqual(got, ["first", "", "third message"], `cut every ${cut} bytes`);
      assert.equal(r.count, 3);
      assert.equal(r.pending, 0);
    }
  });

  it("counts without a handler, and knows a message left unfinished", () => {
    const r = new MessageReader(undefined);
    r.push(body.subarray(0, body.length - 2));
    assert.equal(r.count, 2);
    assert.ok(r.pending > 0);
  });

  it("refuses a message larger than grpc-js's default limit, with grpc-js's words", () => {
    const r = new MessageReader(undefined);
    assert.throws(() => r.push(Buffer.from("<html>")), /Received message larger than max/);
    const prefix = Buffer.from([0, 0, 0, 0, 0]);
    prefix.writeUInt32BE(MAX_RECEIVE_BYTES, 1);
    assert.doesNotThrow(() => new MessageReader(undefined).push(prefix));
  });
});

describe("h2 wire: statuses", () => {
  it("maps HTTP statuses as gRPC's http-grpc-status-mapping says", () => {
    const mapped = [400, 401, 403, 404, 429, 502, 503, 504, 500, 200].map((h) => statusOfHttp(h).code);
    assert.deepEqual(mapped, [
      status.INTERNAL,
      status.UNAUTHENTICATED,
      status.PERMISSION_DENIED,
      status.UNIMPLEMENTED,
      status.UNAVAILABLE,
      status.UNAVAILABLE,
      status.UNAVAILABLE,
      status.UNAVAILABLE,
      status.UNKNOWN,
      status.UNKNOWN,
    ]);
  });

  it("reads grpc-status and a percent-encoded grpc-message, else the HTTP status", () => {
    assert.deepEqual(statusOfTrailers({ "grpc-status": "3", "grpc-message": "bad%20%C3%A9%2Fx" }, 200), {
      code: 3,
      details: "bad é/x",
    });
    assert.deepEqual(statusOfTrailers({ "grpc-status": "0" }, 200), { code: 0, details: "" });
    assert.equal(statusOfTrailers({}, 503).code, status.UNAVAILABLE);
    assert.equal(statusOfTrailers({}, undefined).code, status.UNKNOWN);
    assert.equal(decodeGrpcMessage("100%"), "100%", "a malformed escape is kept as it came");
  });

  it("writes deadlines in at most 8 digits", () => {
    assert.equal(grpcTimeout(5000), "5000m");
    assert.equal(grpcTimeout(0.2), "1m");
    assert.equal(grpcTimeout(3_600_000_000), "3600000S");
  });
});

describe("load engine choice", () => {
  it("takes h2 for one address and grpc-js for a name grpc-js resolves", () => {
    assert.equal(chooseEngine(undefined, "127.0.0.1:8080"), "h2");
    assert.equal(chooseEngine(undefined, "[::1]:8080"), "h2");
    assert.equal(chooseEngine(undefined, "dns:///server:50051"), "grpc-js");
    assert.equal(chooseEngine("grpc-js", "127.0.0.1:8080"), "grpc-js");
    assert.throws(() => chooseEngine("h2", "dns:///server:50051"), /--engine h2 sends to one HOST:PORT/);
  });

  it("leaves half the cores to what the h2 engine loads, and keeps at least one worker", () => {
    assert.equal(defaultWorkers("h2", 2), 1);
    assert.equal(defaultWorkers("h2", 1), 1);
    assert.equal(defaultWorkers("h2", 8), 4);
    assert.equal(defaultWorkers("grpc-js", 2), 2);
  });
});
