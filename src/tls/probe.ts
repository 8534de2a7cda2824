import { isIP } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { messageOf, TlsError } from "../errors.js";

export interface HandshakeProbeOptions {
  host: string;
  port: number;
  /** ALPN protocols offered, in order. Default ["h2"], as gRPC clients and a correctly set-up Envoy offer. */
  alpnProtocols?: string[];
  /** SNI sent. Default: the host when it is a name, none when it is an IP address (RFC 6066 allows no IP). */
  servername?: string | undefined;
  /** CAs the server's certificate is checked against; the result says whether it passed. Default: Node's. */
  ca?: string | Buffer | undefined;
  /** Client certificate and key, for a server that asks for one. Default: none. */
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  /** Give up after this long, in ms. Default 5000. */
  timeoutMs?: number;
}

/** What one TLS handshake showed of the server. */
export interface HandshakeResult {
  /** The certificate's serial, upper-case hex. */
  serial: string;
  fingerprint256: string;
  /** The protocol ALPN settled on, false when none was. */
  alpnProtocol: string | false;
  /** Whether the certificate chains to `ca` and names the host or servername. */
  authorized: boolean;
  authorizationError: string | undefined;
}

/**
 * Completes one TLS handshake and reports the certificate the server showed.
 * It never rejects for an untrusted certificate (that is `authorized`), only
 * when no handshake completes: refused, reset, or timed out.
 */
export function tlsHandshake(options: HandshakeProbeOptions): Promise<HandshakeResult> {
  const servername = options.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({
      host: options.host,
      port: options.port,
      ALPNProtocols: options.alpnProtocols ?? ["h2"],
      ...(servername === undefined ? {} : { servername }),
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new TlsError(
          `no TLS handshake with ${options.host}:${options.port} within ${options.timeoutMs ?? 5000} ms`,
        ),
      );
    }, options.timeoutMs ?? 5000);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate();
      const error = socket.authorizationError as Error | string | null | undefined;
      resolve({
        serial: (peer.serialNumber ?? "").toUpperCase(),
        fingerprint256: peer.fingerprint256 ?? "",
        alpnProtocol: socket.alpnProtocol ?? false,
        authorized: socket.authorized,
        authorizationError: error ? String(error) : undefined,
      });
      socket.destroy();
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new TlsError(`TLS handshake with ${options.host}:${options.port} failed: ${messageOf(e)}`, {
          cause: e,
        }),
      );
    });
  });
}
