import { LB_POLICIES } from "../../../envoy/options.js";
import { UsageError } from "../../../errors.js";
import {
  DEFAULT_VIRTUAL_IP,
  type LabOptions,
  MAX_LAB_ENVOYS,
  MAX_LAB_SERVERS,
} from "../../../lab/options.js";
import { TOPOLOGY_KINDS } from "../../../lab/topologies/topology.js";
import { choiceFlag, intFlag } from "../../args.js";

/** The flags that shape the cluster, for the subcommands that take them. */
export const CLUSTER_FLAGS = {
  servers: { type: "string" },
  envoys: { type: "string" },
  policy: { type: "string" },
  discovery: { type: "string" },
  "listen-port": { type: "string" },
  "admin-port": { type: "string" },
  "server-port": { type: "string" },
  "dns-refresh-ms": { type: "string" },
  "envoy-concurrency": { type: "string" },
  "slow-server": { type: "string" },
  "fail-server": { type: "string" },
  "max-connection-age-ms": { type: "string" },
  tls: { type: "boolean" },
  mtls: { type: "boolean" },
} as const;

export const CLUSTER_FLAGS_USAGE = `  --servers N            number of servers, 1-${MAX_LAB_SERVERS} (default 3)
  --envoys N             Envoy replicas, 1-${MAX_LAB_ENVOYS} (default 1); above 1, a connection
                         balancer (Envoy tcp_proxy, as a ClusterIP Service in front of an
                         Envoy Deployment) takes --listen-port and gives each new client
                         connection to the next Envoy whose /ready answers 200
  --policy P             ${LB_POLICIES.join(" | ")} (default round_robin)
  --discovery D          headless (or dns): DNS answers 'server' with every server's
                         address, as a compose service or a headless Service (default);
                         clusterip: DNS answers one virtual IP (${DEFAULT_VIRTUAL_IP}) behind
                         a connection balancer (Envoy tcp_proxy standing in for
                         kube-proxy), as a ClusterIP Service: one server gets everything;
                         xds: an xDS server follows the servers and pushes them to Envoy
                         by EDS: a server takes calls once ready, none from its SIGTERM
  --listen-port PORT     Envoy's gRPC listener on 127.0.0.1 (default: any free port)
  --admin-port PORT      Envoy's admin API on 127.0.0.1 (default: any free port)
  --server-port PORT     port all servers share (default: any free port)
  --dns-refresh-ms MS    how often Envoy re-resolves 'server' (default 1000)
  --envoy-concurrency N  Envoy's worker threads (its --concurrency; default 2)
  --slow-server MS       server 1 pauses MS before every reply: one slow backend (default 0)
  --fail-server RATE     server 1 fails this fraction (0-1) of calls with UNAVAILABLE (default 0)
  --max-connection-age-ms MS
                         servers close connections older than MS, so clients behind an
                         L4 balancer reconnect and spread again (default 0: never)
  --tls                  TLS on both legs (client → Envoy, Envoy → servers and its health
                         checks), with certificates the lab makes; clients trust its CA
  --mtls                 with --tls: servers also require Envoy's client certificate`;

type ClusterFlagValues = {
  [K in keyof typeof CLUSTER_FLAGS]?:
    | ((typeof CLUSTER_FLAGS)[K]["type"] extends "boolean" ? boolean : string)
    | undefined;
};

/** The cluster flags as lab options; absent flags leave the lab's defaults (or `ports`) in place. */
export function clusterOptions(
  command: string,
  v: ClusterFlagValues,
  ports: { listenPort: number; adminPort: number } = { listenPort: 0, adminPort: 0 },
): LabOptions {
  const port = (name: string, value: string | undefined) =>
    intFlag(command, name, value, { min: 0, max: 65535 });
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
  if (v.mtls && !v.tls) throw new UsageError(`grpc-lb ${command}: --mtls needs --tls`);
  return defined({
    tls: v.tls ? (v.mtls ? "mtls" : "tls") : undefined,
    servers: intFlag(command, "servers", v.servers, { min: 1, max: MAX_LAB_SERVERS }),
    envoys: intFlag(command, "envoys", v.envoys, { min: 1, max: MAX_LAB_ENVOYS }),
    // "dns" is the default's other name: DNS discovery beside xds.
    topology: choiceFlag(
      command,
      "discovery",
      v.discovery === "dns" ? "headless" : v.discovery,
      TOPOLOGY_KINDS,
    ),
    serverPort: port("server-port", v["server-port"]),
    maxConnectionAgeMs: intFlag(command, "max-connection-age-ms", v["max-connection-age-ms"], {
      min: 0,
      max: 86_400_000,
    }),
    firstServerFaults: defined({
      delayMs: intFlag(command, "slow-server", v["slow-server"], { min: 0, max: 60_000 }),
      failRate: rateFlag(command, "fail-server", v["fail-server"]),
    }),
    envoy: defined({
      policy: choiceFlag(command, "policy", v.policy, LB_POLICIES),
      listenPort: port("listen-port", v["listen-port"]) ?? ports.listenPort,
      adminPort: port("admin-port", v["admin-port"]) ?? ports.adminPort,
      dnsRefreshMs: intFlag(command, "dns-refresh-ms", v["dns-refresh-ms"], { min: 1, max: 3_600_000 }),
      concurrency: intFlag(command, "envoy-concurrency", v["envoy-concurrency"], { min: 1, max: 64 }),
    }),
  });
}

/** A fraction flag (0-1): undefined when absent. */
function rateFlag(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`grpc-lb ${command}: --${name} must be a number from 0 to 1, got '${value}'`);
  return n;
}
