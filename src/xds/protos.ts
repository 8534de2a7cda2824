import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { XdsError } from "../errors.js";
import type { ResourceType } from "./types.js";

/**
 * Envoy's protos, as @grpc/grpc-js-xds ships them (deps/: Envoy's data-plane API, xds, googleapis,
 * protoc-gen-validate). Only the files the server sends or reads are loaded: the ADS service, the
 * four resource types, and the typed configs nested in them as Any ("@type" objects).
 */
const FILES = [
  "envoy/service/discovery/v3/ads.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto",
];

/** The messages of each resource type, by their full proto name. */
const MESSAGES: Record<ResourceType, string> = {
  listener: "envoy.config.listener.v3.Listener",
  route: "envoy.config.route.v3.RouteConfiguration",
  cluster: "envoy.config.cluster.v3.Cluster",
  endpoint: "envoy.config.endpoint.v3.ClusterLoadAssignment",
};

/** The type URL of each resource type, as requests and responses carry it. */
export const TYPE_URLS: Record<ResourceType, string> = {
  listener: `type.googleapis.com/${MESSAGES.listener}`,
  route: `type.googleapis.com/${MESSAGES.route}`,
  cluster: `type.googleapis.com/${MESSAGES.cluster}`,
  endpoint: `type.googleapis.com/${MESSAGES.endpoint}`,
};

/** The resource type of a type URL, or undefined for one this server does not serve. */
export function resourceTypeOf(typeUrl: string): ResourceType | undefined {
  for (const [type, url] of Object.entries(TYPE_URLS)) if (url === typeUrl) return type as ResourceType;
  return undefined;
}

/** An Any as grpc-js's serializer takes it: the type URL and the message's bytes. */
export interface PackedAny {
  type_url: string;
  value: Buffer;
}

interface LoadedProtos {
  ads: ServiceDefinition;
  encode: Record<ResourceType, (message: object) => Buffer>;
  decode: Record<ResourceType, (bytes: Buffer) => Record<string, unknown>>;
}

let loaded: LoadedProtos | undefined;

function protoRoot(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@grpc/grpc-js-xds/package.json")), "deps");
  } catch (e) {
    throw new XdsError("Envoy's protos come from @grpc/grpc-js-xds, which is not installed (npm ci)", {
      cause: e,
    });
  }
}

/** Loads the protos once (about 300 ms): the ADS service definition and an encoder per resource type. */
export function xdsProtos(): LoadedProtos {
  if (loaded !== undefined) return loaded;
  const root = protoRoot();
  let definition: PackageDefinition;
  try {
    definition = loadSync(FILES, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
      includeDirs: ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(root, d)),
    });
  } catch (e) {
    throw new XdsError(`cannot load Envoy's protos from ${root}`, { cause: e });
  }
  const service = definition["envoy.service.discovery.v3.AggregatedDiscoveryService"];
  const codec = (name: string) => {
    const m = definition[name] as
      | { serialize?: (m: object) => Buffer; deserialize?: (b: Buffer) => Record<string, unknown> }
      | undefined;
    if (m?.serialize === undefined || m.deserialize === undefined)
      throw new XdsError(`Envoy's protos have no message ${name}`);
    return { encode: m.serialize, decode: m.deserialize };
  };
  const codecs = Object.fromEntries(
    Object.entries(MESSAGES).map(([type, name]) => [type, codec(name)]),
  ) as Record<ResourceType, ReturnType<typeof codec>>;
  const each = <K extends "encode" | "decode">(k: K) =>
    Object.fromEntries(Object.entries(codecs).map(([t, c]) => [t, c[k]])) as Record<
      ResourceType,
      ReturnType<typeof codec>[K]
    >;
  loaded = { ads: service as ServiceDefinition, encode: each("encode"), decode: each("decode") };
  return loaded;
}

/** Encodes a resource of `type` into an Any; nested Anys are given as objects with their "@type". */
export function packResource(type: ResourceType, message: object): PackedAny {
  try {
    return { type_url: TYPE_URLS[type], value: xdsProtos().encode[type](message) };
  } catch (e) {
    throw e instanceof XdsError ? e : new XdsError(`cannot encode a ${MESSAGES[type]}`, { cause: e });
  }
}
