import { type PackedAny, packResource } from "./protos.js";
import { buildAssignment } from "./resources.js";
import { RESOURCE_TYPES, type ResourceSet, type ResourceType } from "./types.js";

/** What a stream subscribed to for one type: everything ("*"), and or some names. */
export interface Subscription {
  wildcard: boolean;
  names: ReadonlySet<string>;
}

interface TypeSnapshot {
  version: string;
  resources: ReadonlyMap<string, PackedAny>;
}

/**
 * The server's resources, encoded, with one version per type. A type's version changes
 * only when its encoded resources do, and starts with this process's epoch, so that a
 * restarted server never reuses a version a client still holds.
 */
export class Snapshots {
  private readonly epoch = Date.now().toString(36);
  private counter = 0;
  private readonly types = new Map<ResourceType, TypeSnapshot>();

  /** False until the first set(): until the source has its full list. */
  get synced(): boolean {
    return this.types.size > 0;
  }

  /** Takes a new set of resources; returns the types whose version changed. */
  set(set: ResourceSet): ResourceType[] {
    const changed: ResourceType[] = [];
    for (const type of RESOURCE_TYPES) {
      const resources = new Map([...set[type]].map(([name, r]) => [name, packResource(type, r)]));
      const before = this.types.get(type);
      if (before !== undefined && sameResources(before.resources, resources)) continue;
      this.types.set(type, { version: `${this.epoch}-${++this.counter}`, resources });
      changed.push(type);
    }
    return changed;
  }

  /** The type's current version; "" before the first set(). */
  version(type: ResourceType): string {
    return this.types.get(type)?.version ?? "";
  }

  /**
   * What a response for `sub` carries: every resource for a wildcard, else the named ones that
   * exist. An EDS name nobody knows gets an empty assignment, so the client's cluster warms at
   * once (with no endpoint) instead of waiting out its initial fetch timeout.
   */
  resources(type: ResourceType, sub: Subscription): PackedAny[] {
    const all = this.types.get(type)?.resources ?? new Map<string, PackedAny>();
    const out = new Map<string, PackedAny>(sub.wildcard ? all : []);
    for (const name of sub.names) {
      const r = all.get(name);
      if (r !== undefined) out.set(name, r);
      else if (type === "endpoint") out.set(name, packResource("endpoint", buildAssignment(name, [])));
    }
    return [...out.values()];
  }
}

function sameResources(a: ReadonlyMap<string, PackedAny>, b: ReadonlyMap<string, PackedAny>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, r] of a) {
    const other = b.get(name);
    if (other === undefined || !other.value.equals(r.value)) return false;
  }
  return true;
}
