import { hostsFromClusters } from "../doctor/view/clusters.js";
import { arr, type Json, obj, snakeKeys, str } from "../doctor/view/json.js";
import type { EnvoyAdmin } from "../envoy/admin.js";
import { EnvoyError, messageOf } from "../errors.js";

/** One upstream host of a cluster at one reading of /clusters. */
export interface HostReading {
  /** host:port ([v6]:port), or a pipe's path: as Envoy names the host. */
  address: string;
  /** The hostname Envoy keeps for it (the DNS name of a STRICT_DNS cluster, an EDS endpoint's); null when none. */
  hostname: string | null;
  /** Its counters and gauges by name (rq_total, rq_error, rq_timeout, rq_active, cx_connect_fail, …); absent = 0. */
  counters: Readonly<Record<string, number>>;
  /** The health flags set on it (failed_active_health_check, failed_outlier_check, eds UNHEALTHY, …); empty when healthy. */
  flags: readonly string[];
}

/** Every cluster's hosts of one Envoy, at one moment. */
export interface EnvoyReading {
  /** The admin API read, host:port. */
  admin: string;
  /** When the answer came, in ms on the monotonic clock (performance.now()). */
  atMs: number;
  clusters: ReadonlyMap<string, readonly HostReading[]>;
}

/**
 * The hosts of every cluster from /clusters?format=json, as any Envoy prints it: snake_case or
 * the lowerCamelCase of protobuf's JSON (istioctl's), socket or pipe addresses, counters at 0 left out.
 */
export function readingFromClusters(body: unknown, admin: string, atMs: number): EnvoyReading {
  const json = obj(snakeKeys(body));
  const health = hostsFromClusters(json);
  const clusters = new Map<string, HostReading[]>();
  for (const c of arr(json.cluster_statuses)) {
    const name = String(c.name);
    const now = health.get(name) ?? [];
    clusters.set(
      name,
      arr(c.host_statuses).map((h: Json, i) => ({
        address: now[i]?.address ?? "",
        hostname: str(h.hostname) ?? null,
        counters: Object.fromEntries(arr(h.stats).map((s) => [String(s.name), Number(s.value ?? 0)])),
        flags: now[i]?.failed ?? [],
      })),
    );
  }
  return { admin, atMs, clusters };
}

/** Reads /clusters?format=json of one Envoy; an EnvoyError naming the admin API when it does not answer JSON. */
export async function readEnvoy(
  admin: EnvoyAdmin,
  clock: () => number = () => performance.now(),
): Promise<EnvoyReading> {
  const text = await admin.send("/clusters?format=json").catch((e: unknown) => {
    // send() names the path already; its cause says what went wrong.
    const why = e instanceof Error && e.cause !== undefined ? e.cause : e;
    throw new EnvoyError(`no admin API answers at http://${admin.address}: ${messageOf(why)}`, { cause: e });
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new EnvoyError(
      `http://${admin.address}/clusters?format=json is not Envoy's admin API: ${messageOf(e)}`,
      {
        cause: e,
      },
    );
  }
  if (!Array.isArray(obj(body).cluster_statuses))
    throw new EnvoyError(
      `http://${admin.address}/clusters?format=json is not Envoy's admin API (no cluster_statuses)`,
    );
  return readingFromClusters(body, admin.address, clock());
}
