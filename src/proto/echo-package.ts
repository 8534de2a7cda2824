import { type GrpcObject, loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import type { ProtoGrpcType } from "../generated/echo.js";
import { protoDir } from "../paths.js";

/** Fully-qualified name of the demo service, as health checks and reflection name it. */
export const ECHO_SERVICE_NAME = "lbdemo.v1.Echo";

// Same options as scripts/gen-types.mjs, so runtime objects match the generated types.
const loaderOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoDir],
};

let cached: { definition: PackageDefinition; grpc: ProtoGrpcType } | undefined;

/** Loads proto/lbdemo/v1/echo.proto once: the package definition (for reflection) and typed gRPC objects. */
export function echoPackage(): { definition: PackageDefinition; grpc: ProtoGrpcType } {
  if (cached === undefined) {
    const definition = loadSync("lbdemo/v1/echo.proto", loaderOptions);
    const grpc = loadPackageDefinition(definition) as GrpcObject as unknown as ProtoGrpcType;
    cached = { definition, grpc };
  }
  return cached;
}

/** grpc.health.v1 as reflection describes it (see proto/grpc/health/v1/health.proto for why it is ours). */
export function healthDescription(): PackageDefinition {
  return loadSync("grpc/health/v1/health.proto", loaderOptions);
}
