/**
 * Servers the engine tests call, in this process: a grpc-js server that
 * answers every status on demand in the four call shapes, and a raw
 * node:http2 server that answers the way broken servers and proxies do.
 */
import {
  constants,
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from "@grpc/grpc-js";
import type { MethodShape } from "../src/loadgen/calls.js";
import { lengthPrefixed } from "../src/loadgen/h2/wire.js";

const asIs = (b: Buffer): Buffer => b;

/** The four call shapes of the status server, by path. */
export const SHAPES: MethodShape[] = [
  { path: "/test.v1.Probe/Unary", requestStream: false, responseStream: false },
  { path: "/test.v1.Probe/Server", requestStream: false, responseStream: true },
  { path: "/test.v1.Probe/Client", requestStream: true, responseStream: false },
  { path: "/test.v1.Probe/Bidi", requestStream: true, responseStream: true },
];

/** A status message with characters grpc-message must percent-encode. */
export const detailsOf = (code: number): string => `code ${code}: 100% ünïcödé, a/b?c`;

/** The status a call asks for in its x-code header (0 when absent). */
const askedCode = (m: Metadata): number => Number(m.get("x-code")[0] ?? 0);

/**
 * A grpc-js server of test.v1.Probe (bytes in, bytes out): every method
 * answers the status its call's x-code header names, with detailsOf(code);
 * OK calls get one reply (two for the streaming replies).
 */
export async function startStatusServer(): Promise<{ target: string; stop(): Promise<void> }> {
  const server = new Server();
  const def = Object.fromEntries(
    SHAPES.map((s) => [
      s.path.split("/")[2] as string,
      {
        path: s.path,
        requestStream: s.requestStream,
        responseStream: s.responseStream,
        requestSerialize: asIs,
        requestDeserialize: asIs,
        responseSerialize: asIs,
        responseDeserialize: asIs,
      },
    ]),
  );
  const fail = (code: number) => ({ code, details: detailsOf(code) });
  server.addService(def, {
    Unary: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      const code = askedCode(call.metadata);
      cb(code === 0 ? null : fail(code), Buffer.from([8, 1]));
    },
    Server: (call: ServerWritableStream<Buffer, Buffer>) => {
      const code = askedCode(call.metadata);
      if (code !== 0) {
        call.emit("error", fail(code));
        return;
      }
      call.write(Buffer.from([8, 1]));
      call.write(Buffer.from([8, 2]));
      call.end();
    },
    Client: (call: ServerReadableStream<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
      call.on("data", () => {});
      call.on("end", () => {
        const code = askedCode(call.metadata);
        cb(code === 0 ? null : fail(code), Buffer.from([8, 1]));
      });
    },
    Bidi: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.on("data", (b: Buffer) => call.write(b));
      call.on("end", () => {
        const code = askedCode(call.metadata);
        if (code !== 0) call.emit("error", fail(code));
        else call.end();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    target: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}

const GRPC = { ":status": 200, "content-type": "application/grpc" };

/** A well-formed answer: one reply, then grpc-status 0 in trailers. */
function answerOk(s: ServerHttp2Stream): void {
  s.respond(GRPC, { waitForTrailers: true });
  s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
  s.end(lengthPrefixed(Buffer.from([8, 1])));
}

/** How the broken server answers each path of bad.v1.Bad. */
const ANSWERS: Record<string, (s: ServerHttp2Stream, firstOfItsKind: boolean, key: string) => void> = {
  // A body that ends without trailers.
  NoTrailers: (s) => {
    s.respond(GRPC);
    s.end(lengthPrefixed(Buffer.from([8, 1])));
  },
  // Trailers without grpc-status.
  NoStatus: (s) => {
    s.respond(GRPC, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "x-other": "1" }));
    s.end(lengthPrefixed(Buffer.from([8, 1])));
  },
  // An HTML error page with HTTP 200, as a misconfigured proxy sends it.
  WrongContentType: (s) => {
    s.respond({ ":status": 200, "content-type": "text/html" });
    s.end("<html><body>not gRPC</body></html>");
  },
  // A message cut short, then an OK status.
  Truncated: (s) => {
    s.respond(GRPC, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(lengthPrefixed(Buffer.from("0123456789")).subarray(0, 8));
  },
  // HTTP 503 and nothing else, as a proxy with no upstream answers.
  Http503: (s) => s.respond({ ":status": 503 }, { endStream: true }),
  Http404: (s) => s.respond({ ":status": 404, "content-type": "text/plain" }, { endStream: true }),
  // A trailers-only answer, grpc-message percent-encoded.
  TrailersOnly: (s) =>
    s.respond(
      { ...GRPC, "grpc-status": "5", "grpc-message": "no%20such%20thing%3A%20%C3%A9" },
      { endStream: true },
    ),
  // Two replies to a unary call.
  TooMany: (s) => {
    s.respond(GRPC, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.write(lengthPrefixed(Buffer.from([8, 1])));
    s.end(lengthPrefixed(Buffer.from([8, 2])));
  },
  // OK with no reply at all.
  NoReply: (s) => s.respond({ ...GRPC, "grpc-status": "0" }, { endStream: true }),
  Reset: (s) => s.close(constants.NGHTTP2_INTERNAL_ERROR),
  Calm: (s) => s.close(constants.NGHTTP2_ENHANCE_YOUR_CALM),
  // Refused the first time (since reset): gRPC's transparent retry sends it again, and it is answered.
  Refused: (s, first) => {
    if (first) s.close(constants.NGHTTP2_REFUSED_STREAM);
    else answerOk(s);
  },
  RefusedAlways: (s) => s.close(constants.NGHTTP2_REFUSED_STREAM),
  // Never answers: the deadline ends it.
  Hang: () => {},
  // Hash key key-0 fails at once (HTTP 503), any other hangs.
  FailOrHang: (s, _first, key) => {
    if (key === "key-0") s.respond({ ":status": 503 }, { endStream: true });
  },
  // The first such call (since reset) is answered after a GOAWAY: the next calls need a new connection.
  Goaway: (s, first) => {
    if (first) s.session?.goaway(constants.NGHTTP2_NO_ERROR, s.id);
    answerOk(s);
  },
};

/** The paths of the broken server's answers. */
export const BAD_PATHS = Object.keys(ANSWERS).map((name) => `/bad.v1.Bad/${name}`);

/** A node:http2 server that answers each path of BAD_PATHS in its broken way. */
export async function startBrokenServer(): Promise<{ target: string; reset(): void; stop(): Promise<void> }> {
  const seen = new Set<string>();
  const server: Http2Server = createServer();
  server.on("stream", (stream, headers) => {
    const name = String(headers[":path"]).split("/")[2] ?? "";
    stream.on("error", () => {});
    stream.resume();
    const first = !seen.has(name);
    seen.add(name);
    const key = String(headers["x-hash-key"] ?? "");
    (ANSWERS[name] ?? ((s) => s.close(constants.NGHTTP2_PROTOCOL_ERROR)))(stream, first, key);
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    /** Forget which answers were given: the next of each kind is a first again. */
    reset: () => seen.clear(),
    // Sessions a client left open (a hanging call's) would hold close() forever.
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sessions) s.destroy();
      }),
  };
}
