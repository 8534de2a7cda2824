/** A proto message as /config_dump prints it: JSON, fields at their default left out. */
export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
/** A repeated field: Envoy also takes a single object where a list belongs, as one element. */
export const arr = (v: unknown): Json[] =>
  Array.isArray(v) ? (v as Json[]) : v !== null && typeof v === "object" ? [v as Json] : [];
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** A duration as the JSON of a google.protobuf.Duration ("5s", "0.250s") in ms; undefined when absent. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(value);
  return m?.[1] === undefined ? undefined : Math.round(Number(m[1]) * 1000);
}

/** An envoy.config.core.v3.Address as text: host:port, [v6]:port, a pipe's path or an internal listener's name. */
export function addressText(v: unknown): string {
  const a = obj(v);
  const sa = obj(a.socket_address);
  if (sa.address !== undefined) {
    const host = String(sa.address);
    const port = sa.port_value ?? sa.named_port ?? 0;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }
  const pipe = str(obj(a.pipe).path);
  if (pipe !== undefined) return pipe;
  const internal = str(obj(a.envoy_internal_address).server_listener_name);
  return internal === undefined ? "" : `internal:${internal}`;
}

/** The message type of an Any ("type.googleapis.com/pkg.Msg" → "pkg.Msg"). */
export const typeOf = (v: unknown): string | undefined => str(obj(v)["@type"])?.replace(/^.*\//, "");

/**
 * The same JSON with field names in snake_case: protobuf's JSON form also allows lowerCamelCase
 * (istioctl prints dumps that way). Keys with dots or other marks (map keys: extension and
 * filter names) are left as they are.
 */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json))
    out[/^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$/.test(k) ? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : k] =
      snakeKeys(x);
  return out;
}
