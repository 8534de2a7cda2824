import { Client, type ClientDuplexStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { GrpcError, messageOf, UsageError } from "../errors.js";
import { channelOptions } from "./channel.js";
import { type ClientTls, channelCredentials, INSECURE } from "./client-tls.js";
import { fileDependencies } from "./descriptors.js";

/** The versions of the server reflection service, in the order they are tried. */
export const REFLECTION_VERSIONS = ["v1", "v1alpha"] as const;
export type ReflectionVersion = (typeof REFLECTION_VERSIONS)[number];

// The fields of grpc.reflection.*.ServerReflectionRequest/Response this client uses; v1 and
// v1alpha share them, number for number.
const Request = new protobuf.Type("ServerReflectionRequest")
  .add(new protobuf.Field("host", 1, "string"))
  .add(new protobuf.Field("file_by_filename", 3, "string"))
  .add(new protobuf.Field("file_containing_symbol", 4, "string"))
  .add(new protobuf.Field("list_services", 7, "string"));
const Response = new protobuf.Type("ServerReflectionResponse")
  .add(new protobuf.Field("file_descriptor_proto", 4, "FileDescriptorResponse"))
  .add(new protobuf.Field("services", 6, "ListServiceResponse"))
  .add(new protobuf.Field("error", 7, "ErrorResponse"));
new protobuf.Root()
  .add(Request)
  .add(Response)
  .add(new protobuf.Type("FileDescriptorResponse").add(new protobuf.Field("files", 1, "bytes", "repeated")))
  .add(
    new protobuf.Type("ListServiceResponse")
      .add(new protobuf.Field("service", 1, "ServiceResponse", "repeated"))
      .add(new protobuf.Type("ServiceResponse").add(new protobuf.Field("name", 1, "string"))),
  )
  .add(
    new protobuf.Type("ErrorResponse")
      .add(new protobuf.Field("code", 1, "int32"))
      .add(new protobuf.Field("message", 2, "string")),
  )
  .resolveAll();

interface ReflectionRequest {
  file_by_filename?: string;
  file_containing_symbol?: string;
  list_services?: string;
}
interface ReflectionResponse {
  file_descriptor_proto?: { files?: Uint8Array[] };
  services?: { service?: { name?: string }[] };
  error?: { code?: number; message?: string };
}

export interface ReflectionOptions {
  /** grpc-js target of the server (host:port, dns:///NAME:PORT, …). */
  target: string;
  /** A fully-qualified service name, e.g. grpc.health.v1.Health. */
  service: string;
  /** Deadline of the whole exchange, in ms. */
  deadlineMs: number;
  /** Cancels the exchange. */
  signal?: AbortSignal | undefined;
  /** Plaintext or TLS. Default plaintext. */
  tls?: ClientTls | undefined;
}

/**
 * The serialized FileDescriptorProtos that describe `service`, with every file
 * they import, by server reflection: grpc.reflection.v1, then v1alpha when the
 * server has no v1. A server without either, or that does not know the
 * service, is a UsageError; an unreachable one a GrpcError.
 */
export async function reflectService(
  o: ReflectionOptions,
): Promise<{ files: Uint8Array[]; version: ReflectionVersion }> {
  const tls = o.tls ?? INSECURE;
  const client = new Client(o.target, channelCredentials(tls), channelOptions(o.target, { tls }));
  const deadline = Date.now() + o.deadlineMs;
  try {
    for (const version of REFLECTION_VERSIONS) {
      const session = new Session(client, version, deadline, o.signal);
      try {
        return { files: await filesOf(session, o), version };
      } catch (e) {
        if (!(e instanceof ReflectionStatus)) throw e;
        if (e.code === status.UNIMPLEMENTED) continue;
        throw new GrpcError(
          `cannot ask ${o.target} for service ${o.service} by reflection: ${status[e.code] ?? e.code}${e.details ? ` (${e.details})` : ""}`,
          { cause: e },
        );
      } finally {
        session.close();
      }
    }
  } finally {
    client.close();
  }
  throw new UsageError(
    `${o.target} does not serve reflection (grpc.reflection.v1 or v1alpha): name the method's .proto files with --proto`,
  );
}

async function filesOf(session: Session, o: ReflectionOptions): Promise<Uint8Array[]> {
  const first = await session.ask({ file_containing_symbol: o.service });
  if (first.error !== undefined) {
    const services = await session
      .ask({ list_services: "" })
      .then((r) => (r.services?.service ?? []).map((s) => s.name ?? "").filter((n) => n !== ""))
      .catch(() => [] as string[]);
    throw new UsageError(
      `${o.target} does not know service ${o.service} (reflection says: ${first.error.message || `code ${first.error.code}`})${services.length > 0 ? `; it serves ${services.sort().join(", ")}` : ""}`,
    );
  }
  const files = new Map<string, Uint8Array>();
  const wanted = new Set<string>();
  const add = (bytes: readonly Uint8Array[]): void => {
    for (const b of bytes) {
      const { name, dependencies } = fileDependencies(b);
      files.set(name, b);
      for (const d of dependencies) wanted.add(d);
    }
  };
  add(first.file_descriptor_proto?.files ?? []);
  for (let missing = [...wanted].find((n) => !files.has(n)); missing !== undefined; ) {
    const r = await session.ask({ file_by_filename: missing });
    if (r.error !== undefined)
      throw new GrpcError(
        `${o.target} described ${o.service} but not the file it imports, ${missing}: ${r.error.message}`,
      );
    add(r.file_descriptor_proto?.files ?? []);
    if (!files.has(missing)) throw new GrpcError(`${o.target} answered for ${missing} with other files`);
    missing = [...wanted].find((n) => !files.has(n));
  }
  return [...files.values()];
}

/** How a reflection stream ended when it ended before its answer. */
class ReflectionStatus extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${status[code] ?? code}: ${details}`);
  }
}

/** One ServerReflectionInfo stream: each request is answered in turn. */
class Session {
  private readonly call: ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
  private readonly waiting: { resolve(r: ReflectionResponse): void; reject(e: unknown): void }[] = [];
  private ended: unknown;
  private readonly cancel = (): void => this.call.cancel();

  constructor(
    client: Client,
    version: ReflectionVersion,
    deadline: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.call = client.makeBidiStreamRequest(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      (r: ReflectionRequest) => Buffer.from(Request.encode(Request.fromObject(r)).finish()),
      (b: Buffer) => Response.toObject(Response.decode(b), { defaults: false }) as ReflectionResponse,
      new Metadata(),
      { deadline },
    );
    const fail = (e: unknown): void => {
      this.ended ??= e;
      for (const w of this.waiting.splice(0)) w.reject(this.ended);
    };
    this.call.on("data", (r: ReflectionResponse) => this.waiting.shift()?.resolve(r));
    this.call.on("error", (e: ServiceError) =>
      fail(new ReflectionStatus(e.code ?? status.UNKNOWN, e.details ?? messageOf(e))),
    );
    this.call.on("end", () => fail(new ReflectionStatus(status.INTERNAL, "the server ended the stream")));
    signal?.addEventListener("abort", this.cancel, { once: true });
    if (signal?.aborted) this.cancel();
  }

  ask(request: ReflectionRequest): Promise<ReflectionResponse> {
    if (this.ended !== undefined) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.call.write(request);
    });
  }

  close(): void {
    this.signal?.removeEventListener("abort", this.cancel);
    this.call.end();
    this.call.cancel();
  }
}
