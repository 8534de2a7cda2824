import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from "node:http2";
import { UsageError } from "../../errors.js";
import { type ClientTls, readTlsFiles } from "../../grpc/client-tls.js";
import { formatHostPort, parseHostPort } from "../../util/address.js";

/** Flow-control window of a connection and its streams, in bytes: large, so replies never wait on it. */
const WINDOW_BYTES = 16 * 1024 * 1024;

/** How one connection is opened. */
export interface H2ConnectionOptions {
  /** host:port of the one address every call goes to. */
  target: string;
  tls: ClientTls;
  /** A PING every this many ms, the connection given up when its answer takes as long; 0 none. */
  keepaliveMs: number;
}

/** Node's options for a TLS session as ghz's flags say it (ALPN h2); files are read here, once per connection. */
function secureOptions(tls: Extract<ClientTls, { kind: "tls" }>): SecureClientSessionOptions {
  const { ca, cert, key } = readTlsFiles(tls);
  return {
    ALPNProtocols: ["h2"],
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    ...(tls.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * A TLS handshake that failed for good: the server refused the client's certificate, or the
 * client the server's. Trying again would meet the same answer, so waiting for READY stops.
 */
export class TlsRefusal extends Error {}

/**
 * What a socket error means for waiting: a system call's failure (refused, reset) may pass
 * as the target starts; anything else on a TLS socket is the handshake's verdict, told by
 * OpenSSL's short reason ('tlsv13 alert certificate required') where it gives one.
 */
function socketFailure(e: Error): Error {
  if ((e as { syscall?: unknown }).syscall !== undefined) return e;
  const reason = (e as { reason?: unknown }).reason;
  return new TlsRefusal(typeof reason === "string" ? reason : e.message, { cause: e });
}

/**
 * One HTTP/2 connection slot to the target. A session that received GOAWAY
 * (or failed) is left to finish its streams, and the next call opens a new
 * one, as grpc-js's subchannel does.
 */
export class H2Connection {
  /** The :authority and :scheme every call sends. */
  readonly authority: string;
  readonly scheme: "http" | "https";
  private session: ClientHttp2Session | undefined;
  private readonly sessions = new Set<ClientHttp2Session>();
  /** Sessions whose peer sent its SETTINGS: an HTTP/2 server answered, not just a socket. */
  private readonly settled = new WeakSet<ClientHttp2Session>();
  /**
   * A session's socket error: a TLS alert after the handshake (the server refusing the
   * client's certificate) destroys the session with no 'error' or 'close' of its own.
   */
  private readonly socketErrors = new WeakMap<ClientHttp2Session, Promise<Error>>();
  private readonly url: string;
  private readonly secure: SecureClientSessionOptions | undefined;
  private closed = false;
  /** The peer's address, once connected (host:port, as grpc-js's getPeer()). */
  peer: string | undefined;

  constructor(private readonly o: H2ConnectionOptions) {
    const hp = parseHostPort(o.target);
    if (hp === undefined) throw new UsageError(`the h2 engine needs a HOST:PORT target, got '${o.target}'`);
    this.scheme = o.tls.kind === "tls" ? "https" : "http";
    this.url = `${this.scheme}://${formatHostPort(hp.host, hp.port)}`;
    this.authority =
      o.tls.kind === "tls" && o.tls.serverName !== undefined
        ? formatHostPort(o.tls.serverName, hp.port)
        : o.target;
    this.secure = o.tls.kind === "tls" ? secureOptions(o.tls) : undefined;
  }

  /** The session calls go out on now, opened if there is none usable. */
  current(): ClientHttp2Session {
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    return this.open();
  }

  private open(): ClientHttp2Session {
    const session = connect(this.url, {
      ...this.secure,
      settings: { initialWindowSize: WINDOW_BYTES, enablePush: false },
      peerMaxConcurrentStreams: 1000,
    });
    this.session = session;
    this.sessions.add(session);
    const retire = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.once("remoteSettings", () => this.settled.add(session));
    this.socketErrors.set(session, new Promise((found) => session.socket.once("error", found)));
    session.once("connect", () => {
      session.setLocalWindowSize(WINDOW_BYTES);
      const socket = session.socket;
      if (socket.remoteAddress !== undefined && socket.remotePort !== undefined)
        this.peer = formatHostPort(socket.remoteAddress, socket.remotePort);
    });
    // New calls go to a new session; this one finishes the streams the server kept.
    session.on("goaway", retire);
    // A failed session fails its streams (they see it on their own); the error needs a listener.
    session.on("error", retire);
    session.once("close", () => {
      retire();
      this.sessions.delete(session);
    });
    if (this.o.keepaliveMs > 0) this.keepalive(session);
    if (this.closed) session.close();
    return session;
  }

  private keepalive(session: ClientHttp2Session): void {
    const timer = setInterval(() => {
      const answered = setTimeout(() => session.destroy(), this.o.keepaliveMs);
      answered.unref();
      if (!session.ping(() => clearTimeout(answered))) clearTimeout(answered);
    }, this.o.keepaliveMs);
    timer.unref();
    session.once("close", () => clearInterval(timer));
  }

  /** Starts a stream with `headers`; throws when the session can take no new stream (closing, GOAWAY). */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    return this.current().request(headers, { endStream: false });
  }

  /**
   * Resolves once the server's SETTINGS arrived on a session (as grpc-js's READY: a TLS
   * listener spoken to in plaintext accepts the socket, then closes it); rejects with why not
   * within `timeoutMs`.
   */
  waitReady(timeoutMs: number): Promise<void> {
    const session = this.current();
    if (this.settled.has(session)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
      let done = false;
      const finish = (e?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        session.off("remoteSettings", onConnect);
        session.off("close", onClose);
        session.off("error", onError);
        if (e) reject(e);
        else resolve();
      };
      const onConnect = (): void => finish();
      const onError = (e: Error): void => finish(socketFailure(e));
      const onClose = (): void => finish(new Error("the connection closed"));
      session.once("remoteSettings", onConnect);
      session.once("error", onError);
      session.once("close", onClose);
      void this.socketErrors.get(session)?.then((e) => finish(socketFailure(e)));
    });
  }

  /** Closes every session: open streams may finish, no new one starts. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions) s.close();
  }
}
