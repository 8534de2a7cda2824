import { join } from "node:path";
import protobuf from "protobufjs";
import { UsageError } from "../errors.js";
import { protoDir } from "../paths.js";
import { ECHO_SERVICE_NAME } from "../proto/echo-package.js";
import type { ClientTls } from "./client-tls.js";
import { rootOfFileDescriptors, rootOfProtoFiles } from "./descriptors.js";
import { messageOfJson } from "./json-message.js";
import { reflectService } from "./reflection.js";

/** The unary Echo, the load tool's default method. */
export const ECHO_METHOD = `${ECHO_SERVICE_NAME}/Echo`;
/** The server-streaming Echo. */
export const ECHO_STREAM_METHOD = `${ECHO_SERVICE_NAME}/EchoStream`;

/** Where a method's types came from. */
export type MethodSource = "built-in" | "proto-files" | "reflection v1" | "reflection v1alpha";

/** One method of a gRPC service, with its message types, ready to call. */
export interface GrpcMethod {
  /** The HTTP/2 path, "/pkg.Service/Method". */
  readonly path: string;
  /** Fully-qualified service name, "pkg.Service". */
  readonly service: string;
  /** Method name, "Method". */
  readonly name: string;
  /** Fully-qualified request and response message names. */
  readonly requestType: string;
  readonly responseType: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly source: MethodSource;
  /** The serialized request a JSON value describes (protobuf's JSON mapping); a UsageError when it does not fit. */
  encodeRequest(json: unknown): Buffer;
  /** The request a JSON value describes as a plain object, every field present; a UsageError when it does not fit. */
  requestObject(json: unknown): Record<string, unknown>;
  /** A serialized reply as a plain object (64-bit integers and enums as strings, bytes as base64). */
  decodeResponse(bytes: Uint8Array): Record<string, unknown>;
}

export interface ResolveMethodOptions {
  /** grpc-js target of a server that serves reflection (host:port, dns:///NAME:PORT, …). */
  target: string;
  /** "pkg.Service/Method" or "pkg.Service.Method", as ghz takes them. */
  method: string;
  /** .proto files that define the method; when empty, the server is asked by reflection. Default none. */
  protoFiles?: readonly string[];
  /** Directories searched for the files `protoFiles` import. Default none (plus their own directories). */
  importPaths?: readonly string[];
  /** Deadline of the reflection exchange, in ms. Default 5000. */
  deadlineMs?: number;
  /** Cancels reflection. */
  signal?: AbortSignal | undefined;
  /** How reflection's channel is secured. Default plaintext. */
  tls?: ClientTls | undefined;
}

/** A method name in ghz's spellings, "pkg.Service/Method" or "pkg.Service.Method" (a leading "/" is allowed). */
export function parseMethodName(text: string): { service: string; name: string } {
  const m = /^\/?((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)[/.]([A-Za-z_]\w*)$/.exec(text.trim());
  if (m === null)
    throw new UsageError(`'${text}' is not a method: write pkg.Service/Method (or pkg.Service.Method)`);
  return { service: m[1] ?? "", name: m[2] ?? "" };
}

/**
 * The method `o.method`, described by the .proto files given, or else by the
 * server's reflection. This project's own lbdemo.v1.Echo is known without
 * either, so its calls work against servers without reflection.
 */
export async function resolveMethod(o: ResolveMethodOptions): Promise<GrpcMethod> {
  const name = parseMethodName(o.method);
  const files = o.protoFiles ?? [];
  if (files.length > 0)
    return methodOfRoot(rootOfProtoFiles(files, o.importPaths ?? []), name, "proto-files", files.join(", "));
  if (name.service === ECHO_SERVICE_NAME) return methodOfRoot(builtIn(), name, "built-in", "echo.proto");
  const { files: descriptors, version } = await reflectService({
    target: o.target,
    service: name.service,
    deadlineMs: o.deadlineMs ?? 5000,
    signal: o.signal,
    tls: o.tls,
  });
  return methodOfRoot(rootOfFileDescriptors(descriptors), name, `reflection ${version}`, o.target);
}

let echoRoot: protobuf.Root | undefined;
const builtIn = (): protobuf.Root =>
  (echoRoot ??= rootOfProtoFiles([join(protoDir, "lbdemo/v1/echo.proto")], [protoDir]));

/** Every service defined under `ns`, by full name. */
function servicesOf(ns: protobuf.NamespaceBase): string[] {
  return ns.nestedArray.flatMap((o) => [
    ...(o instanceof protobuf.Service ? [o.fullName.slice(1)] : []),
    ...(o instanceof protobuf.Namespace || o instanceof protobuf.Type ? servicesOf(o) : []),
  ]);
}

/** The method of a set of loaded types; `where` names them in errors. */
export function methodOfRoot(
  root: protobuf.Root,
  name: { service: string; name: string },
  source: MethodSource,
  where: string,
): GrpcMethod {
  const found = root.lookup(name.service);
  if (!(found instanceof protobuf.Service)) {
    const services = servicesOf(root).sort();
    throw new UsageError(
      `no service ${name.service} in ${where}${services.length > 0 ? `; services there: ${services.join(", ")}` : ""}`,
    );
  }
  const method = found.methods[name.name];
  if (method === undefined)
    throw new UsageError(
      `service ${name.service} has no method ${name.name}; its methods: ${Object.keys(found.methods).join(", ")}`,
    );
  method.resolve();
  const request = method.resolvedRequestType;
  const response = method.resolvedResponseType;
  if (request === null || response === null)
    throw new UsageError(`the types of ${name.service}/${name.name} are not defined in ${where}`);
  const toObject = (t: protobuf.Type, m: protobuf.Message): Record<string, unknown> =>
    t.toObject(m, { longs: String, enums: String, bytes: String, defaults: true, oneofs: true });
  return {
    path: `/${name.service}/${name.name}`,
    service: name.service,
    name: name.name,
    requestType: request.fullName.slice(1),
    responseType: response.fullName.slice(1),
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    source,
    encodeRequest: (json) => Buffer.from(request.encode(messageOfJson(request, json)).finish()),
    requestObject: (json) => toObject(request, messageOfJson(request, json)),
    decodeResponse: (bytes) => toObject(response, response.decode(bytes)),
  };
}
