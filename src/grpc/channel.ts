import { createRequire } from "node:module";
import type { ChannelOptions } from "@grpc/grpc-js";
import type { EchoClient } from "../generated/lbdemo/v1/Echo.js";
import { echoPackage } from "../proto/echo-package.js";
import { type ClientTls, channelCredentials, tlsChannelOptions } from "./client-tls.js";
import { isXdsTarget, xdsChannelOptions } from "./xds-channel.js";

/** grpc-js's own balancing, for client-side targets (dns:///NAME:PORT): its loadBalancingConfig policy. */
export type ClientLbPolicy = "round_robin" | "pick_first";

export interface EchoChannelOptions {
  /**
   * Give the channel its own subchannels, hence its own HTTP/2 connection(s).
   * grpc-js otherwise shares one connection among channels with equal options.
   * Default false.
   */
  ownConnection?: boolean;
  /** Client-side balancing policy; default none (grpc-js's default, pick_first). */
  lb?: ClientLbPolicy;
  /**
   * HTTP/2 keepalive: a PING every this many ms, and the connection is given up when its
   * answer takes as long (a frozen or vanished peer); 0 is none. Default 0.
   */
  keepaliveMs?: number;
  /**
   * A retry policy for UNAVAILABLE (gRPC service config): a call that failed so, before any
   * reply, is tried again, up to this many attempts in all; 0 or 1 is none. Default 0.
   */
  retryUnavailableAttempts?: number;
  /** Plaintext or TLS (ghz's --insecure, --cacert, …). Default plaintext. */
  tls?: ClientTls;
  /**
   * With an xds: target (proxyless gRPC): the xDS server (host:port) the channel's bootstrap
   * names. Required for such a target, unused for others. Default none.
   */
  xdsServer?: string | undefined;
}

/** The service config's retry policy for every Echo method: UNAVAILABLE only, quick backoff. */
export function retryUnavailablePolicy(maxAttempts: number) {
  return {
    name: [{ service: "lbdemo.v1.Echo" }],
    retryPolicy: {
      maxAttempts,
      initialBackoff: "0.05s",
      maxBackoff: "0.5s",
      backoffMultiplier: 2,
      retryableStatusCodes: ["UNAVAILABLE"],
    },
  };
}

/**
 * One Echo channel as the load engine uses it: no retry policy unless asked for
 * and no service config from DNS, so every failure an application would see is counted. What
 * stays on is gRPC's transparent retry, as in every gRPC client (gRFC A6): a
 * call that never reached the server's application (a stream refused because
 * it crossed the GOAWAY of a draining Envoy, or one never started on a closing
 * connection) is sent again once. Turned off, it would count failures that no
 * real client ever shows its caller.
 */
export function echoChannel(target: string, o: EchoChannelOptions = {}): EchoClient {
  const Echo = echoPackage().grpc.lbdemo.v1.Echo;
  return new Echo(target, channelCredentials(o.tls ?? { kind: "insecure" }), channelOptions(target, o));
}

/** The grpc-js options of a channel to `target` as the load engine opens it (see echoChannel). */
export function channelOptions(target: string, o: EchoChannelOptions = {}): ChannelOptions {
  const options: ChannelOptions = {
    "grpc.service_config_disable_resolution": 1,
    ...(o.tls ? tlsChannelOptions(o.tls) : {}),
    ...(isXdsTarget(target) ? xdsChannelOptions(o.xdsServer, target) : {}),
  };
  if (/^dns:\/\/[^/]/.test(target)) askTargetsDnsServer();
  if (o.ownConnection) options["grpc.use_local_subchannel_pool"] = 1;
  const retry = (o.retryUnavailableAttempts ?? 0) > 1;
  if (o.lb || retry)
    options["grpc.service_config"] = JSON.stringify({
      ...(o.lb ? { loadBalancingConfig: [{ [o.lb]: {} }] } : {}),
      ...(retry ? { methodConfig: [retryUnavailablePolicy(o.retryUnavailableAttempts ?? 0)] } : {}),
    });
  if ((o.keepaliveMs ?? 0) > 0) {
    options["grpc.keepalive_time_ms"] = o.keepaliveMs;
    options["grpc.keepalive_timeout_ms"] = o.keepaliveMs;
    options["grpc.keepalive_permit_without_calls"] = 1;
  }
  return options;
}

/**
 * grpc-js honours the DNS server named in a dns://HOST:PORT/NAME target only
 * with its "alternative resolver", which it switches on from the environment
 * variable GRPC_NODE_USE_ALTERNATIVE_RESOLVER read once at import; otherwise
 * it silently asks the system resolver. Flip the flag it reads at each lookup.
 */
function askTargetsDnsServer(): void {
  const env = createRequire(import.meta.url)("@grpc/grpc-js/build/src/environment.js") as Record<
    string,
    unknown
  >;
  if (typeof env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER !== "boolean")
    throw new Error(
      "this grpc-js has no alternative DNS resolver switch: dns://HOST:PORT/ targets cannot work",
    );
  env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER = true;
}
