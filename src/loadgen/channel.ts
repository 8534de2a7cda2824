import { credentials } from "@grpc/grpc-js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import { echoPackage } from "../proto/echo-package.js";

/**
 * One Echo channel as the load generators use it: no client-side retries (every
 * failure Envoy lets through is counted) and no service config from DNS.
 */
export function echoChannel(target: string): EchoClient {
  const Echo = echoPackage().grpc.lbdemo.v1.Echo;
  return new Echo(target, credentials.createInsecure(), {
    "grpc.enable_retries": 0,
    "grpc.service_config_disable_resolution": 1,
  });
}
