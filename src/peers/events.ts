import type { PeerKind } from "./options.js";

/** What a peer lab reports besides the lab's own events; printed as `lab: …` lines on stderr. */
export type PeerEvent =
  | { kind: "peer-found"; peer: PeerKind; path: string; version: string }
  | { kind: "peer-started"; peer: PeerKind; listener: string; config: string; pid: number }
  | { kind: "peer-routes"; peer: PeerKind; servers: number; elapsedMs: number };

// A Record over every kind: forgetting to format a new event is a compile error.
const formatters: { [K in PeerEvent["kind"]]: (e: Extract<PeerEvent, { kind: K }>) => string } = {
  "peer-found": (e) => `${e.peer} ${e.version} (${e.path})`,
  "peer-started": (e) => `${e.peer.padEnd(7)} listener ${e.listener}, config ${e.config} (pid ${e.pid})`,
  "peer-routes": (e) =>
    `ready   ${e.peer} routes to all ${e.servers} server${e.servers === 1 ? "" : "s"} after ${e.elapsedMs} ms`,
};

export function formatPeerEvent(e: PeerEvent): string {
  return `lab: ${(formatters[e.kind] as (e: PeerEvent) => string)(e)}`;
}
