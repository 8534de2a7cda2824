/** What the lab reports while it works; printed as lines on stderr. */
export type LabEvent =
  | { kind: "envoy-found"; path: string; source: string; version: string }
  | { kind: "dns-started"; address: string }
  | {
      kind: "certs-created";
      tls: "downstream" | "tls" | "mtls";
      dir: string;
      caFile: string;
      elapsedMs: number;
    }
  | { kind: "server-started"; index: number; id: string; address: string; pid: number }
  | { kind: "l4-proxy-started"; virtualIp: string; endpoints: number; pid: number }
  | { kind: "dns-records"; name: string; addresses: readonly string[] }
  | { kind: "xds-started"; address: string; metrics: string | undefined; servers: number }
  | { kind: "xds"; line: string }
  | { kind: "envoy-started"; listener: string; admin: string; pid: number }
  | { kind: "envoy-tier-started"; front: string; envoys: number; pid: number }
  | { kind: "hosts-ready"; count: number; elapsedMs: number }
  | { kind: "envoy-reloaded"; epoch: number; admin: string; pid: number; elapsedMs: number }
  | { kind: "stopping"; reason: string }
  | { kind: "stopped"; elapsedMs: number };

const CERTS_CREATED_LEGS: Record<Extract<LabEvent, { kind: "certs-created" }>["tls"], string> = {
  downstream: "TLS on the listener only (servers plaintext)",
  tls: "TLS on both legs",
  mtls: "mTLS (servers require Envoy's client certificate) on both legs",
};

// A Record over every kind: forgetting to format a new event is a compile error.
const formatters: { [K in LabEvent["kind"]]: (e: Extract<LabEvent, { kind: K }>) => string } = {
  "envoy-found": (e) => `envoy ${e.version} (${e.path}, from ${e.source})`,
  "dns-started": (e) => `dns     listening on ${e.address} (udp+tcp)`,
  "certs-created": (e) =>
    `tls     ${CERTS_CREATED_LEGS[e.tls]}: certificates in ${e.dir} (${e.elapsedMs} ms); clients trust ${e.caFile}`,
  "server-started": (e) => `server  ${e.index + 1} ${e.id} on ${e.address} (pid ${e.pid})`,
  "l4-proxy-started": (e) =>
    `l4      kube-proxy stand-in: Envoy tcp_proxy on ${e.virtualIp} spreads connections over ${e.endpoints} servers (pid ${e.pid})`,
  "dns-records": (e) => `dns     '${e.name}' -> ${e.addresses.join(", ")}`,
  "xds-started": (e) =>
    `xds     ADS server on ${e.address} pushes the ${e.servers} servers of the pool (EDS)${e.metrics === undefined ? "" : `, metrics http://${e.metrics}/metrics`}`,
  xds: (e) => e.line,
  "envoy-started": (e) => `envoy   listener ${e.listener}, admin http://${e.admin} (pid ${e.pid})`,
  "envoy-tier-started": (e) =>
    `front   clients connect to ${e.front}: Envoy tcp_proxy (the Service in front of Envoy) spreads connections over ${e.envoys} Envoys whose /ready answers 200 (pid ${e.pid})`,
  "hosts-ready": (e) =>
    `ready   envoy sees ${e.count} host${e.count === 1 ? "" : "s"} for 'server' after ${e.elapsedMs} ms`,
  "envoy-reloaded": (e) =>
    `envoy   hot restart: epoch ${e.epoch} LIVE after ${e.elapsedMs} ms, admin http://${e.admin} (pid ${e.pid}); the old epoch drains`,
  stopping: (e) => `stop    ${e.reason}`,
  stopped: (e) => `stopped everything in ${e.elapsedMs} ms`,
};

export function formatLabEvent(e: LabEvent): string {
  return `lab: ${(formatters[e.kind] as (e: LabEvent) => string)(e)}`;
}
