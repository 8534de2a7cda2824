import { createRequire } from "node:module";
import {
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";
import type { EchoClient } from "../src/generated/lbdemo/v1/Echo.js";
import type { EchoReply__Output } from "../src/generated/lbdemo/v1/EchoReply.js";
import { echoPackage } from "../src/proto/echo-package.js";

/** Plain clients for tests: the demo service, grpc.health.v1 and reflection, over insecure channels unless told. */

export function echoClient(
  target: string,
  creds: ChannelCredentials = credentials.createInsecure(),
  options: ChannelOptions = {},
): EchoClient {
  return new (echoPackage().grpc.lbdemo.v1.Echo)(target, creds, options);
}

export function echo(client: EchoClient, message = "hi", deadlineMs = 5000): Promise<EchoReply__Output> {
  return new Promise((resolve, reject) =>
    client.Echo({ message }, { deadline: Date.now() + deadlineMs }, (err, reply) =>
      err || !reply ? reject(err) : resolve(reply),
    ),
  );
}

type Unary = (req: object, opts: object, cb: (err: Error | null, res?: { status: string }) => void) => void;

export async function healthCheck(
  target: string,
  service = "",
  creds: ChannelCredentials = credentials.createInsecure(),
): Promise<string> {
  const Ctor = makeGenericClientConstructor(healthService, "Health");
  const client = new Ctor(target, creds) as unknown as Client & { check: Unary };
  try {
    return await new Promise((resolve, reject) =>
      client.check({ service }, { deadline: Date.now() + 5000 }, (err, res) =>
        err ? reject(err) : resolve(res?.status ?? ""),
      ),
    );
  } finally {
    client.close();
  }
}

/** Lists services through server reflection (grpc.reflection.v1), as grpcurl does. */
export async function reflectionServices(target: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const protoPath = require.resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
  const pkg = loadPackageDefinition(loadSync(protoPath, { keepCase: true })) as GrpcObject;
  const grpcNs = pkg.grpc as GrpcObject;
  const Reflection = ((grpcNs.reflection as GrpcObject).v1 as GrpcObject).ServerReflection as unknown as new (
    target: string,
    creds: ReturnType<typeof credentials.createInsecure>,
  ) => Client & {
    ServerReflectionInfo: () => NodeJS.ReadWriteStream & { end(): void; write(m: object): boolean };
  };
  const client = new Reflection(target, credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on("data", (msg: { list_services_response?: { service: { name: string }[] } }) => {
        resolve((msg.list_services_response?.service ?? []).map((s) => s.name));
        call.end();
      });
      call.on("error", reject);
      call.write({ list_services: "" });
    });
  } finally {
    client.close();
  }
}
