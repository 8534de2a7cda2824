import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { ECHO_STREAM_METHOD, parseMethodName, resolveMethod } from "../../src/grpc/method.js";

describe("gRPC methods", () => {
  it("reads ghz's two spellings of a method", () => {
    const want = { service: "grpc.health.v1.Health", name: "Check" };
    assert.deepEqual(parseMethodName("grpc.health.v1.Health/Check"), want);
    assert.deepEqual(parseMethodName("grpc.health.v1.Health.Check"), want);
    assert.deepEqual(parseMethodName("/grpc.health.v1.Health/Check"), want);
    assert.deepEqual(parseMethodName("Greeter/Hi"), { service: "Greeter", name: "Hi" });
    for (const bad of ["Check", "a.b/", "a b/c", ""])
      assert.throws(() => parseMethodName(bad), UsageError, bad);
  });

  it("knows Echo without reflection and reads its requests as protobuf's JSON mapping does", async () => {
    // Port 1 answers nothing: Echo is known without asking.
    const m = await resolveMethod({ target: "127.0.0.1:1", method: ECHO_STREAM_METHOD });
    assert.equal(m.path, "/lbdemo.v1.Echo/EchoStream");
    assert.equal(m.source, "built-in");
    assert.deepEqual([m.requestStream, m.responseStream], [false, true]);
    assert.deepEqual(m.requestObject({ message: "x", count: "3", intervalMs: 2 }), {
      message: "x",
      count: 3,
      interval_ms: 2,
    });
    assert.deepEqual(m.requestObject({ message: null }), { message: "", count: 0, interval_ms: 0 });
    const misfits: [unknown, RegExp][] = [
      [{ count: -1 }, /\.count must be an integer from 0 to 4294967295 \(uint32\), got -1/],
      [{ count: 1.5 }, /\.count must be an integer/],
      [{ message: ["a"] }, /\.message must be a string/],
      [{ mesage: "a" }, /no field 'mesage'; the fields are message, count, interval_ms/],
      ["hello", /the request must be an object \(lbdemo\.v1\.EchoStreamRequest\)/],
    ];
    for (const [json, message] of misfits)
      assert.throws(
        () => m.encodeRequest(json),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    const reply = await resolveMethod({ target: "127.0.0.1:1", method: "lbdemo.v1.Echo/Echo" });
    const bytes = reply.encodeRequest({ message: "hi" });
    assert.deepEqual(reply.decodeResponse(bytes), {
      message: "hi",
      server_id: "",
      hostname: "",
      address: "",
      sequence: 0,
    });
  });

  it("names the methods a service has when asked for one it lacks", async () => {
    await assert.rejects(
      resolveMethod({ target: "127.0.0.1:1", method: "lbdemo.v1.Echo/Nope" }),
      /service lbdemo\.v1\.Echo has no method Nope; its methods: Echo, EchoStream/,
    );
  });
});
