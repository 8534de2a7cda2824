import type { EnvoyAdmin } from "../envoy/admin.js";
import { DoctorError, messageOf } from "../errors.js";
import { type CertView, certsFrom } from "./view/certs.js";
import {
  type ClusterView,
  clusterStats,
  clusterView,
  hostsFromClusters,
  STATS_FILTER,
} from "./view/clusters.js";
import { type DumpSections, dumpSections } from "./view/dump-sections.js";
import { addressText, type Json, obj, snakeKeys, str } from "./view/json.js";
import { type ListenerView, listenerView } from "./view/listeners.js";

export type { CertView } from "./view/certs.js";
export type { ClusterKind, ClusterView, HostNow, UpstreamProtocol } from "./view/clusters.js";
export { durationMs, type Json, obj } from "./view/json.js";
export type { ListenerView, ManagerView, RouteView } from "./view/listeners.js";
export type { TlsContext } from "./view/tls.js";

/** What doctor reads from an Envoy, normalised. */
export interface EnvoyView {
  version: string;
  adminAddress: string;
  listeners: ListenerView[];
  clusters: Map<string, ClusterView>;
  /** SDS secrets and whether they are loaded (SecretsConfigDump). */
  secrets: DumpSections["secrets"];
  /** The certificates /certs lists; undefined when it was not read. */
  certs: CertView[] | undefined;
  /** Time between the first and last of the hosts' rq_active readings, in ms; 0 with one reading. */
  activeSpanMs: number;
  /** What doctor could not judge or read, one line each. */
  notes: string[];
}

/** The admin API's answers doctor reads, as JSON. */
export interface AdminDocuments {
  /** Envoy's version, from /server_info. */
  version: string;
  serverInfo: Json;
  configDump: Json;
  clusters: Json;
  stats: Json;
  /** /certs; undefined when the admin API does not serve it. */
  certs?: Json | undefined;
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
  const version = envoyVersion(serverInfo, admin.address);
  const [configDump, clusters, stats, certs] = await Promise.all([
    get("/config_dump"),
    get("/clusters?format=json"),
    get(`/stats?format=json&filter=${encodeURIComponent(STATS_FILTER)}`),
    // Not every admin API serves /certs (a stand-in of a captured dump): then expiry is not judged.
    get("/certs").catch(() => undefined),
  ]);
  return { version, serverInfo, configDump, clusters, stats, certs };
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
  return buildView(d.version, d.configDump, d.clusters, d.stats, d.certs);
}

/** The view from the admin API's JSON documents (exported for unit tests); `certsJson` when /certs was read. */
export function buildView(
  version: string,
  dump: Json,
  clustersJson: Json,
  statsJson: Json,
  certsJson?: Json,
): EnvoyView {
  const notes: string[] = [];
  const note = (text: string): void => {
    if (!notes.includes(text)) notes.push(text);
  };
  const s = dumpSections(obj(snakeKeys(dump)));
  if (s.present.length === 0) note("the config dump has no section doctor knows; nothing was read");
  if (certsJson === undefined) note("/certs was not read: certificate expiry not judged");

  const hostsNow = hostsFromClusters(obj(snakeKeys(clustersJson)));
  const stats = clusterStats(statsJson);
  const clusters = new Map<string, ClusterView>();
  for (const d of s.clusters) {
    const c = clusterView(d, hostsNow, stats);
    // A cluster being replaced shows once active and once warming: the active one serves now.
    if (!clusters.has(c.name) || d.state !== "warming") clusters.set(c.name, c);
  }
  return {
    version,
    adminAddress: addressText(obj(s.bootstrap.admin).address),
    listeners: s.listeners.map((l) => listenerView(l, s, note)),
    clusters,
    secrets: s.secrets,
    certs: certsJson === undefined ? undefined : certsFrom(obj(snakeKeys(certsJson))),
    activeSpanMs: 0,
    notes,
  };
}
