import { type ResourceType, TYPE_LABELS } from "./types.js";

/** What the xDS server does, as its log lines and metrics tell it. `stream` numbers streams from 1. */
export type XdsEvent =
  | { kind: "stream-opened"; stream: number; node: string; peer: string }
  | { kind: "stream-closed"; stream: number; node: string }
  | {
      kind: "push";
      stream: number;
      node: string;
      type: ResourceType;
      version: string;
      nonce: string;
      names: readonly string[];
      /** subscribe: the client asked (first request, new names); update: the source changed. */
      reason: "subscribe" | "update";
    }
  | { kind: "ack"; stream: number; node: string; type: ResourceType; version: string }
  | {
      kind: "nack";
      stream: number;
      node: string;
      type: ResourceType;
      /** The version the client rejected; held, not sent to it again. */
      rejected: string;
      /** The version it keeps using. */
      kept: string;
      message: string;
    }
  | { kind: "stale"; stream: number; node: string; type: ResourceType; nonce: string }
  | { kind: "waiting"; stream: number; node: string; type: ResourceType }
  | { kind: "unknown-type"; stream: number; node: string; typeUrl: string }
  | { kind: "synced"; endpoints: number; source: string };

const names = (n: readonly string[]): string => (n.length === 0 ? "nothing" : n.join(", "));

// A Record over every kind: forgetting to say what an event means is a compile error. null: no log line.
const formatters: { [K in XdsEvent["kind"]]: ((e: Extract<XdsEvent, { kind: K }>) => string) | null } = {
  "stream-opened": (e) => `stream ${e.stream} opened by node '${e.node}' from ${e.peer}`,
  "stream-closed": (e) => `stream ${e.stream} of node '${e.node}' closed`,
  push: (e) =>
    `push ${TYPE_LABELS[e.type]} version ${e.version} to node '${e.node}' (stream ${e.stream}, nonce ${e.nonce}, ${e.reason}): ${names(e.names)}`,
  ack: null,
  nack: (e) =>
    `NACK ${TYPE_LABELS[e.type]} version ${e.rejected} from node '${e.node}' (stream ${e.stream}), which keeps ${e.kept || "nothing"}; held until the next version: ${e.message}`,
  stale: null,
  waiting: (e) =>
    `${TYPE_LABELS[e.type]} request of node '${e.node}' (stream ${e.stream}) waits: the source has no full list yet`,
  "unknown-type": (e) => `node '${e.node}' (stream ${e.stream}) asked for ${e.typeUrl}, which is not served`,
  synced: (e) => `source synced: ${e.source} lists ${e.endpoints} endpoint${e.endpoints === 1 ? "" : "s"}`,
};

/** The event's log line, or undefined for the ones only metrics count (ACKs, stale nonces). */
export function formatXdsEvent(e: XdsEvent): string | undefined {
  const f = formatters[e.kind] as ((e: XdsEvent) => string) | null;
  return f === null ? undefined : `xds: ${f(e)}`;
}
