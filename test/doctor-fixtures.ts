import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { type ClusterView, type Json, readEnvoy } from "../src/doctor/envoy-view.js";
import { type FixTarget, mergePatch } from "../src/doctor/finding.js";
import { type EnvoyHandle, startEnvoy } from "../src/envoy/process.js";
import { waitFor } from "../src/util/wait.js";

/**
 * One check's pair of Envoy configurations: `bad` changes the lab's own configuration so the
 * check fires; the good one is the bad one with the fix doctor printed merged in (or `good`,
 * for fixes outside Envoy). Names a fixture resolves: 'server' (3 servers), 'one' (1),
 * 'empty' (no record), 'partial' (2 servers and an address nobody serves).
 */
export interface DoctorFixture {
  check: string;
  severity: "error" | "warning" | "info";
  /** Changes the lab's configuration; `servers` are the lab's 3 server addresses. */
  bad(b: Json, servers: readonly string[]): void;
  /** The configuration that must not trip the check, when the printed fix is not Envoy's. */
  good?(b: Json): void;
  /** Send live calls through the listener too. */
  live?: boolean;
  /** Hosts cluster 'server' settles on with the bad configuration. Default 3. */
  badHosts?: number;
}

const asJson = (v: unknown): Json => v as Json;
/** The object at a path of keys and array indexes. */
const dig = (o: Json, ...path: (string | number)[]): Json =>
  path.reduce<Json>((cur, k) => asJson((cur as Record<string | number, unknown>)[k]), o);
export const clusterOf = (b: Json): Json => dig(b, "static_resources", "clusters", 0);
export const managerOf = (b: Json): Json =>
  dig(b, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config");
export const chainOf = (b: Json): Json => dig(b, "static_resources", "listeners", 0, "filter_chains", 0);
export const routeOf = (b: Json): Json =>
  dig(managerOf(b), "route_config", "virtual_hosts", 0, "routes", 0, "route");
export const dnsOf = (b: Json): Json => dig(clusterOf(b), "cluster_type", "typed_config");
const endpointOf = (b: Json): Json =>
  dig(
    clusterOf(b),
    "load_assignment",
    "endpoints",
    0,
    "lb_endpoints",
    0,
    "endpoint",
    "address",
    "socket_address",
  );

const set = (o: Json, key: string, value: unknown): void => {
  o[key] = value;
};

/** Merges a fix into the bootstrap at its target (the lab's config has one listener, route and cluster). */
export function applyFix(b: Json, target: FixTarget, patch: Json): void {
  const into = targetOf(b, target);
  Object.assign(into, mergePatch(into, patch));
}

function targetOf(b: Json, target: FixTarget): Json {
  switch (target.kind) {
    case "cluster":
      return clusterOf(b);
    case "route":
      return routeOf(b);
    case "manager":
      return managerOf(b);
    case "filter-chain":
      return chainOf(b);
    case "admin":
      return asJson(b.admin);
    case "outside":
      throw new Error("a fix outside Envoy cannot be applied to its configuration");
  }
}

/**
 * Runs an Envoy on a fixture's `bootstrap` in a new directory under `root`, waits up to
 * `settleMs` until `settled` holds for its cluster 'server', hands it to `use`, and stops it.
 */
export async function withFixtureEnvoy<T>(
  o: {
    binary: string;
    root: string;
    name: string;
    bootstrap: Json;
    settleMs: number;
    settled: (server: ClusterView | undefined) => boolean;
  },
  use: (envoy: EnvoyHandle) => Promise<T>,
): Promise<T> {
  const workDir = await mkdtemp(join(o.root, `${o.name}-`));
  let envoy: EnvoyHandle | undefined;
  try {
    envoy = await startEnvoy({
      binary: o.binary,
      bootstrap: o.bootstrap as never,
      workDir,
      concurrency: 1,
      logLevel: "error",
      startTimeoutMs: 15_000,
      name: o.name,
    });
    const admin = envoy.admin;
    await waitFor(
      `cluster 'server' of ${o.name} to settle`,
      async () => (o.settled((await readEnvoy(admin)).clusters.get("server")) ? true : undefined),
      { timeoutMs: o.settleMs },
    );
    return await use(envoy);
  } finally {
    await envoy?.stop();
  }
}

export const FIXTURES: DoctorFixture[] = [
  {
    check: "logical-dns",
    severity: "error",
    bad: (b) => set(dnsOf(b), "all_addresses_in_single_endpoint", true),
    badHosts: 1,
  },
  {
    check: "original-dst",
    severity: "warning",
    bad(b) {
      const c = clusterOf(b);
      for (const k of ["cluster_type", "load_assignment", "health_checks", "ignore_health_on_host_removal"])
        delete c[k];
      c.type = "ORIGINAL_DST";
      c.lb_policy = "CLUSTER_PROVIDED";
    },
    good: () => {},
    badHosts: 0,
  },
  {
    check: "no-hosts",
    severity: "error",
    bad: (b) => set(endpointOf(b), "address", "empty"),
    good: () => {},
    badHosts: 0,
  },
  {
    check: "one-host",
    severity: "warning",
    bad: (b) => set(endpointOf(b), "address", "one"),
    good: () => {},
    badHosts: 1,
  },
  {
    check: "no-http2",
    severity: "error",
    // Envoy refuses gRPC health checks without HTTP/2, so this cluster has none.
    bad(b) {
      for (const k of ["typed_extension_protocol_options", "health_checks", "ignore_health_on_host_removal"])
        delete clusterOf(b)[k];
    },
    live: true,
  },
  {
    check: "hash-without-key",
    severity: "warning",
    bad: (b) => set(clusterOf(b), "lb_policy", "RING_HASH"),
  },
  {
    check: "dns-refresh-slow",
    severity: "warning",
    bad: (b) => set(dnsOf(b), "dns_refresh_rate", "30s"),
  },
  {
    check: "dns-respect-ttl",
    severity: "warning",
    bad: (b) => set(dnsOf(b), "respect_dns_ttl", true),
  },
  {
    check: "outlier-5xx",
    severity: "warning",
    bad: (b) => void delete asJson(clusterOf(b).outlier_detection).enforcing_consecutive_5xx,
  },
  {
    check: "no-health-check",
    severity: "warning",
    bad: (b) => void delete clusterOf(b).health_checks,
  },
  {
    check: "http-health-check",
    severity: "warning",
    bad(b) {
      const hc = asJson((clusterOf(b).health_checks as Json[])[0]);
      delete hc.grpc_health_check;
      hc.http_health_check = { path: "/healthz" };
    },
  },
  {
    check: "health-without-host-removal",
    severity: "warning",
    bad: (b) => void delete clusterOf(b).ignore_health_on_host_removal,
  },
  {
    check: "panic-hides-ejection",
    severity: "warning",
    bad: (b) => set(asJson(clusterOf(b).outlier_detection), "max_ejection_percent", 100),
  },
  {
    check: "hosts-unhealthy",
    severity: "warning",
    bad: (b) => set(endpointOf(b), "address", "partial"),
    good: () => {},
  },
  {
    check: "no-retry",
    severity: "warning",
    bad: (b) => void delete routeOf(b).retry_policy,
  },
  {
    check: "retry-no-per-try-timeout",
    severity: "warning",
    bad: (b) => void delete asJson(routeOf(b).retry_policy).per_try_timeout,
  },
  {
    check: "retry-no-budget",
    severity: "warning",
    bad: (b) => void delete clusterOf(b).circuit_breakers,
  },
  {
    check: "route-timeout",
    severity: "warning",
    bad: (b) => void delete routeOf(b).timeout,
  },
  {
    check: "route-idle-timeout",
    severity: "warning",
    bad: (b) => set(routeOf(b), "idle_timeout", "10s"),
  },
  {
    check: "stream-idle-timeout",
    severity: "warning",
    bad: (b) => set(managerOf(b), "stream_idle_timeout", "10s"),
  },
  {
    check: "max-stream-duration",
    severity: "info",
    bad: (b) => set(asJson(routeOf(b).max_stream_duration), "max_stream_duration", "30s"),
  },
  {
    check: "no-max-connection-duration",
    severity: "info",
    bad: (b) => void delete asJson(managerOf(b).common_http_protocol_options ?? {}).max_connection_duration,
  },
  {
    check: "admin-exposed",
    severity: "error",
    bad: (b) => set(asJson(asJson(asJson(b.admin).address).socket_address), "address", "0.0.0.0"),
  },
  {
    check: "live-unreached",
    severity: "error",
    // Every call comes from 127.0.0.1: hashing the source address sends them all to one host.
    bad(b) {
      clusterOf(b).lb_policy = "RING_HASH";
      routeOf(b).hash_policy = [{ connection_properties: { source_ip: true } }];
    },
    good: () => {},
    live: true,
  },
  {
    check: "live-imbalance",
    severity: "warning",
    // Weights 1, 1, 4 under round robin: 10/10/40 of 60 calls.
    bad(b, servers) {
      const c = clusterOf(b);
      const port = endpointOf(b).port_value;
      delete c.cluster_type;
      c.type = "STATIC";
      c.load_assignment = {
        cluster_name: "server",
        endpoints: [
          {
            lb_endpoints: servers.map((address, i) => ({
              endpoint: { address: { socket_address: { address, port_value: port } } },
              load_balancing_weight: i === 2 ? 4 : 1,
            })),
          },
        ],
      };
      delete c.ignore_health_on_host_removal;
    },
    good: () => {},
    live: true,
  },
];

/**
 * The seed's minimal configuration: STRICT_DNS on 'server', round robin, HTTP/2 to the servers and
 * nothing more; its admin, DNS resolver and server port are taken from the lab's `lab0`.
 */
export function seedMinimal(lab0: Json): Json {
  const resolver = dnsOf(lab0).typed_dns_resolver_config;
  return {
    admin: lab0.admin,
    static_resources: {
      listeners: [
        {
          name: "grpc",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "grpc",
                    route_config: {
                      virtual_hosts: [
                        {
                          name: "all",
                          domains: ["*"],
                          routes: [{ match: { prefix: "/" }, route: { cluster: "server" } }],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: "envoy.filters.http.router",
                        typed_config: {
                          "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: "server",
          type: "STRICT_DNS",
          lb_policy: "ROUND_ROBIN",
          typed_dns_resolver_config: resolver,
          load_assignment: {
            cluster_name: "server",
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: {
                        socket_address: { address: "server", port_value: endpointOf(lab0).port_value },
                      },
                    },
                  },
                ],
              },
            ],
          },
          typed_extension_protocol_options: {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        },
      ],
    },
  };
}
