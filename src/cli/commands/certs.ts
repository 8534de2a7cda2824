import { join } from "node:path";
import { TlsError, UsageError } from "../../errors.js";
import type { WrittenSet } from "../../tls/cert-set.js";
import { createCertificates } from "../../tls/certs.js";
import { CURRENT } from "../../tls/layout.js";
import { type CertsOptions, resolveCertsOptions } from "../../tls/plan.js";
import { ROTATION_KINDS, rotateCertificates } from "../../tls/rotate.js";
import { type Command, choiceFlag, intFlag, parseFlags } from "../args.js";

/** Flags that shape a new set; a rotation takes all of that from the set itself. */
const CREATE_ONLY = [
  "servers",
  "server-name",
  "shared-name",
  "k8s-namespace",
  "envoy-name",
  "ca-days",
  "group-readable-keys",
] as const;

export const certsCommand: Command = {
  name: "certs",
  summary: "write a CA and TLS certificates for Envoy and the servers, or rotate them",
  usage: `Usage: grpc-lb certs --out DIR [options]
       grpc-lb certs --out DIR --rotate leaves|ca|retire-old-ca [--only NAME]... [--days N]

Writes a certificate set (ECDSA P-256): a CA, a certificate for Envoy's
listener, one for Envoy as a client of the servers (mTLS), and one per server.
Every server certificate names the shared name Envoy resolves (STRICT_DNS sends
it as SNI to every host), the server's own name, and localhost, 127.0.0.1, ::1.

Layout, the one rotation relies on: DIR/v1/, DIR/v2/, … each a whole set, and
DIR/current -> vN, a symlink swapped by an atomic rename once vN is complete.
Each version holds ca.crt (the trusted CAs, issuer first), ca.key, envoy-listener.crt/.key,
envoy-client.crt/.key, NAME.crt/.key per server and manifest.json. Keys are 0600
(0640 with --group-readable-keys).
Point readers at DIR/current/FILE so they follow rotation.

Options:
  --out DIR                 directory of the set (created if missing)
  --servers N               certificates for server-1 … server-N (default 3)
  --server-name NAME        a server's own name, one certificate each (repeatable;
                            instead of --servers)
  --shared-name NAME        the name Envoy resolves to reach every server (repeatable;
                            default server)
  --k8s-namespace NS        also NAME.NS.svc and NAME.NS.svc.cluster.local for the shared
                            names and Envoy's name (Kubernetes Services)
  --envoy-name NAME         Envoy's name in its certificates (default envoy)
  --days N                  validity of leaf certificates in days (default 30; with
                            --rotate, the set's own)
  --ca-days N               validity of the CA in days (default 365)
  --group-readable-keys     keys 0640 instead of 0600, in this version and every rotation
                            of it: readable by the files' group, for readers running as
                            another user that join that group (Compose's group_add)
  --rotate KIND             write the next version of an existing set:
                              leaves         new leaf certificates from the same CA
                              ca             a new CA issues from now on; ca.crt trusts
                                             both the new and the old CA (overlap)
                              retire-old-ca  ca.crt trusts the new CA only (after leaves)
                            a CA change is: ca, leaves, retire-old-ca, letting every
                            reader load each version before the next
  --only NAME               with --rotate leaves: only this leaf (repeatable)
  --json                    print what was written as JSON
  -h, --help                show this help

Exit codes: 0 written, 1 the set could not be read or written, 2 bad usage.
`,
  async run(argv, ctx) {
    const { values } = parseFlags("certs", argv, {
      out: { type: "string" },
      servers: { type: "string" },
      "server-name": { type: "string", multiple: true },
      "shared-name": { type: "string", multiple: true },
      "k8s-namespace": { type: "string" },
      "envoy-name": { type: "string" },
      days: { type: "string" },
      "ca-days": { type: "string" },
      "group-readable-keys": { type: "boolean" },
      rotate: { type: "string" },
      only: { type: "string", multiple: true },
      json: { type: "boolean" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const dir = values.out;
    if (dir === undefined || dir.trim() === "") throw new UsageError("grpc-lb certs: --out DIR is required");
    const days = (name: string, v: string | undefined) => intFlag("certs", name, v, { min: 1, max: 36_500 });
    const leafDays = days("days", values.days);
    const rotate = choiceFlag("certs", "rotate", values.rotate, ROTATION_KINDS);
    let written: WrittenSet;
    if (rotate !== undefined) {
      const extra = CREATE_ONLY.find((f) => values[f] !== undefined);
      if (extra !== undefined)
        throw new UsageError(`grpc-lb certs: --${extra} shapes a new set; --rotate keeps the set's own`);
      if (values.only !== undefined && rotate !== "leaves")
        throw new UsageError("grpc-lb certs: --only goes with --rotate leaves");
      written = await rotateCertificates(dir, rotate, { only: values.only, leafDays });
    } else {
      if (values.only !== undefined) throw new UsageError("grpc-lb certs: --only goes with --rotate leaves");
      if (values.servers !== undefined && values["server-name"] !== undefined)
        throw new UsageError("grpc-lb certs: give --servers N or --server-name NAME…, not both");
      const options: CertsOptions = {
        servers: intFlag("certs", "servers", values.servers, { min: 1, max: 1000 }),
        serverNames: values["server-name"],
        sharedNames: values["shared-name"],
        k8sNamespace: values["k8s-namespace"],
        envoyName: values["envoy-name"],
        leafDays,
        caDays: days("ca-days", values["ca-days"]),
        keysGroupReadable: values["group-readable-keys"] === true,
      };
      try {
        resolveCertsOptions(options);
      } catch (e) {
        if (e instanceof TlsError) throw new UsageError(`grpc-lb certs: ${e.message.replace(/^tls: /, "")}`);
        throw e;
      }
      written = await createCertificates(dir, options);
    }
    ctx.stdout(values.json ? `${JSON.stringify(written)}\n` : describe(dir, written));
    return 0;
  },
};

function describe(dir: string, w: WrittenSet): string {
  const m = w.manifest;
  const day = (iso: string): string => iso.slice(0, 10);
  const rows: string[][] = [
    ...m.cas.map((ca, i) => [
      i === 0 ? "ca.crt" : "",
      i === 0 ? "CA (issuer)" : "CA (old, still trusted)",
      ca.commonName,
      ca.serial,
      day(ca.notAfter),
    ]),
    ...m.leaves.map((l) => [
      `${l.name}.crt`,
      l.usage,
      [...l.dnsNames, ...l.ipAddresses].join(", "),
      l.serial,
      day(l.notAfter),
    ]),
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const lines = rows.map(
    (r) =>
      `  ${r
        .slice(0, 3)
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")}  serial ${r[3]}  until ${r[4]}`,
  );
  return `${m.change === "created" ? "wrote" : `rotated (${m.change}):`} ${w.path} in ${w.elapsedMs} ms; ${join(dir, CURRENT)} -> v${m.version}
${lines.join("\n")}
`;
}
