import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { isCtrlC, UsageError } from "../../errors.js";
import { formatXdsEvent } from "../../xds/events.js";
import { formatK8sSourceEvent, startK8sSource } from "../../xds/k8s-source.js";
import { SERVICE_ACCOUNT_DIR } from "../../xds/k8s-source-api.js";
import { startXdsServer } from "../../xds/server.js";
import type { XdsSource } from "../../xds/source.js";
import { EndpointList } from "../../xds/sources/list.js";
import { type Command, choiceFlag, hostPortFlag, intFlag, parseFlags } from "../args.js";

/** The port xDS control planes commonly serve ADS on (go-control-plane's examples, Contour's). */
export const DEFAULT_XDS_PORT = 18000;
export const DEFAULT_XDS_METRICS_PORT = 18001;
const SOURCES = ["k8s", "static"] as const;

export const xdsServerCommand: Command = {
  name: "xds-server",
  summary: "run the xDS (ADS) server for one service, fed by Kubernetes EndpointSlices or a fixed list",
  usage: `Usage: grpc-lb xds-server --source k8s|static [options]

Serves a Listener, a RouteConfiguration, a Cluster and a ClusterLoadAssignment
named after --service over ADS (xDS v3, state of the world), to Envoy (EDS) and
to gRPC's xDS clients (xds:///SERVICE). It listens only once its source has the
full list, so a replica that is not yet synced takes no client.

Options:
  --source k8s|static       k8s: the EndpointSlices of the Service --service in
                            --namespace, listed then watched (ready → HEALTHY,
                            serving and terminating → DRAINING, otherwise removed);
                            static: the --endpoint list, all HEALTHY
  --service NAME            the Service and the resources' name (default server)
  --namespace NS            the Service's namespace (k8s; default: the pod's own)
  --port-name NAME          the Service port whose endpoints are served (k8s; default grpc)
  --api-url URL             reach the API server there (e.g. kubectl proxy's
                            http://127.0.0.1:8001) instead of with the pod's ServiceAccount
  --endpoint IP:PORT        a server (static; repeat it)
  --host HOST               address to bind (default 127.0.0.1; 0.0.0.0 in containers)
  --port PORT               ADS port, 0 for any free one (default ${DEFAULT_XDS_PORT})
  --metrics-port PORT       Prometheus /metrics (what was pushed to whom, NACKs) on --host
                            (default ${DEFAULT_XDS_METRICS_PORT})
  -h, --help                show this help

Once listening it prints one JSON line on stdout:
  {"event":"ready","address":"HOST:PORT","metricsAddress":"HOST:PORT","source":"…","endpoints":N,"pid":…}
then one log line per push, NACK and source change on stderr. On SIGTERM or
Ctrl-C it ends every stream (clients keep their last configuration) and exits.
`,
  async run(argv, ctx) {
    const { values } = parseFlags("xds-server", argv, {
      source: { type: "string" },
      service: { type: "string" },
      namespace: { type: "string" },
      "port-name": { type: "string" },
      "api-url": { type: "string" },
      endpoint: { type: "string", multiple: true },
      host: { type: "string" },
      port: { type: "string" },
      "metrics-port": { type: "string" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const kind = choiceFlag("xds-server", "source", values.source, SOURCES);
    if (kind === undefined) throw new UsageError("grpc-lb xds-server: --source k8s|static is required");
    const service = values.service ?? "server";
    const log = (line: string | undefined): void => {
      if (line !== undefined) ctx.stderr(`${line}\n`);
    };
    const port = intFlag("xds-server", "port", values.port, { min: 0, max: 65535 }) ?? DEFAULT_XDS_PORT;
    const metricsPort =
      intFlag("xds-server", "metrics-port", values["metrics-port"], { min: 0, max: 65535 }) ??
      DEFAULT_XDS_METRICS_PORT;

    let source: XdsSource;
    let stopSource = async (): Promise<void> => {};
    if (kind === "static") {
      if (values.namespace ?? values["api-url"] ?? values["port-name"])
        throw new UsageError(
          "grpc-lb xds-server: --namespace, --port-name and --api-url go with --source k8s",
        );
      const list = new EndpointList("a fixed list (--endpoint)");
      list.set((values.endpoint ?? []).map((e) => staticEndpoint(e)));
      source = list;
    } else {
      if (values.endpoint !== undefined)
        throw new UsageError("grpc-lb xds-server: --endpoint goes with --source static");
      const k8s = await startK8sSource({
        namespace: values.namespace ?? (await podNamespace()),
        service,
        ...(values["port-name"] === undefined ? {} : { portName: values["port-name"] }),
        ...(values["api-url"] === undefined
          ? {}
          : { access: { kind: "url" as const, url: values["api-url"] } }),
        onEvent: (e) => log(formatK8sSourceEvent(e)),
      });
      stopSource = () => k8s.stop();
      source = k8s.source;
      try {
        await k8s.synced(ctx.signal);
      } catch (e) {
        await stopSource();
        throw e;
      }
    }
    let server: Awaited<ReturnType<typeof startXdsServer>>;
    try {
      server = await startXdsServer(source, {
        host: values.host ?? "127.0.0.1",
        port,
        metricsPort,
        service,
        onEvent: (e) => log(formatXdsEvent(e)),
      });
    } catch (e) {
      await stopSource();
      throw e;
    }
    ctx.stdout(
      `${JSON.stringify({ event: "ready", address: server.address, metricsAddress: server.metricsAddress, source: source.describe, endpoints: source.current()?.length ?? 0, pid: process.pid })}\n`,
    );
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.stop();
    await stopSource();
    return isCtrlC(ctx.signal) ? 130 : 0;
  },
};

function staticEndpoint(text: string) {
  const hp = hostPortFlag("xds-server", "endpoint", text);
  if (hp === undefined || isIP(hp.host) === 0)
    throw new UsageError(
      `grpc-lb xds-server: --endpoint must be IP:PORT (gRPC's xDS clients take no names), got '${text}'`,
    );
  return { address: hp.host, port: hp.port, health: "HEALTHY" as const };
}

/** The namespace of the pod this runs in, as its ServiceAccount volume says. */
async function podNamespace(): Promise<string> {
  try {
    return (await readFile(`${SERVICE_ACCOUNT_DIR}/namespace`, "utf8")).trim();
  } catch {
    throw new UsageError("grpc-lb xds-server: --namespace is needed outside a pod");
  }
}
