/** The balancing layers measured beside Envoy, each from Debian's package. */
export const PEER_KINDS = ["haproxy", "nginx"] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

/** Every proxy `lab --proxy` can put between the client and the servers. */
export const PROXY_KINDS = ["envoy", ...PEER_KINDS] as const;
export type ProxyKind = (typeof PROXY_KINDS)[number];

/** Where a peer finds the servers: the lab's own DNS server (never the system resolver). */
export interface PeerDns {
  host: string;
  port: number;
}

/** What both builders take: one set of fields, each proxy uses those it has a knob for. */
export interface PeerConfigOptions {
  /** Loopback address the gRPC listener binds. Default 127.0.0.1. */
  listenAddress?: string;
  /** Port of the gRPC listener (HTTP/2 cleartext). Required: neither proxy reports a port 0 bound. */
  listenPort: number;
  /** DNS name the servers share. Default "server". */
  serverName?: string;
  /** Port every server listens on. Required. */
  serverPort: number;
  /** The lab's DNS server: HAProxy resolves `serverName` through it at run time. Required. */
  dns: PeerDns;
  /**
   * The addresses DNS gave for `serverName` when the proxy starts. nginx 1.22 resolves upstream
   * names once, at start (re-resolution, the `resolve` parameter, reached open-source nginx in
   * 1.27.3), so its upstream lists these. HAProxy ignores them: it asks DNS itself. Default [].
   */
  addresses?: readonly string[];
  /** HAProxy: server slots of its server-template, the most servers DNS can add. Default 16. */
  slots?: number;
  /** Worker threads (HAProxy nbthread) or processes (nginx worker_processes). Default 2, as Envoy's --concurrency. */
  workers?: number;
  /** Deadline to open a connection to a server, in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Longest silence on a client or server stream before the proxy gives up on it, in ms. Default 60000. */
  idleTimeoutMs?: number;
  /** HAProxy: how often each server's health is checked, in ms. Default 1000. */
  healthIntervalMs?: number;
  /** HAProxy: how long a DNS answer is kept and how often it is asked again, in ms. Default 1000 (Envoy's dnsRefreshMs). */
  dnsRefreshMs?: number;
  /** Further tries of a call that could not reach a server (connection refused, reset before a reply). Default 2. */
  retries?: number;
  /**
   * HAProxy: also retry a call whose server went away before a byte of answer (empty-response,
   * response-timeout), as the lab's Envoy retries on "reset". Such a call may have reached its
   * handler, so it can run twice: right for idempotent methods (Echo), not for all. nginx has no
   * equivalent for gRPC: it streams request bodies unbuffered and cannot replay a call sent.
   * Default true.
   */
  retryAfterSend?: boolean;
  /** nginx: failed attempts that take a server out of rotation for failTimeoutS. Default 1. */
  maxFails?: number;
  /** nginx: how long a failed server stays out of rotation, in s (nginx takes whole seconds here). Default 10. */
  failTimeoutS?: number;
  /** Idle connections kept open to the servers, per worker. Default 16. */
  keepaliveConnections?: number;
  /** The directory this proxy owns: config, pid file, logs, stats socket. Required. */
  workDir: string;
}

export type ResolvedPeerConfig = Required<PeerConfigOptions>;

export const PEER_CONFIG_DEFAULTS = {
  listenAddress: "127.0.0.1",
  serverName: "server",
  addresses: [],
  slots: 16,
  workers: 2,
  connectTimeoutMs: 1000,
  idleTimeoutMs: 60_000,
  healthIntervalMs: 1000,
  dnsRefreshMs: 1000,
  retries: 2,
  retryAfterSend: true,
  maxFails: 1,
  failTimeoutS: 10,
  keepaliveConnections: 16,
} as const satisfies Partial<ResolvedPeerConfig>;

/** Fills the defaults once; the builders never see an undefined field. */
export function resolvePeerConfig(o: PeerConfigOptions): ResolvedPeerConfig {
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as PeerConfigOptions;
  return { ...PEER_CONFIG_DEFAULTS, ...given };
}
