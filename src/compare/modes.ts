import type { LbPolicy } from "../envoy/options.js";
import { LabError } from "../errors.js";
import { type LabCluster, SERVER_NAME } from "../lab/cluster.js";
import { DEFAULT_VIRTUAL_IP, type LabOptions } from "../lab/options.js";
import type { EngineOptions } from "../loadgen/engine.js";
import { PEER_KINDS, type PeerKind } from "../peers/options.js";
import { formatHostPort } from "../util/address.js";

/**
 * One way of balancing the same workload. l4: clients connect to the
 * ClusterIP stand-in's virtual IP, which picks a server per connection (as
 * kube-proxy does for a pod calling a Service). l4-max-age: the same, with the
 * servers closing connections after an age so clients reconnect and land
 * elsewhere. envoy: Envoy picks a server per call by its policy. client: grpc-js
 * resolves the name through the lab's DNS and picks a server per call itself.
 * haproxy, nginx: the peer proxy (Debian's package) where Envoy would be, in its own idiom.
 * eds: Envoy as in envoy, its hosts pushed by the lab's xDS server instead of resolved by DNS.
 * proxyless: grpc-js-xds takes the same xDS server's endpoints and picks a server per call itself.
 */
export type CompareMode =
  | { kind: "l4" }
  | { kind: "l4-max-age"; maxConnectionAgeMs: number }
  | { kind: "envoy"; policy: LbPolicy }
  | { kind: "client"; lb: "round_robin" }
  | { kind: "peer"; peer: PeerKind }
  | { kind: "eds"; policy: "round_robin" }
  | { kind: "proxyless"; lb: "round_robin" };

/** The modes whose layer is Envoy's lab (the others run on a peer's lab, see mode-lab.ts). */
export type LabCompareMode = Exclude<CompareMode, { kind: "peer" }>;

/** The hash header and key space the hash policies get: keys spread over calls, each key sticking to one host. */
export const HASH_KEYS = { header: "x-hash-key", space: 100 } as const;

export function modeName(m: CompareMode): string {
  switch (m.kind) {
    case "l4":
      return "l4";
    case "l4-max-age":
      return "l4-max-age";
    case "envoy":
      return `envoy-${m.policy}`;
    case "client":
      return `client-${m.lb}`;
    case "peer":
      return m.peer;
    case "eds":
      return `eds-${m.policy}`;
    case "proxyless":
      return `proxyless-${m.lb}`;
  }
}

export function describeMode(m: CompareMode): string {
  switch (m.kind) {
    case "l4":
      return "ClusterIP stand-in (tcp_proxy): one server per connection";
    case "l4-max-age":
      return `ClusterIP stand-in, servers close connections after ${m.maxConnectionAgeMs} ms`;
    case "envoy":
      return `Envoy ${m.policy}${m.policy === "ring_hash" || m.policy === "maglev" ? ` on ${HASH_KEYS.header} (${HASH_KEYS.space} keys)` : ""}`;
    case "client":
      return `grpc-js ${m.lb} over the lab's DNS (dns:/// target)`;
    case "peer":
      return m.peer === "haproxy"
        ? "HAProxy roundrobin, servers from the lab's DNS at run time (server-template)"
        : "nginx grpc_pass round robin, servers as DNS gave them at start";
    case "eds":
      return `Envoy ${m.policy}, servers by EDS from the lab's xDS server`;
    case "proxyless":
      return `grpc-js-xds ${m.lb}, servers by xDS from the lab's xDS server (xds:/// target)`;
  }
}

/** The lab options a mode needs, over the workload's. */
export function modeLabOptions(m: CompareMode): LabOptions {
  if (m.kind === "peer") return { topology: "headless" };
  switch (m.kind) {
    case "l4":
      return { topology: "clusterip" };
    case "l4-max-age":
      return { topology: "clusterip", maxConnectionAgeMs: m.maxConnectionAgeMs };
    case "envoy":
      return { topology: "headless", envoy: { policy: m.policy, hashHeader: HASH_KEYS.header } };
    case "client":
      return { topology: "headless" };
    case "eds":
      return { topology: "xds", envoy: { policy: m.policy } };
    case "proxyless":
      return { topology: "xds" };
  }
}

/**
 * Whether the mode runs over the lab's TLS: only through Envoy's listener, whose certificate
 * names the client's target. L4 and client-side clients reach the servers themselves.
 */
export const speaksTls = (m: CompareMode): boolean => m.kind === "envoy";

/** What balances in the mode: the process(es) whose CPU is counted. */
export function balancerOf(m: CompareMode): string {
  switch (m.kind) {
    case "envoy":
      return "Envoy";
    case "client":
      return "the client process (grpc-js balances in it)";
    case "eds":
      return "Envoy";
    case "proxyless":
      return "the client process (grpc-js-xds balances in it; the lab's xDS server runs there too)";
    case "l4":
    case "l4-max-age":
      return "the kube-proxy stand-in (Envoy tcp_proxy)";
    case "peer":
      return m.peer === "haproxy" ? "HAProxy" : "nginx (master and workers)";
  }
}

/** Where a mode's clients connect, and how. */
export type ModeTarget = Pick<EngineOptions, "target" | "lb" | "hashKey" | "tls" | "xdsServer">;

/** Where the mode's clients connect, and how. */
export function modeTarget(m: LabCompareMode, lab: LabCluster): ModeTarget {
  switch (m.kind) {
    case "l4":
    case "l4-max-age":
      return { target: formatHostPort(DEFAULT_VIRTUAL_IP, lab.pool.port) };
    case "envoy":
      return {
        target: lab.listenAddress,
        tls: lab.clientTls,
        hashKey: m.policy === "ring_hash" || m.policy === "maglev" ? HASH_KEYS : undefined,
      };
    case "client":
      return {
        target: `dns://${formatHostPort(lab.dns.host, lab.dns.port)}/server:${lab.pool.port}`,
        lb: m.lb,
      };
    case "eds":
      return { target: lab.listenAddress, tls: lab.clientTls };
    case "proxyless": {
      const eds = lab.topology.envoyEds();
      if (eds === undefined) throw new LabError("compare: the proxyless mode needs the lab's xDS server");
      return { target: `xds:///${SERVER_NAME}`, xdsServer: formatHostPort(eds.xdsAddress, eds.xdsPort) };
    }
  }
}

/** The processes that balance in this mode, whose CPU is measured; "self" when the client balances. */
export function balancerPids(m: LabCompareMode, lab: LabCluster): readonly number[] | "self" {
  switch (m.kind) {
    case "l4":
    case "l4-max-age":
      return lab.topology.proxies().map((p) => p.process.pid);
    case "envoy":
    case "eds":
      return [lab.envoy.process.pid];
    case "client":
    case "proxyless":
      return "self";
  }
}

/** Every mode, in the order the comparison runs them. */
export function allModes(maxConnectionAgeMs: number): CompareMode[] {
  return [
    { kind: "l4" },
    { kind: "l4-max-age", maxConnectionAgeMs },
    ...(["round_robin", "least_request", "random", "ring_hash", "maglev"] as const).map(
      (policy): CompareMode => ({ kind: "envoy", policy }),
    ),
    { kind: "client", lb: "round_robin" },
    ...PEER_KINDS.map((peer): CompareMode => ({ kind: "peer", peer })),
    { kind: "eds", policy: "round_robin" },
    { kind: "proxyless", lb: "round_robin" },
  ];
}
