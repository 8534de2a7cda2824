import { formatHostPort } from "../util/address.js";
import type { LabServer } from "./servers.js";

/** One server seen from both ends: replies the client counted by its id, requests Envoy sent to its address. */
export interface HostCount {
  id: string;
  address: string;
  client: number;
  envoy: number;
}

export interface CrossCheck {
  agree: boolean;
  detail: string;
  hosts: HostCount[];
}

/**
 * Compares the client's replies per server id with Envoy's requests per host
 * (the growth of each host's rq_total between two snapshots, by host:port).
 * With no retries and no failures they must be equal: one upstream request per call.
 */
export function envoyAgrees(
  servers: readonly LabServer[],
  clientBackends: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
): CrossCheck {
  const total = (counts: Readonly<Record<string, number>>, address: string): number => counts[address] ?? 0;
  const hosts = servers.map((s) => {
    const address = formatHostPort(s.host, s.port);
    return {
      id: s.id,
      address,
      client: clientBackends[s.id] ?? 0,
      envoy: total(after, address) - total(before, address),
    };
  });
  const differ = hosts.filter((h) => h.client !== h.envoy);
  const detail =
    differ.length === 0
      ? `${hosts.length} hosts, ${hosts.reduce((n, h) => n + h.envoy, 0)} requests, equal per host`
      : differ
          .slice(0, 3)
          .map((h) => `${h.address}: client ${h.client}, Envoy ${h.envoy}`)
          .join("; ");
  return { agree: differ.length === 0, detail, hosts };
}
