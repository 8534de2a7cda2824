import type { XdsSource } from "../source.js";
import type { DiscoveredEndpoint } from "../types.js";

/** The endpoints by address, then port: the order a source publishes them in. */
export const sortEndpoints = (endpoints: readonly DiscoveredEndpoint[]): DiscoveredEndpoint[] =>
  [...endpoints].sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);

/**
 * A source whose owner sets the whole list: unsynced until the first set(). Other sources
 * (the lab's) keep their own state and publish it through one of these.
 */
export class EndpointList implements XdsSource {
  private endpoints: readonly DiscoveredEndpoint[] | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(readonly describe: string) {}

  current(): readonly DiscoveredEndpoint[] | undefined {
    return this.endpoints;
  }

  watch(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  /** The full list from now on, sorted by address so that the same set gives the same resource. */
  set(endpoints: readonly DiscoveredEndpoint[]): void {
    this.endpoints = sortEndpoints(endpoints);
    for (const l of [...this.listeners]) l();
  }
}
