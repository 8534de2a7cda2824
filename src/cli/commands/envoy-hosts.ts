import { EnvoyAdmin } from "../../envoy/admin.js";
import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { formatHostsTable } from "../../envoy/hosts-table.js";
import { EnvoyError, messageOf, UsageError } from "../../errors.js";
import { pollEnvoyHosts } from "../../routing/wait-hosts.js";
import { formatHostPort } from "../../util/address.js";
import { type Command, hostPortFlag, intFlag, parseFlags } from "../args.js";
import { CLIENT_TLS_FLAGS, CLIENT_TLS_USAGE, clientTlsOf } from "../tls-flags.js";

export const envoyHostsCommand: Command = {
  name: "envoy-hosts",
  summary: "wait until a running Envoy's load balancer routes to N healthy servers",
  usage: `Usage: grpc-lb envoy-hosts --admin HOST:PORT --listener HOST:PORT --count N [options]

Waits until the Envoy whose admin API is at --admin routes the calls of its
gRPC listener to exactly --count healthy hosts of cluster '${CLUSTER_NAME}', then prints them.
/clusters shows a host's health at once, but Envoy's load balancer takes it only
when its update merge window closes: so once /clusters lists --count healthy
hosts, calls through --listener (3 per host, on one connection) must be
answered by exactly those hosts. The servers must be grpc-lb's Echo servers,
whose replies name the address Envoy knows them by. Exit 0 once they are, 1
when --wait-ms runs out.

Options:
  --admin HOST:PORT     Envoy's admin API (required)
  --listener HOST:PORT  Envoy's gRPC listener in front of the Echo servers (required)
  --count N             how many healthy hosts to wait for (required, at least 1)
  --wait-ms MS          how long to wait (default 60000)
  -h, --help            show this help

The calls through --listener speak ${CLIENT_TLS_USAGE}
`,
  async run(argv, ctx) {
    const { values } = parseFlags("envoy-hosts", argv, {
      admin: { type: "string" },
      listener: { type: "string" },
      count: { type: "string" },
      "wait-ms": { type: "string" },
      ...CLIENT_TLS_FLAGS,
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const required = <T>(name: string, v: T | undefined): T => {
      if (v === undefined) throw new UsageError(`grpc-lb envoy-hosts: --${name} is required (see --help)`);
      return v;
    };
    const admin = required("admin", hostPortFlag("envoy-hosts", "admin", values.admin));
    const listener = required("listener", hostPortFlag("envoy-hosts", "listener", values.listener));
    const count = required("count", intFlag("envoy-hosts", "count", values.count, { min: 1, max: 100_000 }));
    const waitMs = intFlag("envoy-hosts", "wait-ms", values["wait-ms"], { min: 1, max: 3_600_000 }) ?? 60_000;
    const tls = clientTlsOf("envoy-hosts", values);
    const envoy = new EnvoyAdmin(formatHostPort(admin.host, admin.port));
    const t0 = performance.now();
    try {
      await pollEnvoyHosts(
        () => envoy,
        `Envoy to route to ${count} healthy hosts of cluster '${CLUSTER_NAME}'`,
        (hs) => (hs.length === count && hs.every((h) => h.healthy) ? true : undefined),
        {
          timeoutMs: waitMs,
          intervalMs: 100,
          signal: ctx.signal,
          listener: formatHostPort(listener.host, listener.port),
          tls,
        },
      );
      const ms = Math.round(performance.now() - t0);
      // Read again: the counts then include the calls that confirmed the routing.
      const hosts = await envoy.clusterHosts(CLUSTER_NAME);
      ctx.stdout(
        formatHostsTable(
          `Envoy routes to ${hosts.length} healthy host(s) of cluster '${CLUSTER_NAME}' (${ms} ms)`,
          hosts,
        ),
      );
      return 0;
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      throw new EnvoyError(messageOf(e), { cause: e });
    }
  },
};
