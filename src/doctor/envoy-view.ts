import type { EnvoyAdmin } from "../envoy/admin.js";
import { DoctorError, messageOf } from "../errors.js";
import { type ClusterView, clusterView, hostsFromClusters } from "./view/clusters.js";
import { dumpSections } from "./view/dump-sections.js";
import { addressText, arr, type Json, obj, snakeKeys, str } from "./view/json.js";
import { type ListenerView, listenerView } from "./view/listeners.js";

export type { ClusterKind, ClusterView, HostNow, UpstreamProtocol } from "./view/clusters.js";
export { durationMs, type Json, obj } from "./view/json.js";
export type { ListenerView, RouteView } from "./view/listeners.js";

/** What doctor reads from an Envoy, normalised. */
export interface EnvoyView {
  version: string;
  adminAddress: string;
  listeners: ListenerView[];
  clusters: Map<string, ClusterView>;
  /** What doctor could not judge or read, one line each. */
  notes: string[];
}

/** The admin API's answers doctor reads, as JSON. */
export interface AdminDocuments {
  serverInfo: Json;
  configDump: Json;
  clusters: Json;
  stats: Json;
}

/**
 * Reads /server_info, /config_dump, /clusters and /stats of the Envoy at `admin`. A DoctorError
 * when it does not answer or is not an Envoy's admin API.
 */
export async function readAdmin(admin: EnvoyAdmin): Promise<AdminDocuments> {
  const get = async (path: string): Promise<Json> => {
    const body = await admin.send(path).catch((e: unknown) => {
      throw new DoctorError(`no Envoy admin API answers at http://${admin.address}: ${messageOf(e)}`, {
        cause: e,
      });
    });
    try {
      return obj(JSON.parse(body));
    } catch (e) {
      throw new DoctorError(`http://${admin.address}${path} is not Envoy's admin API (not JSON)`, {
        cause: e,
      });
    }
  };
  const serverInfo = await get("/server_info");
  envoyVersion(serverInfo, admin.address);
  const [configDump, clusters, stats] = await Promise.all([
    get("/config_dump"),
    get("/clusters?format=json"),
    get("/stats?format=json&filter=outlier_detection\\.ejections_active$"),
  ]);
  return { serverInfo, configDump, clusters, stats };
}

/** Envoy's version from /server_info ("…/1.40.0/Clean/RELEASE/BoringSSL"); a DoctorError when it has none. */
function envoyVersion(info: Json, address: string): string {
  const version = /\/(\d+\.\d+\.\d+)\//.exec(str(info.version) ?? "")?.[1];
  if (version === undefined || typeof info.state !== "string")
    throw new DoctorError(`http://${address} is not Envoy's admin API (/server_info has no Envoy version)`);
  return version;
}

export async function readEnvoy(admin: EnvoyAdmin): Promise<EnvoyView> {
  const d = await readAdmin(admin);
  return buildView(envoyVersion(d.serverInfo, admin.address), d.configDump, d.clusters, d.stats);
}

/** The view from the three JSON documents (exported for unit tests). */
export function buildView(version: string, dump: Json, clustersJson: Json, statsJson: Json): EnvoyView {
  const notes: string[] = [];
  const note = (text: string): void => {
    if (!notes.includes(text)) notes.push(text);
  };
  const s = dumpSections(obj(snakeKeys(dump)));
  if (s.present.length === 0) note("the config dump has no section doctor knows; nothing was read");

  const hostsNow = hostsFromClusters(obj(snakeKeys(clustersJson)));
  const ejections = new Map<string, number>();
  for (const stat of arr(statsJson.stats)) {
    const m = /^cluster\.(.+)\.outlier_detection\.ejections_active$/.exec(str(stat.name) ?? "");
    if (m?.[1] !== undefined) ejections.set(m[1], Number(stat.value ?? 0));
  }
  const clusters = new Map<string, ClusterView>();
  for (const d of s.clusters) {
    const c = clusterView(d, hostsNow, ejections);
    // A cluster being replaced shows once active and once warming: the active one serves now.
    if (!clusters.has(c.name) || d.state !== "warming") clusters.set(c.name, c);
  }
  return {
    version,
    adminAddress: addressText(obj(s.bootstrap.admin).address),
    listeners: s.listeners.map((l) => listenerView(l, s, note)),
    clusters,
    notes,
  };
}
