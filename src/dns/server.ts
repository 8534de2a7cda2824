import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Socket, type Server as TcpServer } from "node:net";
import { DnsError, messageOf } from "../errors.js";
import { type AnswerSummary, answerQuery, normalizeName, summarizeAnswer } from "./answer.js";

export interface DnsServerOptions {
  /** Address to listen on (UDP and TCP). Default "127.0.0.1". */
  host?: string;
  /** Port for both UDP and TCP; 0 picks one free for both. Default 0. */
  port?: number;
  /** TTL put in answers, in seconds. Default 1 (Envoy re-resolves on its own timer anyway). */
  ttlS?: number;
  /** Initial records: name → IPv4 addresses. */
  records?: Record<string, readonly string[]>;
}

export interface DnsServerHandle {
  readonly host: string;
  readonly port: number;
  /** Replaces the addresses of a name; an empty list answers NOERROR with no records. */
  setRecords(name: string, addresses: readonly string[]): void;
  /** Forgets a name: it answers NXDOMAIN from now on. */
  deleteRecords(name: string): void;
  records(name: string): readonly string[] | undefined;
  /** Queries answered so far, per transport. */
  queries(): { udp: number; tcp: number };
  /**
   * The last answers about a name (up to ANSWER_LOG_LIMIT), oldest first: when
   * (performance.now()), over which transport, how many records, truncated or not.
   */
  answers(name: string): readonly LoggedAnswer[];
  /** Closes the sockets, as a DNS outage: queries get no answer (port unreachable). */
  suspend(): Promise<void>;
  /** Binds the same port again after suspend(). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** One answer the server sent. */
export interface LoggedAnswer extends AnswerSummary {
  /** When it was sent, on performance.now()'s clock. */
  atMs: number;
  transport: "udp" | "tcp";
}

/** Answers kept per name: minutes of one resolver refreshing every second over UDP then TCP. */
export const ANSWER_LOG_LIMIT = 1000;

/**
 * A small authoritative DNS server on UDP and TCP (same port, as resolvers
 * expect): the lab's stand-in for Docker's embedded DNS or kube-dns.
 */
export async function startDnsServer(options: DnsServerOptions = {}): Promise<DnsServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const ttlS = options.ttlS ?? 1;
  const zone = new Map<string, readonly string[]>();
  for (const [name, addrs] of Object.entries(options.records ?? {}))
    zone.set(normalizeName(name), [...addrs]);
  const counts = { udp: 0, tcp: 0 };
  const log = new Map<string, LoggedAnswer[]>();
  const record = (transport: "udp" | "tcp", reply: Buffer): void => {
    counts[transport] += 1;
    const a = summarizeAnswer(reply);
    if (a === undefined) return;
    const list = log.get(a.name) ?? [];
    list.push({ ...a, atMs: performance.now(), transport });
    if (list.length > ANSWER_LOG_LIMIT) list.splice(0, list.length - ANSWER_LOG_LIMIT);
    log.set(a.name, list);
  };

  // Port 0 must give one port free on both UDP and TCP: take UDP's, then try TCP on it.
  let bound: { udp: UdpSocket; tcp: TcpServer; port: number } | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 20 && bound === undefined; attempt++) {
    const udp = await bindUdp(host, options.port ?? 0);
    const port = udp.address().port;
    try {
      const tcp = await bindTcp(host, port);
      bound = { udp, tcp, port };
    } catch (e) {
      lastError = e;
      udp.close();
      if ((options.port ?? 0) !== 0) break;
    }
  }
  if (bound === undefined) {
    throw new DnsError(`cannot bind ${host}:${options.port ?? 0} for TCP: ${messageOf(lastError)}`, {
      cause: lastError,
    });
  }
  let { udp, tcp } = bound;
  const { port } = bound;
  const sockets = new Set<Socket>();

  const serveUdp = (socket: UdpSocket): void => {
    socket.on("message", (msg, rinfo) => {
      const reply = answerQuery(msg, zone, "udp", ttlS);
      if (reply === undefined) return;
      record("udp", reply);
      socket.send(reply, rinfo.port, rinfo.address);
    });
    socket.on("error", () => {
      // A send to a vanished client must not take the server down.
    });
  };

  const serveTcp = (server: TcpServer): void => {
    server.on("error", () => {
      // An accept failure (EMFILE, …) costs that one connection, not the lab.
    });
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      socket.setTimeout(10_000, () => socket.destroy());
      let pending = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        // Each message is prefixed with its length in two bytes (RFC 1035 §4.2.2).
        while (pending.length >= 2) {
          const length = pending.readUInt16BE(0);
          if (pending.length < 2 + length) break;
          const reply = answerQuery(pending.subarray(2, 2 + length), zone, "tcp", ttlS);
          pending = pending.subarray(2 + length);
          if (reply === undefined) {
            socket.destroy();
            return;
          }
          record("tcp", reply);
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        }
      });
    });
  };
  serveUdp(udp);
  serveTcp(tcp);

  let suspended = false;
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise<void>((resolve) => udp.close(() => resolve())),
      new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  };

  return {
    host,
    port,
    setRecords: (name, addresses) => void zone.set(normalizeName(name), [...addresses]),
    deleteRecords: (name) => void zone.delete(normalizeName(name)),
    records: (name) => zone.get(normalizeName(name)),
    queries: () => ({ ...counts }),
    answers: (name) => [...(log.get(normalizeName(name)) ?? [])],
    async suspend() {
      if (suspended) return;
      suspended = true;
      await close();
    },
    async resume() {
      if (!suspended) return;
      udp = await bindUdp(host, port);
      try {
        tcp = await bindTcp(host, port);
      } catch (e) {
        udp.close();
        throw new DnsError(`cannot bind ${host}:${port} for TCP again: ${messageOf(e)}`, { cause: e });
      }
      serveUdp(udp);
      serveTcp(tcp);
      suspended = false;
    },
    async stop() {
      if (!suspended) await close();
      suspended = true;
    },
  };
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    socket.once("error", (e) => {
      socket.close();
      reject(new DnsError(`cannot bind ${host}:${port} for UDP: ${e.message}`, { cause: e }));
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

function bindTcp(host: string, port: number): Promise<TcpServer> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
