import { setTimeout as delay } from "node:timers/promises";
import { messageOf, UsageError, XdsError } from "../errors.js";
import { KubeApi, type KubeApiAccess, KubeApiStatusError } from "./k8s-source-api.js";
import { type EndpointSlice, endpointsOfSlices } from "./k8s-source-slices.js";
import type { XdsSource } from "./source.js";
import { EndpointList } from "./sources/list.js";

export interface K8sSourceOptions {
  /** Namespace of the Service (and of the Role that lets the source read its slices). */
  namespace: string;
  /** The Service whose EndpointSlices are watched, by their label kubernetes.io/service-name. */
  service: string;
  /** Name of the Service port whose endpoints are served; "" takes a slice's only port. Default "grpc". */
  portName?: string;
  /** How the API server is reached. Default in-cluster (the pod's ServiceAccount). */
  access?: KubeApiAccess;
  /** timeoutSeconds of each watch; the server then ends it and the source watches on from where it was. Default 300. */
  watchTimeoutS?: number;
  /** Pause after a first failed call, in ms, doubled at each failure in a row up to retryMaxMs. Default 500. */
  retryBaseMs?: number;
  /** Longest pause between two tries, in ms. Default 10000. */
  retryMaxMs?: number;
  /** What the source does, for a log (formatK8sSourceEvent gives its line). Default: none. */
  onEvent?: (e: K8sSourceEvent) => void;
}

export type K8sSourceEvent =
  | { kind: "listed"; slices: number; endpoints: number; resourceVersion: string; relist: boolean }
  | { kind: "changed"; slice: string; change: "ADDED" | "MODIFIED" | "DELETED"; endpoints: number }
  | { kind: "expired"; resourceVersion: string }
  | { kind: "failed"; error: string; retryMs: number };

export function formatK8sSourceEvent(e: K8sSourceEvent): string {
  switch (e.kind) {
    case "listed":
      return `kubernetes source: ${e.relist ? "relisted" : "listed"} ${e.slices} EndpointSlice(s), ${e.endpoints} endpoint(s) at resourceVersion ${e.resourceVersion}; watching`;
    case "changed":
      return `kubernetes source: EndpointSlice ${e.slice} ${e.change.toLowerCase()}: ${e.endpoints} endpoint(s)`;
    case "expired":
      return `kubernetes source: resourceVersion ${e.resourceVersion} expired (410 Gone); listing again`;
    case "failed":
      return `kubernetes source: ${e.error}; trying again in ${e.retryMs} ms`;
  }
}

export interface K8sSourceHandle {
  readonly source: XdsSource;
  /** Resolves once the first full list is in (the source is then synced); rejects if stopped first. */
  synced(signal?: AbortSignal): Promise<void>;
  /** Ends the watch; the source keeps its last list. */
  stop(): Promise<void>;
}

/** The watch ended on a 410 Gone: the resourceVersion is older than the API server keeps. */
class Expired extends Error {}

/**
 * A source of the endpoints of one Service from its EndpointSlices: a list, then a watch from
 * the list's resourceVersion, watched again when the server ends it, after a backoff on any
 * error, and listed again when the version has expired. Synced after the first full list.
 */
export async function startK8sSource(options: K8sSourceOptions): Promise<K8sSourceHandle> {
  const o = {
    portName: "grpc",
    access: { kind: "in-cluster" } as KubeApiAccess,
    watchTimeoutS: 300,
    retryBaseMs: 500,
    retryMaxMs: 10_000,
    onEvent: () => {},
    ...options,
  };
  for (const [what, v] of [
    ["namespace", o.namespace],
    ["service", o.service],
  ] as const)
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v))
      throw new UsageError(`kubernetes source: ${what} '${v}' is not a Kubernetes name`);
  const api = await KubeApi.connect(o.access);
  const list = new EndpointList(`EndpointSlices of ${o.namespace}/${o.service} (${api.describe()})`);
  const slices = new Map<string, EndpointSlice>();
  const publish = (): number => {
    const endpoints = endpointsOfSlices(slices.values(), o.portName);
    list.set(endpoints);
    return endpoints.length;
  };
  const base = `/apis/discovery.k8s.io/v1/namespaces/${o.namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${o.service}`)}`;
  const ac = new AbortController();

  const relist = async (relist: boolean): Promise<string> => {
    const r = await api.get<{ metadata: { resourceVersion: string }; items: EndpointSlice[] }>(
      base,
      ac.signal,
    );
    slices.clear();
    for (const s of r.items) slices.set(s.metadata.name ?? "", s);
    const endpoints = publish();
    o.onEvent({
      kind: "listed",
      slices: slices.size,
      endpoints,
      resourceVersion: r.metadata.resourceVersion,
      relist,
    });
    return r.metadata.resourceVersion;
  };

  const onWatchEvent = (raw: unknown, at: { rv: string }): void => {
    const e = raw as { type?: string; object?: EndpointSlice & { code?: number; message?: string } };
    const obj = e.object;
    if (e.type === "ERROR") {
      if (obj?.code === 410) throw new Expired();
      throw new KubeApiStatusError(
        obj?.code ?? 0,
        `kubernetes source: the watch failed: ${obj?.message ?? "no message"}`,
      );
    }
    if (obj?.metadata?.resourceVersion) at.rv = obj.metadata.resourceVersion;
    if (e.type !== "ADDED" && e.type !== "MODIFIED" && e.type !== "DELETED") return; // BOOKMARK
    const name = obj?.metadata?.name ?? "";
    if (e.type === "DELETED") slices.delete(name);
    else if (obj) slices.set(name, obj);
    o.onEvent({ kind: "changed", slice: name, change: e.type, endpoints: publish() });
  };

  const loop = (async () => {
    let at: { rv: string } | undefined;
    let failures = 0;
    while (!ac.signal.aborted) {
      try {
        at ??= { rv: await relist(list.current() !== undefined) };
        const watch = `${base}&watch=true&allowWatchBookmarks=true&timeoutSeconds=${o.watchTimeoutS}&resourceVersion=${at.rv}`;
        const cur = at;
        // The API server ends a watch at timeoutSeconds: silence well past that is a dead connection.
        await api.watch(watch, ac.signal, (o.watchTimeoutS + 30) * 1000, (raw) => onWatchEvent(raw, cur));
        failures = 0;
      } catch (e) {
        if (ac.signal.aborted) return;
        if (e instanceof Expired || (e instanceof KubeApiStatusError && e.status === 410)) {
          o.onEvent({ kind: "expired", resourceVersion: at?.rv ?? "" });
          at = undefined;
          continue;
        }
        const retryMs = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** failures++);
        o.onEvent({ kind: "failed", error: messageOf(e), retryMs });
        await delay(retryMs, undefined, { signal: ac.signal }).catch(() => {});
      }
    }
  })();

  return {
    source: list,
    synced: (signal) =>
      new Promise<void>((resolve, reject) => {
        const fail = (why: string) => () => {
          unwatch();
          reject(new XdsError(`kubernetes source: ${why} before the first full list of EndpointSlices`));
        };
        const unwatch = list.watch(() => {
          unwatch();
          resolve();
        });
        if (list.current() !== undefined) {
          unwatch();
          resolve();
        }
        ac.signal.addEventListener("abort", fail("stopped"), { once: true });
        signal?.addEventListener("abort", fail("interrupted"), { once: true });
      }),
    async stop() {
      ac.abort();
      await loop;
    },
  };
}
