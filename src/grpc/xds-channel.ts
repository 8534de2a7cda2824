import { createRequire } from "node:module";
import { threadId } from "node:worker_threads";
import type { ChannelOptions } from "@grpc/grpc-js";
import { errorFrom, LoadError } from "../errors.js";

/** The package that gives grpc-js the xds: scheme (proxyless gRPC). */
export const XDS_PACKAGE = "@grpc/grpc-js-xds";

/**
 * grpc-js-xds's channel option for a bootstrap of the channel's own. Its other ways,
 * GRPC_XDS_BOOTSTRAP and GRPC_XDS_BOOTSTRAP_CONFIG, are read once per process and kept:
 * a process that meets two labs' xDS servers in turn (lab compare, a scenario) would keep
 * asking the first. The option gives each channel its own xDS client and ADS stream.
 */
const BOOTSTRAP_OPTION = "grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config";

/** Whether grpc-js resolves `target` by xDS (xds:///NAME, xds://AUTHORITY/NAME). */
export const isXdsTarget = (target: string): boolean => /^xds:/i.test(target);

/** What grpc-js-xds reads of its bootstrap (gRFC A27), as this project writes it. */
export interface XdsBootstrap {
  xds_servers: {
    server_uri: string;
    channel_creds: { type: "insecure" }[];
    server_features: string[];
  }[];
  node: { id: string; locality: { region: string; zone: string } };
}

/**
 * The bootstrap of a proxyless client of the xDS server at `server` (host:port), plaintext.
 * ignore_resource_deletion (gRFC A53): a restarted control plane that first answers an empty
 * state of the world does not delete the client's Listener and Cluster; grpc-js-xds 1.14.1
 * would then ignore their identical return and fail every call. grpc-js-xds refuses a node
 * without a locality.
 */
export function xdsBootstrap(server: string, nodeId = defaultNodeId()): XdsBootstrap {
  return {
    xds_servers: [
      {
        server_uri: server,
        channel_creds: [{ type: "insecure" }],
        server_features: ["xds_v3", "ignore_resource_deletion"],
      },
    ],
    node: { id: nodeId, locality: { region: "grpc-lb", zone: "loopback" } },
  };
}

/** How the node id of every proxyless client of this project begins: the xDS server's events tell them from Envoys by it. */
export const PROXYLESS_NODE_PREFIX = "grpc-lb-proxyless-";

/** grpc-lb-proxyless-PID (-tN in worker thread N): the xDS server's logs and /metrics name clients by it. */
const defaultNodeId = (): string =>
  `${PROXYLESS_NODE_PREFIX}${process.pid}${threadId === 0 ? "" : `-t${threadId}`}`;

let registered = false;

/**
 * Registers the xds: scheme with grpc-js, loading grpc-js-xds on first use only: it loads
 * Envoy's protos (a few hundred ms) that no other target needs. Synchronous, since
 * channels are opened synchronously; grpc-js-xds is CommonJS and finds the same grpc-js.
 */
export function registerXds(): void {
  if (registered) return;
  let xds: { register(): void };
  try {
    xds = createRequire(import.meta.url)(XDS_PACKAGE) as { register(): void };
  } catch (e) {
    if ((e as { code?: unknown }).code === "MODULE_NOT_FOUND")
      throw new LoadError(
        `an xds: target needs the package ${XDS_PACKAGE}, which is not installed: npm install ${XDS_PACKAGE}@1.14.1`,
        { cause: e },
      );
    throw errorFrom(LoadError, e, `cannot load ${XDS_PACKAGE}`);
  }
  xds.register();
  registered = true;
}

/** The channel options that point an xds: target at the xDS server `server` (host:port). */
export function xdsChannelOptions(server: string | undefined, target: string): ChannelOptions {
  if (server === undefined)
    throw new LoadError(`${target} is resolved by xDS: name the xDS server (--xds-server HOST:PORT)`);
  registerXds();
  return { [BOOTSTRAP_OPTION]: JSON.stringify(xdsBootstrap(server)) };
}
