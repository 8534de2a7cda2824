import { isIP } from "node:net";
import type { DiscoveredEndpoint, EndpointHealth } from "./types.js";

/**
 * The part of a discovery.k8s.io/v1 EndpointSlice the Kubernetes source reads. Every field
 * the API may leave out is optional here, as the API says.
 */
export interface EndpointSlice {
  metadata: { name?: string; namespace?: string; resourceVersion?: string };
  /** IPv4, IPv6 or FQDN; gRPC's xDS clients take IP literals only, so FQDN slices are skipped. */
  addressType?: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: SlicePort[] | null;
}

export interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  targetRef?: { kind?: string; name?: string };
}

export interface SlicePort {
  name?: string | null;
  port?: number | null;
  protocol?: string | null;
}

/**
 * An endpoint's health by its conditions, or undefined when it takes no part:
 *  - ready → HEALTHY (a nil ready means unknown, which the API says to read as ready);
 *  - serving and terminating → DRAINING: it still answers but is going, so no new calls;
 *  - anything else (not ready and not serving, or not yet ready) → removed.
 */
export function sliceEndpointHealth(c: SliceEndpoint["conditions"]): EndpointHealth | undefined {
  const terminating = c?.terminating === true;
  // ready is never true for a terminating endpoint; a nil serving reads as ready does.
  const serving = c?.serving ?? c?.ready ?? true;
  if (!terminating && (c?.ready ?? true)) return "HEALTHY";
  if (terminating && serving) return "DRAINING";
  return undefined;
}

/**
 * The port of a slice that serves `portName`: the one of that name, or the only port when the
 * name is empty (a Service with one unnamed port). Undefined when the slice has no such port.
 */
export function slicePort(slice: EndpointSlice, portName: string): number | undefined {
  const ports = (slice.ports ?? []).filter(
    (p) => typeof p.port === "number" && (p.protocol ?? "TCP") === "TCP",
  );
  const match =
    portName === ""
      ? ports.length === 1
        ? ports[0]
        : undefined
      : ports.find((p) => (p.name ?? "") === portName);
  return match?.port ?? undefined;
}

const RANK: Record<EndpointHealth, number> = { HEALTHY: 2, DRAINING: 1 };

/**
 * The endpoints of every slice of one Service. An address that two slices list (while the
 * controller moves it between slices) appears once, with the better of its two healths.
 */
export function endpointsOfSlices(slices: Iterable<EndpointSlice>, portName: string): DiscoveredEndpoint[] {
  const byKey = new Map<string, DiscoveredEndpoint>();
  for (const slice of slices) {
    if (slice.addressType !== "IPv4" && slice.addressType !== "IPv6") continue;
    const port = slicePort(slice, portName);
    if (port === undefined) continue;
    for (const e of slice.endpoints ?? []) {
      const health = sliceEndpointHealth(e.conditions);
      if (health === undefined) continue;
      // The API allows several addresses per endpoint but consumers use the first.
      const address = e.addresses?.[0];
      if (address === undefined || isIP(address) === 0) continue;
      const key = `${address}|${port}`;
      const known = byKey.get(key);
      if (known === undefined || RANK[health] > RANK[known.health]) byKey.set(key, { address, port, health });
    }
  }
  return [...byKey.values()];
}
