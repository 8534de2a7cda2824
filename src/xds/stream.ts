import type { XdsEvent } from "./events.js";
import { type PackedAny, resourceTypeOf, TYPE_URLS } from "./protos.js";
import type { Snapshots, Subscription } from "./snapshot.js";
import type { ResourceType } from "./types.js";

/** Envoy's xDS protocol: CDS, then EDS, then LDS, then RDS, so nothing refers to what is not there yet. */
const PUSH_ORDER: readonly ResourceType[] = ["cluster", "endpoint", "listener", "route"];

/** A DiscoveryRequest as grpc-js decodes it (proto field names; absent fields undefined). */
export interface DiscoveryRequest {
  version_info?: string;
  node?: { id?: string } | null;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string } | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: PackedAny[];
  type_url: string;
  nonce: string;
}

/** One type's state on one stream. */
interface TypeState {
  sub: Subscription;
  /** Whether the client ever named a resource: from then on, no names is no subscription, not "*". */
  explicit: boolean;
  sentVersion: string | undefined;
  sentNonce: string | undefined;
  /** Asked while the source was not synced: answered once it is. */
  waiting: boolean;
}

/**
 * The state-of-the-world protocol of one ADS stream, per type, as Envoy's xDS protocol
 * describes it: subscriptions (wildcard or names), a fresh nonce per response, requests with
 * a stale nonce ignored, ACK and NACK told apart by error_detail. A NACK is not answered: the
 * rejected version is held until the source changes, instead of being sent back in a loop.
 */
export class AdsStream {
  private node = "";
  private nonces = 0;
  private readonly types = new Map<ResourceType, TypeState>();

  constructor(
    readonly id: number,
    private readonly peer: string,
    private readonly snapshots: Snapshots,
    private readonly send: (r: DiscoveryResponse) => void,
    private readonly onEvent: (e: XdsEvent) => void,
  ) {}

  /** The node id the first request gave ("" before it). */
  get nodeId(): string {
    return this.node;
  }

  onRequest(req: DiscoveryRequest): void {
    if (this.node === "") {
      this.node = req.node?.id || "(no id)";
      this.onEvent({ kind: "stream-opened", stream: this.id, node: this.node, peer: this.peer });
    }
    const base = { stream: this.id, node: this.node };
    const type = resourceTypeOf(req.type_url ?? "");
    if (type === undefined) {
      this.onEvent({ kind: "unknown-type", ...base, typeUrl: req.type_url ?? "" });
      return;
    }
    const nonce = req.response_nonce ?? "";
    const st = this.types.get(type);
    if (st?.sentNonce !== undefined && nonce !== "" && nonce !== st.sentNonce) {
      this.onEvent({ kind: "stale", ...base, type, nonce });
      return;
    }
    const names = req.resource_names ?? [];
    const explicit = (st?.explicit ?? false) || names.length > 0;
    const sub: Subscription = {
      wildcard: names.includes("*") || (!explicit && names.length === 0),
      names: new Set(names.filter((n) => n !== "*")),
    };
    const changed = st === undefined || !sameSubscription(st.sub, sub);
    const state: TypeState = st ?? {
      sub,
      explicit,
      sentVersion: undefined,
      sentNonce: undefined,
      waiting: false,
    };
    state.sub = sub;
    state.explicit = explicit;
    this.types.set(type, state);
    if (nonce !== "" && nonce === state.sentNonce) {
      if (req.error_detail) {
        this.onEvent({
          kind: "nack",
          ...base,
          type,
          rejected: state.sentVersion ?? "",
          kept: req.version_info ?? "",
          message: req.error_detail.message ?? "",
        });
      } else this.onEvent({ kind: "ack", ...base, type, version: req.version_info ?? "" });
    }
    // A first request, or new names: answer now. An ACK or a NACK with the same names: nothing.
    if ((changed || nonce === "") && subscribed(sub)) this.respond(type, state, "subscribe");
  }

  /** After the source changed: sends each subscribed type whose version moved, in make-before-break order. */
  push(): void {
    for (const type of PUSH_ORDER) {
      const state = this.types.get(type);
      if (state === undefined || !subscribed(state.sub)) continue;
      if (state.waiting || state.sentVersion !== this.snapshots.version(type))
        this.respond(type, state, state.waiting ? "subscribe" : "update");
    }
  }

  private respond(type: ResourceType, state: TypeState, reason: "subscribe" | "update"): void {
    if (!this.snapshots.synced) {
      if (!state.waiting) this.onEvent({ kind: "waiting", stream: this.id, node: this.node, type });
      state.waiting = true;
      return;
    }
    state.waiting = false;
    const version = this.snapshots.version(type);
    const nonce = String(++this.nonces);
    const resources = this.snapshots.resources(type, state.sub);
    this.send({ version_info: version, resources, type_url: TYPE_URLS[type], nonce });
    state.sentVersion = version;
    state.sentNonce = nonce;
    const names = [...(state.sub.wildcard ? ["*"] : []), ...state.sub.names];
    this.onEvent({ kind: "push", stream: this.id, node: this.node, type, version, nonce, names, reason });
  }
}

/**
 * Whether a subscription asks for anything. No names after names is an unsubscription: it
 * gets no answer. grpc-js-xds unsubscribes everything and half-closes its stream when its
 * channel closes, and an answer arriving then makes it write after its end; the stream is
 * then never read to its status, and its connection holds the process open.
 */
const subscribed = (s: Subscription): boolean => s.wildcard || s.names.size > 0;

function sameSubscription(a: Subscription, b: Subscription): boolean {
  return (
    a.wildcard === b.wildcard && a.names.size === b.names.size && [...a.names].every((n) => b.names.has(n))
  );
}
