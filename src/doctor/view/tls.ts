import { arr, type Json, obj, str, typeOf } from "./json.js";

/** Which side of a connection a TLS context secures: Envoy's listener (downstream) or Envoy as a client (upstream). */
export type TlsSide = "downstream" | "upstream";

/** A TLS context of a cluster or a filter chain, and where it sits there. */
export interface TlsContext {
  side: TlsSide;
  /** The Upstream/DownstreamTlsContext's fields (unwrapped from a TypedStruct or a v2 field). */
  context: Json;
  /** Its keys and indexes from the cluster or filter chain that holds it, for a fix merged there. */
  path: (string | number)[];
  /** Where it is, in words for a finding: "transport_socket", "transport_socket_matches[istio]", "tls_context". */
  where: string;
}

const CONTEXTS: Record<string, TlsSide> = {
  "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext": "upstream",
  "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext": "downstream",
  // Envoys before 1.17 print v2 messages.
  "envoy.api.v2.auth.UpstreamTlsContext": "upstream",
  "envoy.api.v2.auth.DownstreamTlsContext": "downstream",
};
const TYPED_STRUCTS = ["udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"];
const TLS_SOCKET_NAMES = ["envoy.transport_sockets.tls", "tls"];

/** A transport socket's TLS context, when it is one of `side` (typed, in a TypedStruct, or v2's untyped `config`). */
function socketContext(
  socket: Json,
  side: TlsSide,
  path: (string | number)[],
): Pick<TlsContext, "context" | "path"> | undefined {
  const tc = obj(socket.typed_config);
  const type = typeOf(tc);
  if (type !== undefined && TYPED_STRUCTS.includes(type)) {
    const inner = str(tc.type_url)?.replace(/^.*\//, "");
    return inner !== undefined && CONTEXTS[inner] === side
      ? { context: obj(tc.value), path: [...path, "typed_config", "value"] }
      : undefined;
  }
  if (type !== undefined)
    return CONTEXTS[type] === side ? { context: tc, path: [...path, "typed_config"] } : undefined;
  if (socket.config !== undefined && TLS_SOCKET_NAMES.includes(str(socket.name) ?? ""))
    return { context: obj(socket.config), path: [...path, "config"] };
  return undefined;
}

/**
 * A cluster's upstream TLS contexts: its transport_socket (or the legacy tls_context), then each
 * entry of transport_socket_matches that is TLS.
 */
export function upstreamTls(cluster: Json): TlsContext[] {
  const out: TlsContext[] = [];
  const main = socketContext(obj(cluster.transport_socket), "upstream", ["transport_socket"]);
  if (main !== undefined) out.push({ side: "upstream", ...main, where: "transport_socket" });
  else if (cluster.tls_context !== undefined)
    out.push({
      side: "upstream",
      context: obj(cluster.tls_context),
      path: ["tls_context"],
      where: "tls_context",
    });
  for (const [i, m] of arr(cluster.transport_socket_matches).entries()) {
    const found = socketContext(obj(m.transport_socket), "upstream", [
      "transport_socket_matches",
      i,
      "transport_socket",
    ]);
    if (found !== undefined)
      out.push({ side: "upstream", ...found, where: `transport_socket_matches[${str(m.name) ?? i}]` });
  }
  return out;
}

/** A filter chain's downstream TLS context: its transport_socket, or the legacy tls_context. */
export function downstreamTls(chain: Json): TlsContext | undefined {
  const found = socketContext(obj(chain.transport_socket), "downstream", ["transport_socket"]);
  if (found !== undefined) return { side: "downstream", ...found, where: "transport_socket" };
  if (chain.tls_context !== undefined)
    return {
      side: "downstream",
      context: obj(chain.tls_context),
      path: ["tls_context"],
      where: "tls_context",
    };
  return undefined;
}

/** The context's CommonTlsContext. */
export const commonOf = (t: TlsContext): Json => obj(t.context.common_tls_context);

/** The ALPN protocols the context offers (none: Envoy offers no ALPN, but for HTTP pools' fallback upstream). */
export const alpnOf = (t: TlsContext): string[] => arr(commonOf(t).alpn_protocols).map(String);

/** Certificates listed in the context itself, not delivered by SDS. */
export const inlineCertificates = (t: TlsContext): Json[] => arr(commonOf(t).tls_certificates);

/** The SDS secret configs that deliver its certificates and its validation context. */
export function sdsSecretConfigs(t: TlsContext): Json[] {
  const c = commonOf(t);
  return [
    ...arr(c.tls_certificate_sds_secret_configs),
    ...(c.validation_context_sds_secret_config === undefined
      ? []
      : [obj(c.validation_context_sds_secret_config)]),
    ...(obj(c.combined_validation_context).validation_context_sds_secret_config === undefined
      ? []
      : [obj(obj(c.combined_validation_context).validation_context_sds_secret_config)]),
  ];
}

/** The certificate validation context given in the context itself (alone, or the default of a combined one). */
export function validationOf(t: TlsContext): Json | undefined {
  const c = commonOf(t);
  if (c.validation_context !== undefined) return obj(c.validation_context);
  const combined = obj(c.combined_validation_context);
  if (combined.default_validation_context !== undefined) return obj(combined.default_validation_context);
  return undefined;
}

/** The subject alternative names a validation context accepts, by exact or other matchers (v3 and the fields before). */
export function sanMatchers(v: Json): Json[] {
  return [
    ...arr(v.match_typed_subject_alt_names).map((m) => obj(m.matcher)),
    ...arr(v.match_subject_alt_names),
    ...arr(v.verify_subject_alt_name).map((name) => ({ exact: name })),
  ];
}

/**
 * A patch for the object at `root` (a cluster or a filter chain) that sets `fields` on the TLS
 * context: nested objects down its path; where the path goes through a list
 * (transport_socket_matches), the whole list with that entry changed, since a merge replaces lists.
 */
export function tlsPatch(root: Json, t: TlsContext, fields: Json): Json {
  const i = t.path.findIndex((k) => typeof k === "number");
  if (i < 0) return nest(t.path, fields);
  const listPath = t.path.slice(0, i);
  const list = structuredClone(arr(listPath.reduce<unknown>((cur, k) => obj(cur)[String(k)], root)));
  const index = Number(t.path[i]);
  list[index] = mergeDeep(obj(list[index]), nest(t.path.slice(i + 1), fields));
  return nest(listPath, list);
}

const nest = (keys: readonly (string | number)[], value: unknown): Json =>
  obj(keys.reduceRight<unknown>((acc, k) => ({ [String(k)]: acc }), value));

function mergeDeep(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    const both = [v, cur].every((x) => x !== null && typeof x === "object" && !Array.isArray(x));
    out[k] = both ? mergeDeep(obj(cur), obj(v)) : v;
  }
  return out;
}
