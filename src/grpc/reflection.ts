import { Client, status } from "@grpc/grpc-js";
import { GrpcError, UsageError } from "../errors.js";
import { channelOptions } from "./channel.js";
import { type ClientTls, channelCredentials, INSECURE } from "./client-tls.js";
import { fileDependencies } from "./descriptors.js";
import {
  REFLECTION_VERSIONS,
  ReflectionSession,
  ReflectionStatus,
  type ReflectionVersion,
} from "./reflection-session.js";

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
      const session = new ReflectionSession(client, version, deadline, o.signal);
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

async function filesOf(session: ReflectionSession, o: ReflectionOptions): Promise<Uint8Array[]> {
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
