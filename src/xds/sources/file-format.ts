import { rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { basename, dirname, join } from "node:path";
import type { DiscoveredEndpoint, EndpointHealth } from "../types.js";

/**
 * The endpoints file that `grpc-lb xds-server --source file` reads: one JSON object whose
 * only key, `endpoints`, lists the servers. An endpoint is an IP literal (gRPC's xDS clients
 * take no names), a port, and a health that defaults to HEALTHY. Unknown keys are refused
 * rather than skipped: a misspelt `helth: "DRAINING"` would otherwise send calls to a
 * server that is being drained.
 *
 *     {"endpoints": [{"address": "10.0.0.7", "port": 50051},
 *                    {"address": "10.0.0.8", "port": 50051, "health": "DRAINING"}]}
 */
export interface EndpointsFile {
  endpoints: { address: string; port: number; health?: EndpointHealth }[];
}

const HEALTHS: readonly EndpointHealth[] = ["HEALTHY", "DRAINING"];
const FILE_KEYS = ["endpoints"] as const;
const ENDPOINT_KEYS = ["address", "port", "health"] as const;

/** A file's endpoints, or why it is not an endpoints file (one line, naming the field). */
export type ParsedEndpoints = { ok: true; endpoints: DiscoveredEndpoint[] } | { ok: false; why: string };

class Invalid extends Error {}

const show = (v: unknown): string =>
  v === undefined ? "nothing" : Array.isArray(v) ? "a list" : JSON.stringify(v);

function objectAt(v: unknown, at: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Invalid(`${at} must be an object, got ${show(v)}`);
  const unknown = Object.keys(v).filter((k) => !keys.includes(k));
  if (unknown.length > 0)
    throw new Invalid(`${at} has unknown key '${unknown[0]}' (known: ${keys.join(", ")})`);
  return v as Record<string, unknown>;
}

function endpointAt(v: unknown, at: string): DiscoveredEndpoint {
  const o = objectAt(v, at, ENDPOINT_KEYS);
  const { address, port, health = "HEALTHY" } = o;
  if (typeof address !== "string" || isIP(address) === 0)
    throw new Invalid(
      `${at}.address must be an IP address (gRPC's xDS clients take no names), got ${show(address)}`,
    );
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Invalid(`${at}.port must be an integer from 1 to 65535, got ${show(port)}`);
  if (!HEALTHS.includes(health as EndpointHealth))
    throw new Invalid(`${at}.health must be ${HEALTHS.join(" or ")}, got ${show(health)}`);
  return { address, port, health: health as EndpointHealth };
}

/** Reads an endpoints file's text; never throws. */
export function parseEndpointsFile(text: string): ParsedEndpoints {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, why: `not JSON (${(e as Error).message})` };
  }
  try {
    const list = objectAt(raw, "the file", FILE_KEYS).endpoints;
    if (!Array.isArray(list)) throw new Invalid(`"endpoints" must be a list, got ${show(list)}`);
    const seen = new Map<string, number>();
    const endpoints = list.map((e, i) => {
      const endpoint = endpointAt(e, `endpoints[${i}]`);
      const key = `${endpoint.address} ${endpoint.port}`;
      const before = seen.get(key);
      if (before !== undefined)
        throw new Invalid(
          `endpoints[${i}] lists ${endpoint.address} port ${endpoint.port} again (endpoints[${before}])`,
        );
      seen.set(key, i);
      return endpoint;
    });
    return { ok: true, endpoints };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, why: e.message };
    throw e;
  }
}

/** The file's text for `endpoints`, health always written. */
export function formatEndpointsFile(endpoints: readonly DiscoveredEndpoint[]): string {
  const file: EndpointsFile = {
    endpoints: endpoints.map(({ address, port, health }) => ({ address, port, health })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

let writes = 0;

/**
 * Writes `endpoints` to `path` as a writer should: to a temporary file beside it, then a
 * rename over it, so that a reader sees the old file or the new one, never half of one.
 */
export async function writeEndpointsFile(
  path: string,
  endpoints: readonly DiscoveredEndpoint[],
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${++writes}.tmp`);
  await writeFile(tmp, formatEndpointsFile(endpoints));
  await rename(tmp, path);
}
