import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { isCtrlC, UsageError } from "../../errors.js";
import { formatXdsEvent } from "../../xds/events.js";
import { formatK8sSourceEvent, startK8sSource } from "../../xds/k8s-source.js";
import { SERVICE_ACCOUNT_DIR } from "../../xds/k8s-source-api.js";
import { startXdsServer } from "../../xds/server.js";
import type { XdsSource } from "../../xds/source.js";
import { formatFileSourceEvent, startFileSource } from "../../xds/sources/file.js";
import { EndpointList } from "../../xds/sources/list.js";
import { type Command, choiceFlag, hostPortFlag, intFlag, parseFlags } from "../args.js";

/** The port xDS control planes commonly serve ADS on (go-control-plane's examples, Contour's). */
export const DEFAULT_XDS_PORT = 18000;
export const DEFAULT_XDS_METRICS_PORT = 18001;
const SOURCES = ["k8s", "static", "file"] as const;
type SourceKind = (typeof SOURCES)[number];
/** The flags that belong to one source only. */
const SOURCE_FLAGS = {
  k8s: ["namespace", "port-name", "api-url"],
  static: ["endpoint"],
  file: ["endpoints-file"],
} as const satisfies Record<SourceKind, readonly string[]>;
type SourceFlag = (typeof SOURCE_FLAGS)[SourceKind][number];
type SourceValues = { [F in SourceFlag]?: F extends "endpoint" ? string[] : string };

export const xdsServerCommand: Command = {
  name: "xds-server",
  summary:
    "run the xDS (ADS) server for one service, fed by Kubernetes EndpointSlices, a fixed list or a file",
  usage: `Usage: grpc-lb xds-server --source k8s|static|file [options]

Serves a Listener, a RouteConfiguration, a Cluster and a ClusterLoadAssignment
named after --service over ADS (xDS v3, state of the world), to Envoy (EDS) and
to gRPC's xDS clients (xds:///SERVICE). It listens only once its source has the
full list, so a replica that is not yet synced takes no client.

Options:
  --source k8s|static|file  k8s: the EndpointSlices of the Service --service in
                            --namespace, listed then watched (ready → HEALTHY,
                            serving and terminating → DRAINING, otherwise removed);
                            static: the --endpoint list, all HEALTHY;
                            file: the --endpoints-file, read then followed
  --service NAME            the Service and the resources' name (default server)
  --namespace NS            the Service's namespace (k8s; default: the pod's own)
  --port-name NAME          the Service port whose endpoints are served (k8s; default grpc)
  --api-url URL             reach the API server there (e.g. kubectl proxy's
                            http://127.0.0.1:8001) instead of with the pod's ServiceAccount
  --endpoint IP:PORT        a server (static; repeat it)
  --endpoints-file PATH     a JSON file of the servers (file), looked at every 250 ms:
                            {"endpoints": [{"address": "10.0.0.7", "port": 50051},
                              {"address": "10.0.0.8", "port": 50051, "health": "DRAINING"}]}
                            address an IP, port 1-65535, health HEALTHY (default) or
                            DRAINING, no other key. Replace it by a rename (write a
                            temporary file, then mv): a bad or half-written update is
                            logged and the last good list kept. Missing or bad at the
                            start: exit 2
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
      "endpoints-file": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "metrics-port": { type: "string" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const kind = choiceFlag("xds-server", "source", values.source, SOURCES);
    if (kind === undefined) throw new UsageError("grpc-lb xds-server: --source k8s|static|file is required");
    const service = values.service ?? "server";
    const log = (line: string | undefined): void => {
      if (line !== undefined) ctx.stderr(`${line}\n`);
    };
    const port = intFlag("xds-server", "port", values.port, { min: 0, max: 65535 }) ?? DEFAULT_XDS_PORT;
    const metricsPort =
      intFlag("xds-server", "metrics-port", values["metrics-port"], { min: 0, max: 65535 }) ??
      DEFAULT_XDS_METRICS_PORT;

    const { source, stop: stopSource } = await openSource(kind, values, service, log, ctx.signal);
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

interface OpenSource {
  source: XdsSource;
  stop(): Promise<void>;
}

/** The source --source names, synced (it has its first full list); flags of another source are a usage error. */
async function openSource(
  kind: SourceKind,
  values: SourceValues,
  service: string,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<OpenSource> {
  for (const [other, flags] of Object.entries(SOURCE_FLAGS))
    for (const flag of other === kind ? [] : flags)
      if (values[flag] !== undefined)
        throw new UsageError(`grpc-lb xds-server: --${flag} goes with --source ${other}`);
  switch (kind) {
    case "static": {
      const list = new EndpointList("a fixed list (--endpoint)");
      list.set((values.endpoint ?? []).map((e) => staticEndpoint(e)));
      return { source: list, stop: async () => {} };
    }
    case "file": {
      const path = values["endpoints-file"];
      if (path === undefined)
        throw new UsageError("grpc-lb xds-server: --source file needs --endpoints-file PATH");
      const file = await startFileSource({ path, onEvent: (e) => log(formatFileSourceEvent(e)) });
      return { source: file.source, stop: async () => file.stop() };
    }
    case "k8s": {
      const k8s = await startK8sSource({
        namespace: values.namespace ?? (await podNamespace()),
        service,
        ...(values["port-name"] === undefined ? {} : { portName: values["port-name"] }),
        ...(values["api-url"] === undefined
          ? {}
          : { access: { kind: "url" as const, url: values["api-url"] } }),
        onEvent: (e) => log(formatK8sSourceEvent(e)),
      });
      try {
        await k8s.synced(signal);
      } catch (e) {
        await k8s.stop();
        throw e;
      }
      return { source: k8s.source, stop: () => k8s.stop() };
    }
  }
}

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
