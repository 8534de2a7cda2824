import { rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
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

const FILE_KEYS = ["endpoints"] as const;
const ENDPOINT_KEYS = ["address", "port", "health"] as const;

/** What each field must be, as the messages say it. */
const RULES: Record<string, string> = {
  address: "must be an IP address (gRPC's xDS clients take no names)",
  port: "must be an integer from 1 to 65535",
  health: "must be HEALTHY or DRAINING",
};

const ENDPOINT = z.strictObject({
  address: z.string().refine((a) => isIP(a) !== 0),
  port: z.number().int().min(1).max(65535),
  health: z.enum(["HEALTHY", "DRAINING"]).default("HEALTHY"),
});

const FILE = z.strictObject({
  endpoints: z.array(ENDPOINT).superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((e, i) => {
      const key = `${e.address} ${e.port}`;
      const before = seen.get(key);
      if (before !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `lists ${e.address} port ${e.port} again (endpoints[${before}])`,
        });
      seen.set(key, i);
    });
  }),
});

/** A file's endpoints, or why it is not an endpoints file (one line, naming the field). */
export type ParsedEndpoints = { ok: true; endpoints: DiscoveredEndpoint[] } | { ok: false; why: string };

const show = (v: unknown): string =>
  v === undefined ? "nothing" : Array.isArray(v) ? "a list" : JSON.stringify(v);

/** Where an issue is: "the file", "endpoints", endpoints[1], endpoints[1].port. */
const whereOf = (path: readonly PropertyKey[]): string =>
  path.length === 0
    ? "the file"
    : path.length === 1
      ? `"${String(path[0])}"`
      : path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)).join("");

const valueAt = (raw: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (v, k) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    raw,
  );

/** The first issue as one line: where, what it must be, what it was. */
function describe(issue: z.core.$ZodIssue, raw: unknown): string {
  const where = whereOf(issue.path);
  if (issue.code === "unrecognized_keys")
    return `${where} has unknown key '${issue.keys[0]}' (known: ${(issue.path.length === 0 ? FILE_KEYS : ENDPOINT_KEYS).join(", ")})`;
  if (issue.code === "custom" && issue.path.length === 2) return `${where} ${issue.message}`;
  const last = issue.path.at(-1);
  const rule =
    typeof last === "string" && last in RULES
      ? RULES[last]
      : issue.path.length === 1
        ? "must be a list"
        : "must be an object";
  return `${where} ${rule}, got ${show(valueAt(raw, issue.path))}`;
}

/** Reads an endpoints file's text; never throws. */
export function parseEndpointsFile(text: string): ParsedEndpoints {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, why: `not JSON (${(e as Error).message})` };
  }
  const r = FILE.safeParse(raw);
  if (!r.success) return { ok: false, why: describe(r.error.issues[0] as z.core.$ZodIssue, raw) };
  return { ok: true, endpoints: r.data.endpoints };
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
