import { type Client, type ClientDuplexStream, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { messageOf } from "../errors.js";

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

export interface ReflectionRequest {
  file_by_filename?: string;
  file_containing_symbol?: string;
  list_services?: string;
}
export interface ReflectionResponse {
  file_descriptor_proto?: { files?: Uint8Array[] };
  services?: { service?: { name?: string }[] };
  error?: { code?: number; message?: string };
}

/** How a reflection stream ended when it ended before its answer. */
export class ReflectionStatus extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${status[code] ?? code}: ${details}`);
  }
}

/** One ServerReflectionInfo stream: each request is answered in turn. */
export class ReflectionSession {
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
