import { isIP } from "node:net";
import { arr, type Json, obj } from "../view/json.js";

/** Where connections from the throwaway Envoy go instead of a non-loopback address: a loopback address nobody serves. */
export const NOWHERE = "127.255.255.254";
/** How long the throwaway Envoy waits for a control plane it cannot reach, per config source. */
const XDS_WAIT = "0.1s";

/** A bootstrap made safe to start on loopback, and what was changed to make it so. */
export interface Sanitized {
  bootstrap: Json;
  /** The listeners' addresses as the file has them, in order. */
  listenerAddresses: Json[];
  /** The admin address as the file has it (undefined when it has no admin block). */
  adminAddress: Json | undefined;
  /** Config sources that name a control plane (ADS or an API), which the throwaway Envoy does not reach. */
  xdsSources: string[];
}

const isLoopback = (host: string): boolean =>
  host === "::1" || host === "localhost" || (isIP(host) === 4 && host.startsWith("127."));

/** Calls `visit` on every object in `v`, depth first, with its key path. */
function walk(v: unknown, visit: (o: Json, path: string) => void, path = ""): void {
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) walk(x, visit, `${path}[${i}]`);
  } else if (v !== null && typeof v === "object") {
    visit(v as Json, path);
    for (const [k, x] of Object.entries(v as Json)) walk(x, visit, path === "" ? k : `${path}.${k}`);
  }
}

/**
 * The bootstrap as the throwaway Envoy of `doctor --config` runs it: listeners and admin on
 * 127.0.0.1 port 0, names resolved by `dnsResolver` alone, every other non-loopback address
 * replaced by NOWHERE, and control planes waited for briefly. So the Envoy sends nothing off
 * this machine, and starts in well under a second when no control plane answers.
 */
export function sanitize(
  original: Json,
  dnsResolver: { host: string; port: number },
  pipeDir: string,
): Sanitized {
  const b = structuredClone(original);
  const listeners = arr(obj(b.static_resources).listeners);
  const listenerAddresses = listeners.map((l) => structuredClone(obj(l.address)));
  const moved = (a: Json, i: number): Json => {
    const sa = obj(a.socket_address);
    if (sa.address !== undefined)
      return {
        socket_address: {
          address: "127.0.0.1",
          port_value: 0,
          ...(sa.protocol ? { protocol: sa.protocol } : {}),
        },
      };
    if (a.pipe !== undefined) return { pipe: { path: `${pipeDir}/listener-${i}.sock` } };
    return a;
  };
  listeners.forEach((l, i) => {
    if (l.address !== undefined) l.address = moved(obj(l.address), i);
    for (const [j, extra] of arr(l.additional_addresses).entries())
      if (extra.address !== undefined) extra.address = moved(obj(extra.address), 1000 * (i + 1) + j);
  });
  const adminAddress = b.admin === undefined ? undefined : structuredClone(obj(obj(b.admin).address));
  b.admin = { ...obj(b.admin), address: { socket_address: { address: "127.0.0.1", port_value: 0 } } };

  const resolver = {
    name: "envoy.network.dns_resolver.cares",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
      resolvers: [{ socket_address: { address: dnsResolver.host, port_value: dnsResolver.port } }],
      use_resolvers_as_fallback: false,
      dns_resolver_options: { no_default_search_domain: true },
    },
  };
  const xdsSources: string[] = [];
  walk(b, (o, path) => {
    if (
      path.startsWith("admin") ||
      /^static_resources\.listeners\[\d+\]\.(address|additional_addresses)/.test(path)
    )
      return;
    // Each resolver setting, wherever it is (bootstrap, cluster, DNS cache), becomes ours.
    for (const k of ["dns_resolvers", "dns_resolution_config", "use_tcp_for_dns_lookups"]) delete o[k];
    if (o.typed_dns_resolver_config !== undefined) o.typed_dns_resolver_config = resolver;
    const sa = obj(o.socket_address);
    if (typeof sa.address === "string" && isIP(sa.address) !== 0 && !isLoopback(sa.address))
      sa.address = NOWHERE;
    const google = obj(o.google_grpc);
    if (typeof google.target_uri === "string") google.target_uri = `${NOWHERE}:9`;
    // A ConfigSource naming a control plane: waited for briefly, then Envoy goes on without it.
    if (o.ads !== undefined || o.api_config_source !== undefined) {
      o.initial_fetch_timeout = XDS_WAIT;
      xdsSources.push(path);
    }
  });
  b.typed_dns_resolver_config = resolver;
  return { bootstrap: b, listenerAddresses, adminAddress, xdsSources };
}
