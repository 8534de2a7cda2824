import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect as connectH2, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { connect as connectTcp } from "node:net";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import type { ChildHandle } from "../../src/proc/child.js";
import { echoPackage } from "../../src/proto/echo-package.js";
import { formatHostPort } from "../../src/util/address.js";
import { echo, echoClient } from "../grpc-clients.js";
import { waitAllGone } from "../helpers.js";

// A peer that sends bad input must get a definite answer (an error response, a
// GOAWAY, a closed connection) and must not take the server or Envoy down with it.

const ECHO_PATH = "/lbdemo.v1.Echo/Echo";
const echoMethod = echoPackage().grpc.lbdemo.v1.Echo.service.Echo;
/** The servers' default maxMessageBytes (4 MiB): the lab starts them without --max-message-bytes. */
const SERVER_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const HTTP2_FRAME_GOAWAY = 0x7;

/** One place a peer can connect to, and what must still work after it misbehaved. */
interface Target {
  name: string;
  host: string;
  port: number;
  /** Lab processes that must still be running. */
  processes: readonly ChildHandle[];
  /** Server ids that as many fresh Echo calls as there are ids reach (Envoy round-robins over all). */
  serverIds: readonly string[];
}

const addressOf = (t: Target): string => formatHostPort(t.host, t.port);

/**
 * Random garbage that is neither the HTTP/2 preface nor HTTP/1 text: every byte has its high bit set, so it
 * holds no line break either (an HTTP/1 parser cannot tell where its request line ends).
 */
const garbage = (bytes = 256): Buffer => Buffer.from(randomBytes(bytes).map((b) => b | 0x80));
/** How long Envoy may keep a connection whose request headers never complete, in ms. */
const HEADERS_DEADLINE_MS = 5000;

/** A gRPC length-prefixed message: flag 0 (uncompressed), then the length it announces. */
function grpcFrame(message: Buffer, announcedLength = message.length): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(announcedLength, 1);
  return Buffer.concat([prefix, message]);
}

interface RawReply {
  bytes: Buffer;
  /** True when the peer closed (or reset) the connection before `complete` accepted the bytes. */
  closedByPeer: boolean;
}

/**
 * Writes `data` on a fresh TCP connection and collects what comes back until
 * `complete` accepts it or the peer closes; then closes our side and waits for
 * the socket to be gone.
 */
function rawExchange(
  target: Target,
  data: Buffer | string,
  complete: (bytes: Buffer) => boolean,
  timeoutMs = 5000,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: target.host, port: target.port });
    let bytes = Buffer.alloc(0);
    let outcome: { ok: RawReply } | { err: Error } | undefined;
    const finish = (o: { ok: RawReply } | { err: Error }): void => {
      if (outcome !== undefined) return;
      outcome = o;
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(() => {
      const seen = JSON.stringify(bytes.subarray(0, 200).toString("latin1"));
      finish({
        err: new Error(
          `${target.name}: neither a complete reply nor a close within ${timeoutMs} ms (got ${bytes.length} bytes: ${seen})`,
        ),
      });
    }, timeoutMs);
    socket.on("connect", () => socket.write(data));
    socket.on("data", (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (complete(bytes)) finish({ ok: { bytes, closedByPeer: false } });
    });
    socket.on("end", () => finish({ ok: { bytes, closedByPeer: true } }));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNRESET") finish({ ok: { bytes, closedByPeer: true } });
      else finish({ err: new Error(`${target.name}: ${e.message}`, { cause: e }) });
    });
    socket.on("close", () => {
      if (outcome === undefined) finish({ ok: { bytes, closedByPeer: true } });
      if (outcome !== undefined && "ok" in outcome) resolve(outcome.ok);
      else reject(outcome?.err);
    });
  });
}

interface Http1Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  trailers: Map<string, string>;
}

function headerLines(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** Parses one HTTP/1.1 response (Content-Length or chunked); undefined while it is incomplete. */
function parseHttp1Response(bytes: Buffer): Http1Response | undefined {
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const [statusLine = "", ...rest] = bytes.subarray(0, headEnd).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
  if (!m) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(statusLine)}`);
  const headers = headerLines(rest.join("\r\n"));
  let at = headEnd + 4;
  if (headers.get("transfer-encoding") === "chunked") {
    const chunks: Buffer[] = [];
    for (;;) {
      const lineEnd = bytes.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(bytes.subarray(at, lineEnd).toString("latin1"), 16);
      at = lineEnd + 2;
      if (size === 0) break;
      if (bytes.length < at + size + 2) return undefined;
      chunks.push(bytes.subarray(at, at + size));
      at += size + 2;
    }
    const trailerEnd = bytes.indexOf("\r\n\r\n", at - 2);
    if (trailerEnd < 0) return undefined;
    const trailers = headerLines(bytes.subarray(at, trailerEnd).toString("latin1"));
    return { status: Number(m[1]), headers, body: Buffer.concat(chunks), trailers };
  }
  const length = Number(headers.get("content-length") ?? 0);
  if (bytes.length < at + length) return undefined;
  return { status: Number(m[1]), headers, body: bytes.subarray(at, at + length), trailers: new Map() };
}

const isHttp1Response = (bytes: Buffer): boolean => parseHttp1Response(bytes) !== undefined;

/** The HTTP/1.1 response a raw exchange got; fails showing the bytes when there is none. */
function http1Of(reply: RawReply): Http1Response {
  const res = parseHttp1Response(reply.bytes);
  assert.ok(res, `an HTTP/1.1 response, got ${JSON.stringify(reply.bytes.toString("latin1"))}`);
  return res;
}

/** The HTTP/2 frames in `bytes` (a server's side of a connection), as type and payload. */
function http2Frames(bytes: Buffer): { type: number; payload: Buffer }[] {
  const frames: { type: number; payload: Buffer }[] = [];
  for (let at = 0; at + 9 <= bytes.length; ) {
    const length = bytes.readUIntBE(at, 3);
    frames.push({ type: bytes.readUInt8(at + 3), payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}

/** The error code of the GOAWAY frame in `bytes`, or undefined when there is none. */
function goAwayCode(bytes: Buffer): number | undefined {
  const frame = http2Frames(bytes).find((f) => f.type === HTTP2_FRAME_GOAWAY);
  return frame === undefined || frame.payload.length < 8 ? undefined : frame.payload.readUInt32BE(4);
}

interface Http2Reply {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  data: Buffer;
  /** grpc-status from the trailers, or from the headers of a trailers-only response. */
  grpcStatus: number | undefined;
}

/** One HTTP/2 request on its own connection; resolves once the stream and the connection are closed. */
function http2Request(
  target: Target,
  headers: OutgoingHttpHeaders,
  body: Buffer,
  timeoutMs = 5000,
): Promise<Http2Reply> {
  return new Promise((resolve, reject) => {
    const session = connectH2(`http://${addressOf(target)}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`${target.name}: the HTTP/2 stream did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    session.on("error", (e) => {
      clearTimeout(timer);
      session.destroy();
      reject(new Error(`${target.name}: HTTP/2 session failed: ${e.message}`, { cause: e }));
    });
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const data: Buffer[] = [];
    const stream = session.request(headers);
    stream.on("response", (h) => {
      responseHeaders = h;
    });
    stream.on("trailers", (h) => {
      trailers = h;
    });
    stream.on("data", (chunk: Buffer) => data.push(chunk));
    // A reset stream ends in 'close' as well; its code is in rstCode.
    stream.on("error", () => {});
    stream.on("close", () => {
      clearTimeout(timer);
      const raw = trailers["grpc-status"] ?? responseHeaders["grpc-status"];
      const reply = {
        headers: responseHeaders,
        trailers,
        data: Buffer.concat(data),
        grpcStatus: typeof raw === "string" ? Number(raw) : undefined,
      };
      session.close(() => resolve(reply));
    });
    stream.end(body);
  });
}

/** The gRPC request headers a conforming client sends for a unary Echo call. */
const grpcHeaders = (): OutgoingHttpHeaders => ({
  ":method": "POST",
  ":path": ECHO_PATH,
  "content-type": "application/grpc",
  te: "trailers",
});

/** The target still accepts connections and answers Echo, and no lab process has died. */
async function assertStillServing(target: Target): Promise<void> {
  for (const p of target.processes) {
    assert.deepEqual(p.state(), { t: "running" }, `${p.name} is still running:\n${p.stderrTail()}`);
  }
  // A fresh channel: a fresh connection, so the listener itself still accepts.
  const client = echoClient(addressOf(target));
  try {
    const ids: string[] = [];
    for (const _ of target.serverIds) {
      const reply = await echo(client, "still there?");
      assert.equal(reply.message, "still there?");
      ids.push(reply.server_id);
    }
    assert.deepEqual(ids.sort(), [...target.serverIds].sort(), `${target.name}: every server answers`);
  } finally {
    client.close();
  }
}

describe("bad input from a peer: servers and Envoy keep serving", () => {
  let cluster: LabCluster | undefined;
  let server: Target | undefined;
  let envoy: Target | undefined;
  const lab = () => {
    assert.ok(cluster && server && envoy, "the lab started");
    return { cluster, server, envoy };
  };

  before(async () => {
    const c = await startLabCluster(resolveLabOptions({ servers: 2 }));
    cluster = c;
    const servers = c.servers();
    const [first] = servers;
    assert.ok(first);
    server = {
      name: `server 1 (${formatHostPort(first.host, first.port)})`,
      host: first.host,
      port: first.port,
      processes: [first.process],
      serverIds: [first.id],
    };
    envoy = {
      name: `Envoy's listener (${c.listenAddress})`,
      host: "127.0.0.1",
      port: c.envoy.listenerPort,
      processes: [c.envoy.process, ...servers.map((s) => s.process)],
      serverIds: servers.map((s) => s.id),
    };
  });

  after(async () => {
    if (!cluster) return;
    const pids = [cluster.envoy.process.pid, ...cluster.servers().map((s) => s.process.pid)];
    await cluster.stop();
    await waitAllGone(pids);
  });

  describe("garbage bytes on a raw TCP connection", () => {
    it("a server answers with an HTTP/2 GOAWAY and closes the connection", async () => {
      const { server } = lab();
      const reply = await rawExchange(server, garbage(), () => false);
      assert.ok(reply.closedByPeer, "the server closed the connection");
      const code = goAwayCode(reply.bytes);
      assert.notEqual(code, undefined, `a GOAWAY frame in ${reply.bytes.toString("hex")}`);
      assert.notEqual(code, 0, "the GOAWAY carries an error code, not NO_ERROR");
      await assertStillServing(server);
    });

    it("Envoy (codec AUTO: not the HTTP/2 preface, so HTTP/1), garbage then a line break: 400, close", async () => {
      const { envoy } = lab();
      const data = Buffer.concat([garbage(), Buffer.from("\r\n")]);
      const res = http1Of(await rawExchange(envoy, data, isHttp1Response));
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("server"), "envoy");
      assert.equal(res.headers.get("connection"), "close");
      await assertStillServing(envoy);
    });

    it("Envoy, 100 KiB of garbage with no line break: 431, past its 60 KiB header limit", async () => {
      const { envoy } = lab();
      const res = http1Of(await rawExchange(envoy, garbage(100 * 1024), isHttp1Response));
      assert.equal(res.status, 431);
      assert.equal(res.headers.get("connection"), "close");
      await assertStillServing(envoy);
    });

    // A request line that never ends must not hold a connection for ever: a few hundred such peers, each
    // sending a few bytes, would otherwise use up the overload manager's downstream connection cap.
    it(`Envoy, garbage with no line break: the connection is closed within ${HEADERS_DEADLINE_MS} ms`, async () => {
      const { envoy } = lab();
      const reply = await rawExchange(envoy, garbage(), isHttp1Response, HEADERS_DEADLINE_MS);
      // With request_headers_timeout set, Envoy answers 408 and closes.
      if (!reply.closedByPeer) {
        const res = http1Of(reply);
        assert.equal(res.status, 408);
        assert.equal(res.headers.get("connection"), "close");
      }
      await assertStillServing(envoy);
    });
  });

  describe("HTTP/1.1 requests", () => {
    const grpcBody = grpcFrame(echoMethod.requestSerialize({ message: "over http/1.1" }));
    const requests = {
      "GET /": "GET / HTTP/1.1\r\nHost: lab\r\n\r\n",
      "POST Echo without a gRPC content-type": `POST ${ECHO_PATH} HTTP/1.1\r\nHost: lab\r\nContent-Type: application/octet-stream\r\nContent-Length: ${grpcBody.length}\r\n\r\n`,
      "POST Echo as application/grpc": `POST ${ECHO_PATH} HTTP/1.1\r\nHost: lab\r\nContent-Type: application/grpc\r\nTE: trailers\r\nContent-Length: ${grpcBody.length}\r\n\r\n`,
    };
    const bytesOf = (head: string): Buffer =>
      head.startsWith("GET") ? Buffer.from(head) : Buffer.concat([Buffer.from(head), grpcBody]);

    for (const [name, head] of Object.entries(requests)) {
      it(`${name} to a server: HTTP/2 only, so a GOAWAY and a closed connection`, async () => {
        const { server } = lab();
        const reply = await rawExchange(server, bytesOf(head), () => false);
        assert.ok(reply.closedByPeer, "the server closed the connection");
        assert.notEqual(goAwayCode(reply.bytes), undefined, `a GOAWAY in ${reply.bytes.toString("hex")}`);
        await assertStillServing(server);
      });
    }

    it("GET / to Envoy: 404 (the only route matches gRPC requests)", async () => {
      const { envoy } = lab();
      const res = http1Of(await rawExchange(envoy, bytesOf(requests["GET /"]), isHttp1Response));
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("server"), "envoy");
      await assertStillServing(envoy);
    });

    it("POST Echo without a gRPC content-type to Envoy: 404, never routed", async () => {
      const { envoy } = lab();
      const head = requests["POST Echo without a gRPC content-type"];
      const res = http1Of(await rawExchange(envoy, bytesOf(head), isHttp1Response));
      assert.equal(res.status, 404);
      assert.equal(res.headers.has("x-envoy-upstream-service-time"), false, "no server was asked");
      await assertStillServing(envoy);
    });

    it("POST Echo as application/grpc to Envoy: bridged to HTTP/2 and answered, minus grpc-status", async () => {
      const { envoy } = lab();
      const head = requests["POST Echo as application/grpc"];
      const res = http1Of(await rawExchange(envoy, bytesOf(head), isHttp1Response));
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^application\/grpc/);
      assert.equal(res.body.readUInt8(0), 0, "an uncompressed gRPC message");
      assert.equal(res.body.readUInt32BE(1), res.body.length - 5, "one whole gRPC message");
      const reply = echoMethod.responseDeserialize(res.body.subarray(5));
      assert.equal(reply.message, "over http/1.1");
      assert.ok(envoy.serverIds.includes(reply.server_id), "a lab server answered");
      // Envoy drops response trailers on HTTP/1.1 unless http_protocol_options.enable_trailers is set,
      // so such a client gets the message but never the call's status.
      assert.equal(res.trailers.get("grpc-status") ?? res.headers.get("grpc-status"), undefined);
      await assertStillServing(envoy);
    });
  });

  describe("a truncated gRPC message (length prefix says 100 bytes, 10 follow, then END_STREAM)", () => {
    const truncated = grpcFrame(randomBytes(10), 100);

    // grpc-js (1.14) drops the unfinished message at END_STREAM and sees a unary call with no request:
    // a request cardinality violation, UNIMPLEMENTED in gRPC's statuscodes.md.
    for (const pick of ["server", "envoy"] as const) {
      it(`${pick === "server" ? "to a server" : "through Envoy"}: UNIMPLEMENTED, no reply message`, async () => {
        const target = lab()[pick];
        const reply = await http2Request(target, grpcHeaders(), truncated);
        assert.equal(reply.headers[":status"], 200);
        assert.equal(reply.grpcStatus, status.UNIMPLEMENTED, JSON.stringify(reply.headers));
        assert.match(String(reply.headers["grpc-message"]), /Received%20no%20request%20message/);
        assert.equal(reply.data.length, 0, "the handler never ran");
        if (pick === "envoy") {
          assert.ok(reply.headers["x-envoy-upstream-service-time"], "the status came from a server");
        }
        await assertStillServing(target);
      });
    }
  });

  describe("a request one byte over the servers' 4 MiB limit", () => {
    // EchoRequest{message}: tag (1 byte) + length varint (4 bytes for 2^21..2^28) + the text.
    const overLimit = "x".repeat(SERVER_MAX_MESSAGE_BYTES + 1 - 5);
    assert.equal(echoMethod.requestSerialize({ message: overLimit }).length, SERVER_MAX_MESSAGE_BYTES + 1);

    for (const pick of ["server", "envoy"] as const) {
      it(`${pick === "server" ? "to a server" : "through Envoy"}: RESOURCE_EXHAUSTED, then the same channel works`, async () => {
        const target = lab()[pick];
        const client = echoClient(addressOf(target));
        try {
          const err = await echo(client, overLimit).then(
            () => assert.fail("an oversized request was accepted"),
            (e: { code: number; details: string }) => e,
          );
          assert.equal(err.code, status.RESOURCE_EXHAUSTED, err.details);
          assert.match(err.details, /larger than max \(4194305 vs 4194304\)/);
          assert.equal((await echo(client, "small again")).message, "small again");
        } finally {
          client.close();
        }
        await assertStillServing(target);
      });
    }
  });
});
