import type { DiscoveredEndpoint } from "./types.js";

/**
 * Where the xDS server learns the endpoints of its service: the lab's server pool,
 * Kubernetes EndpointSlices, a fixed list. Each kind of source is one file in sources/
 * (or beside what it watches) implementing this.
 */
export interface XdsSource {
  /** What the source watches, for logs ("lab server pool", "EndpointSlices of grpc-lb/server"). */
  readonly describe: string;
  /**
   * The endpoints now, or undefined until the source has its first full list: the server
   * answers nothing before then, since an empty answer would remove every endpoint.
   */
  current(): readonly DiscoveredEndpoint[] | undefined;
  /** Calls `onChange` after every change of current(), the first full list included; returns the unsubscribe. */
  watch(onChange: () => void): () => void;
}
