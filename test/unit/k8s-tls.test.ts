import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../../src/cli/main.js";
import { parseRefusalLog } from "../../src/engines/k8s/mtls-refusal.js";
import {
  CA_CONFIGMAP,
  ENVOY_TLS_SECRET,
  envoyServiceName,
  SERVER_TLS_SECRET,
  serverServiceName,
  tlsObjects,
} from "../../src/engines/k8s/tls-secrets.js";
import { readSet } from "../../src/tls/cert-set.js";
import { createCertificates } from "../../src/tls/certs.js";
import { captureContext } from "../helpers.js";

type Obj = { kind: string; metadata: { name: string }; data: Record<string, string> };

describe("the tls overlay's Secrets, from a set of grpc-lb certs", () => {
  let dir = "";
  let items: Obj[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-tls-"));
    await createCertificates(dir, {
      serverNames: ["server"],
      sharedNames: ["server"],
      k8sNamespace: "grpc-lb",
    });
    items = (tlsObjects(await readSet(dir), "grpc-lb", dir) as { items: Obj[] }).items;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const decoded = (name: string): Record<string, string> => {
    const o = items.find((i) => i.metadata.name === name);
    assert.ok(o, name);
    return Object.fromEntries(
      Object.entries(o.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
  };

  it("gives Envoy its two pairs and the CA, the servers theirs and the CA, clients the CA only", () => {
    assert.deepEqual(
      items.map((i) => `${i.kind}/${i.metadata.name}`),
      [
        "Namespace/grpc-lb",
        `Secret/${ENVOY_TLS_SECRET}`,
        `Secret/${SERVER_TLS_SECRET}`,
        `ConfigMap/${CA_CONFIGMAP}`,
      ],
    );
    assert.deepEqual(Object.keys(decoded(ENVOY_TLS_SECRET)).sort(), [
      "ca.crt",
      "envoy-client.crt",
      "envoy-client.key",
      "envoy-listener.crt",
      "envoy-listener.key",
    ]);
    assert.deepEqual(Object.keys(decoded(SERVER_TLS_SECRET)).sort(), ["ca.crt", "server.crt", "server.key"]);
    const ca = items.find((i) => i.kind === "ConfigMap");
    assert.deepEqual(Object.keys(ca?.data ?? {}), ["ca.crt"]);
    // The CA's key never leaves this machine.
    assert.doesNotMatch(JSON.stringify(items), /ca\.key/);
  });

  it("names the Services in the certificates: Envoy's for its clients, the headless server Service for Envoy", () => {
    const listener = new X509Certificate(decoded(ENVOY_TLS_SECRET)["envoy-listener.crt"] ?? "");
    assert.ok(listener.checkHost(envoyServiceName("grpc-lb")), listener.subjectAltName);
    const server = new X509Certificate(decoded(SERVER_TLS_SECRET)["server.crt"] ?? "");
    assert.ok(server.checkHost(serverServiceName("grpc-lb")), server.subjectAltName);
  });

  it("fails with the command that makes a Kubernetes set when the server leaf is missing", async () => {
    const other = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-tls-"));
    try {
      await createCertificates(other, { servers: 2 });
      const set = await readSet(other);
      assert.throws(() => tlsObjects(set, "grpc-lb", other), /--server-name server/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe("grpc-lb k8s mtls-refusal, reading its pod's log", () => {
  const pods = [
    { name: "server-a", address: "10.0.0.1:50051" },
    { name: "server-b", address: "10.0.0.2:50051" },
    { name: "server-c", address: "10.0.0.3:50051" },
  ];
  const alert = "D … transport | connection failed with error …:tlsv13 alert certificate required:…";
  it("counts a pod as refusing only when the call failed on the server's certificate-required alert", () => {
    const log = [
      alert,
      "grpc-lb: load: cannot connect to 10.0.0.1:50051 within 3000 ms over TLS",
      "=== 10.0.0.1:50051 exit 1",
      "grpc-lb: load: cannot connect to 10.0.0.2:50051 within 3000 ms over TLS (no route)",
      "=== 10.0.0.2:50051 exit 1",
      "3 backends answered 1 of 1 requests",
      "=== 10.0.0.3:50051 exit 0",
    ].join("\n");
    assert.deepEqual(
      parseRefusalLog(log, pods).map((r) => [r.pod, r.refused, r.certificateRequired, r.exit]),
      [
        ["server-a", true, true, 1],
        ["server-b", false, false, 1],
        ["server-c", false, false, 0],
      ],
    );
  });
  it("counts a pod missing from the log as not refusing", () => {
    assert.equal(parseRefusalLog("", pods.slice(0, 1))[0]?.refused, false);
  });
});

describe("grpc-lb k8s: TLS subcommands, bad input", () => {
  for (const [argv, message] of [
    [["k8s", "secrets", "extra"], /k8s secrets: takes no argument/],
    [["k8s", "mtls-refusal", "extra"], /k8s mtls-refusal: takes no argument/],
    [["k8s", "secrets", "--wait-ms", "5"], /--wait-ms is for envoy-hosts/],
    [["k8s", "scenario", "scale", "--certs", "x"], /--certs is for secrets and scenario cert-rotation/],
  ] as const) {
    it(`exits 2 for: grpc-lb ${argv.join(" ")}`, async () => {
      const { ctx, stderr } = captureContext();
      assert.equal(await main([...argv], ctx), 2);
      assert.match(stderr(), message);
    });
  }
});
