import { TlsError } from "../errors.js";
import type { LeafSpec } from "./issue.js";

export interface CertsOptions {
  /** How many servers get a certificate, named server-1 … server-N; unused when serverNames is given. Default 3. */
  servers?: number;
  /** Each server's own name: one certificate per name, in NAME.crt and NAME.key. Default server-1 … server-N. */
  serverNames?: string[];
  /**
   * The names Envoy resolves to reach every server. Under STRICT_DNS every host of a
   * cluster gets the resolved name, so it is the SNI and the SAN checked for all of them.
   * Default ["server"].
   */
  sharedNames?: string[];
  /** Kubernetes namespace: adds NAME.NS.svc.cluster.local and NAME.NS.svc for the shared names and Envoy's name. Default: none. */
  k8sNamespace?: string | undefined;
  /** The name clients use to reach Envoy's listener, and the common name of Envoy's client certificate. Default "envoy". */
  envoyName?: string;
  /** How long leaves are valid, in days. Default 30. */
  leafDays?: number;
  /** How long a CA is valid, in days. Default 365. */
  caDays?: number;
  /** Keys 0640 (readable by the files' group) instead of 0600, in this and every later version. Default false. */
  keysGroupReadable?: boolean;
}

export type ResolvedCertsOptions = Required<Omit<CertsOptions, "servers" | "k8sNamespace">> & {
  k8sNamespace: string | undefined;
};

/** Names every certificate of the set carries for the lab on loopback. */
export const LOOPBACK_DNS = ["localhost"] as const;
export const LOOPBACK_IPS = ["127.0.0.1", "::1"] as const;
/** File names the set uses itself; a server may not be called one of these. */
export const CA_NAME = "ca";
export const ENVOY_LISTENER = "envoy-listener";
export const ENVOY_CLIENT = "envoy-client";

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function resolveCertsOptions(options: CertsOptions = {}): ResolvedCertsOptions {
  const count = options.servers ?? 3;
  const resolved: ResolvedCertsOptions = {
    serverNames: options.serverNames ?? Array.from({ length: count }, (_, i) => `server-${i + 1}`),
    sharedNames: options.sharedNames ?? ["server"],
    k8sNamespace: options.k8sNamespace,
    envoyName: options.envoyName ?? "envoy",
    leafDays: options.leafDays ?? 30,
    caDays: options.caDays ?? 365,
    keysGroupReadable: options.keysGroupReadable ?? false,
  };
  checkNames(resolved);
  return resolved;
}

/** The leaves of a set: Envoy's listener, Envoy as a client of the servers, then one per server. */
export function planLeaves(o: ResolvedCertsOptions): LeafSpec[] {
  const withNamespace = (name: string): string[] =>
    o.k8sNamespace === undefined
      ? [name]
      : [name, `${name}.${o.k8sNamespace}.svc`, `${name}.${o.k8sNamespace}.svc.cluster.local`];
  const loopback = { ipAddresses: [...LOOPBACK_IPS] };
  return [
    {
      name: ENVOY_LISTENER,
      usage: "server",
      commonName: o.envoyName,
      dnsNames: unique([...withNamespace(o.envoyName), ...LOOPBACK_DNS]),
      ...loopback,
    },
    {
      name: ENVOY_CLIENT,
      usage: "client",
      commonName: o.envoyName,
      dnsNames: withNamespace(o.envoyName),
      ipAddresses: [],
    },
    ...o.serverNames.map(
      (name): LeafSpec => ({
        name,
        usage: "server",
        commonName: name,
        dnsNames: unique([...o.sharedNames.flatMap(withNamespace), name, ...LOOPBACK_DNS]),
        ...loopback,
      }),
    ),
  ];
}

function checkNames(o: ResolvedCertsOptions): void {
  if (o.serverNames.length === 0) throw new TlsError("at least one server needs a certificate");
  const all = [...o.serverNames, ...o.sharedNames, o.envoyName, ...(o.k8sNamespace ? [o.k8sNamespace] : [])];
  for (const name of all) {
    if (!DNS_NAME.test(name))
      throw new TlsError(`'${name}' is not a DNS name (lower-case letters, digits, '-' and '.')`);
  }
  for (const name of o.serverNames) {
    if ([CA_NAME, ENVOY_LISTENER, ENVOY_CLIENT].includes(name))
      throw new TlsError(`a server cannot be called '${name}': the set uses that file name itself`);
  }
  const twice = o.serverNames.find((n, i) => o.serverNames.indexOf(n) !== i);
  if (twice !== undefined) throw new TlsError(`server name '${twice}' is given twice`);
  if (!(o.leafDays >= 1)) throw new TlsError(`leaves must be valid at least 1 day, got ${o.leafDays}`);
  if (o.caDays < o.leafDays)
    throw new TlsError(`a CA must outlive its leaves: ${o.caDays} CA days < ${o.leafDays} leaf days`);
}

const unique = (list: string[]): string[] => [...new Set(list)];
