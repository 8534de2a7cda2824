import { UsageError } from "../errors.js";
import { isXdsTarget } from "../grpc/xds-channel.js";
import { formatHostPort } from "../util/address.js";
import { hostPortFlag } from "./args.js";

/** The help lines of --xds-server, beside --target's. */
export const XDS_USAGE = `  --xds-server HOST:PORT    with xds:///NAME: the xDS server (ADS) of proxyless gRPC by
                            grpc-js-xds, e.g. the one lab up --discovery xds prints`;

/**
 * An xds: target and its xDS server, checked: xds:///NAME with --xds-server HOST:PORT, and
 * no flag of DNS targets (the policy comes from the xDS Cluster). Undefined server for any
 * other target, which must then come without --xds-server.
 */
export function xdsTargetOf(
  command: string,
  target: string,
  v: { xdsServer: string | undefined; dnsServer: string | undefined; lb: string | undefined },
): string | undefined {
  if (!isXdsTarget(target)) {
    if (v.xdsServer !== undefined)
      throw new UsageError(`grpc-lb ${command}: --xds-server needs an xds:///NAME target, got '${target}'`);
    return undefined;
  }
  if (!/^xds:\/\/\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(target))
    throw new UsageError(
      `grpc-lb ${command}: an xDS target is xds:///NAME (NAME the Listener the xDS server serves, 'server' in the lab), got '${target}'`,
    );
  if (v.dnsServer !== undefined || v.lb !== undefined)
    throw new UsageError(
      `grpc-lb ${command}: --dns-server and --lb are for dns:/// targets; with ${target} the xDS server says where calls go and how they are balanced`,
    );
  if (v.xdsServer === undefined)
    throw new UsageError(
      `grpc-lb ${command}: ${target} needs --xds-server HOST:PORT (lab up --discovery xds prints its xDS server)`,
    );
  const hp = hostPortFlag(command, "xds-server", v.xdsServer);
  return formatHostPort(hp?.host ?? "", hp?.port ?? 0);
}
