import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import type { CallSpec } from "../../src/loadgen/calls.js";
import { type EngineKind, type EngineOptions, startLoad } from "../../src/loadgen/engine.js";
import type { CallOutcome } from "../../src/loadgen/recorder.js";
import { BAD_PATHS, detailsOf, SHAPES, startBrokenServer, startStatusServer } from "../h2-fixtures.js";

const ENGINES: EngineKind[] = ["h2", "grpc-js"];

/** The calls of one run on `engine`, in the order they ended, as code and message (who answered when OK). */
async function run(engine: EngineKind, o: Omit<EngineOptions, "engine">): Promise<CallOutcome[]> {
  const got: CallOutcome[] = [];
  await startLoad({ connectTimeoutMs: 0, ...o, engine, onCall: (c) => got.push(c) }).done;
  return got;
}

const rawCall = (path: string, shape = SHAPES[0]): CallSpec => ({
  kind: "method",
  method: { ...(shape ?? SHAPES[0]), path } as NonNullable<typeof shape>,
  encoded: [Uint8Array.from([8, 1]), Uint8Array.from([8, 2])],
});

describe("the h2 engine reads every status as grpc-js does", () => {
  let server: Awaited<ReturnType<typeof startStatusServer>>;
  before(async () => {
    server = await startStatusServer();
  });
  after(() => server?.stop());

  for (const shape of SHAPES)
    it(`${shape.path}: codes 0-16 with their percent-encoded messages`, async () => {
      for (let code = 0; code <= 16; code++) {
        const results = await Promise.all(
          ENGINES.map((engine) =>
            run(engine, {
              target: server.target,
              requests: 2,
              metadata: [["x-code", String(code)]],
              call: { kind: "method", method: shape, encoded: [Uint8Array.from([8, 1])] },
              attribution: "peer",
            }),
          ),
        );
        const [h2, grpcJs] = results.map((calls) => calls.map((c) => [c.code, c.details ?? "", c.serverId]));
        assert.deepEqual(h2, grpcJs, `code ${code}`);
        assert.deepEqual(
          h2?.map(([c, d]) => [c, d]),
          code === 0
            ? [
                [0, ""],
                [0, ""],
              ]
            : [
                [code, detailsOf(code)],
                [code, detailsOf(code)],
              ],
        );
        if (code === 0) assert.equal(h2?.[0]?.[2], server.target, "who answered: the peer");
      }
    });
});

/** What grpc-js reports for each broken answer (checked against grpc-js itself below). */
const EXPECTED: Record<string, number> = {
  NoTrailers: status.INTERNAL,
  NoStatus: status.UNKNOWN,
  WrongContentType: status.RESOURCE_EXHAUSTED,
  Truncated: status.UNIMPLEMENTED,
  Http503: status.UNAVAILABLE,
  Http404: status.UNIMPLEMENTED,
  TrailersOnly: status.NOT_FOUND,
  TooMany: status.UNIMPLEMENTED,
  NoReply: status.UNIMPLEMENTED,
  Reset: status.INTERNAL,
  Calm: status.RESOURCE_EXHAUSTED,
  Refused: status.OK,
  RefusedAlways: status.UNAVAILABLE,
  Hang: status.DEADLINE_EXCEEDED,
  Goaway: status.OK,
};

describe("the h2 engine reads malformed answers as grpc-js does", () => {
  let server: Awaited<ReturnType<typeof startBrokenServer>>;
  before(async () => {
    server = await startBrokenServer();
  });
  after(() => server?.stop());

  for (const path of BAD_PATHS.filter((p) => !p.endsWith("/FailOrHang"))) {
    const name = path.split("/")[2] ?? "";
    it(`${name}: ${status[EXPECTED[name] ?? 2]}`, async () => {
      const seen: [number, string][] = [];
      for (const engine of ENGINES) {
        server.reset();
        // After a GOAWAY, later calls go out on a new connection.
        const requests = name === "Goaway" ? 3 : 1;
        const calls = await run(engine, {
          target: server.target,
          requests,
          deadlineMs: 300,
          call: rawCall(path),
        });
        assert.equal(new Set(calls.map((c) => c.code)).size, 1, JSON.stringify(calls));
        const c = calls[0];
        seen.push([c?.code ?? -1, c?.details ?? ""]);
      }
      const [h2, grpcJs] = seen;
      // grpc-js means to end a unary call with two replies as UNIMPLEMENTED, but its call then waits for the deadline.
      if (name === "TooMany") assert.equal(grpcJs?.[0], status.DEADLINE_EXCEEDED);
      else assert.equal(h2?.[0], grpcJs?.[0], `h2 ${JSON.stringify(h2)}, grpc-js ${JSON.stringify(grpcJs)}`);
      assert.equal(h2?.[0], EXPECTED[name], JSON.stringify(h2));
      if (name === "TrailersOnly") assert.equal(h2?.[1], "no such thing: é");
      if (name.startsWith("Http")) assert.equal(h2?.[1], grpcJs?.[1]);
    });
  }
});

describe("Ctrl-C: calls it cancels are counted apart from failures", () => {
  let server: Awaited<ReturnType<typeof startBrokenServer>>;
  before(async () => {
    server = await startBrokenServer();
  });
  after(() => server?.stop());

  for (const engine of ENGINES)
    it(`${engine}: 8 real failures kept, 8 hanging calls cancelled apart`, async () => {
      const ctrlC = new AbortController();
      let ended = 0;
      // Calls alternate between failing at once (HTTP 503: UNAVAILABLE) and hanging.
      const report = await startLoad({
        engine,
        target: server.target,
        concurrency: 16,
        requests: 16,
        call: rawCall("/bad.v1.Bad/FailOrHang"),
        hashKey: { header: "x-hash-key", space: 2 },
        signal: ctrlC.signal,
        cancelOnAbort: true,
        onCall: () => {
          ended += 1;
          if (ended === 8) ctrlC.abort();
        },
      }).done;
      assert.equal(report.interrupted, true);
      assert.deepEqual(report.requests, { total: 8, ok: 0, failed: 8 });
      assert.deepEqual(report.errors, { UNAVAILABLE: 8 });
      assert.equal(report.cancelledByInterrupt, 8);
    });
});
