import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { presetEnvoyYaml } from "../../src/deploy/generate.js";
import { K8S_NAMESPACE, kubernetesTlsPreset } from "../../src/deploy/presets.js";
import { tlsObjects } from "../../src/engines/k8s/tls-secrets.js";
import { DEFAULT_SERVER_PORT } from "../../src/server/server.js";
import { readSet } from "../../src/tls/cert-set.js";
import { createCertificates } from "../../src/tls/certs.js";
import {
  assertValidManifests,
  findObject,
  KUBERNETES_VERSIONS,
  kustomize,
  type Manifest,
} from "../deploy-tools.js";

const LAYOUTS = {
  base: "deploy/k8s/base",
  tls: "deploy/k8s/overlays/tls",
  localTls: "deploy/k8s/overlays/local-tls",
  client: "deploy/k8s/client",
  clientTls: "deploy/k8s/client-tls",
};
type Rendered = Record<keyof typeof LAYOUTS, { yaml: string; objects: Manifest[] }>;

const podSpec = (o: Manifest): Manifest => o.spec.template.spec;
const only = (o: Manifest): Manifest => {
  assert.equal(podSpec(o).containers.length, 1);
  return podSpec(o).containers[0];
};
const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;

describe("deploy/k8s over TLS, rendered by kustomize", () => {
  const r = {} as Rendered;
  let tmp = "";
  /** Key → file names of each Secret and ConfigMap that `grpc-lb k8s secrets` writes. */
  const written = new Map<string, string[]>();
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-tls-"));
    for (const [name, dir] of Object.entries(LAYOUTS)) r[name as keyof Rendered] = await kustomize(dir);
    const certs = join(tmp, "certs");
    await createCertificates(certs, {
      serverNames: ["server"],
      sharedNames: ["server"],
      k8sNamespace: K8S_NAMESPACE,
    });
    const list = tlsObjects(await readSet(certs), K8S_NAMESPACE, certs) as { items: Manifest[] };
    for (const o of list.items) written.set(o.metadata.name, Object.keys(o.data ?? {}));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  for (const version of KUBERNETES_VERSIONS) {
    it(`validates against the Kubernetes ${version} schemas, strictly (NetworkPolicy included)`, () =>
      assertValidManifests(tmp, version, {
        tls: r.tls.yaml,
        localTls: r.localTls.yaml,
        clientTls: r.clientTls.yaml,
      }));
  }

  it("is base plus the servers' NetworkPolicy; local-tls differs from it only in Envoy's image", () => {
    assert.deepEqual(
      r.tls.objects.map(key).sort(),
      [...r.base.objects.map(key), "NetworkPolicy/server"].sort(),
    );
    for (const o of r.localTls.objects) {
      const original = structuredClone(findObject(r.tls.objects, o.kind, o.metadata.name));
      if (key(o) === "Deployment/envoy") only(original).image = only(o).image;
      assert.deepEqual(o, original, key(o));
    }
    assert.match(
      only(findObject(r.localTls.objects, "Deployment", "envoy")).image,
      /^grpc-lb-standin\/envoy:/,
    );
  });

  it("carries the generated TLS ConfigMap (envoy.yaml and its SDS files) in place of base's", async () => {
    const configMap = findObject(r.tls.objects, "ConfigMap", "envoy");
    const generated = parse(
      await readFile("deploy/k8s/overlays/tls/envoy-configmap.yaml", "utf8"),
    ) as Manifest;
    assert.deepEqual(configMap.data, generated.data);
    assert.equal(configMap.data["envoy.yaml"], presetEnvoyYaml(kubernetesTlsPreset));
  });

  it("mounts every file Envoy's config names: the SDS files beside it, the Secret's certificates in the watched directory", () => {
    const envoy = findObject(r.tls.objects, "Deployment", "envoy");
    const c = only(envoy);
    const data = findObject(r.tls.objects, "ConfigMap", "envoy").data as Record<string, string>;
    const mounted = (path: string) => c.volumeMounts.find((m: Manifest) => m.mountPath === path);
    const config = mounted("/etc/envoy");
    const configVolume = podSpec(envoy).volumes.find((v: Manifest) => v.name === config.name);
    assert.equal(configVolume.configMap.name, "envoy");
    const text = Object.values(data).join("\n");
    const sdsFiles = [...text.matchAll(/path: \/etc\/envoy\/(\w+\.yaml)/g)].map((m) => m[1]);
    assert.equal(new Set(sdsFiles).size, 3);
    for (const file of sdsFiles)
      assert.ok(file !== undefined && file in data, `${file} is a key of ConfigMap envoy`);
    const watched = [...text.matchAll(/watched_directory:\s+path: (\S+)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(watched)], ["/etc/envoy/certs"]);
    const certs = mounted("/etc/envoy/certs");
    const volume = podSpec(envoy).volumes.find((v: Manifest) => v.name === certs.name);
    assert.equal(volume.secret.secretName, "envoy-tls");
    const files = [...text.matchAll(/filename: \/etc\/envoy\/certs\/(\S+)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(files)].sort(), [...(written.get("envoy-tls") ?? [])].sort());
    // Keys readable by Envoy's group only.
    assert.equal(volume.secret.defaultMode, 0o440);
    assert.equal(podSpec(envoy).securityContext.fsGroup, podSpec(envoy).securityContext.runAsGroup);
  });

  it("runs the servers with the Secret server-tls, mTLS, TCP probes, and keys for their group only", () => {
    const server = findObject(r.tls.objects, "Deployment", "server");
    const c = only(server);
    const flag = (name: string) => c.args[c.args.indexOf(name) + 1];
    const mount = c.volumeMounts.find((m: Manifest) => m.mountPath === "/etc/grpc-lb/certs");
    const volume = podSpec(server).volumes.find((v: Manifest) => v.name === mount.name);
    assert.equal(volume.secret.secretName, "server-tls");
    const files = ["--tls-cert", "--tls-key", "--client-ca"].map((f) => flag(f));
    assert.deepEqual(
      files,
      ["server.crt", "server.key", "ca.crt"].map((f) => `${mount.mountPath}/${f}`),
    );
    assert.deepEqual(
      files.map((f) => f.split("/").at(-1)).sort(),
      [...(written.get("server-tls") ?? [])].sort(),
    );
    // kubelet's gRPC probe cannot speak TLS: a TCP connect, which succeeds once the certificates loaded.
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      assert.equal(probe.grpc, undefined);
      assert.deepEqual(probe.tcpSocket, { port: DEFAULT_SERVER_PORT });
    }
    assert.equal(volume.secret.defaultMode, 0o440);
    assert.equal(podSpec(server).securityContext.fsGroup, podSpec(server).securityContext.runAsGroup);
    // base's other flags are kept.
    assert.deepEqual(
      c.args.slice(0, only(findObject(r.base.objects, "Deployment", "server")).args.length),
      only(findObject(r.base.objects, "Deployment", "server")).args,
    );
  });

  it("lets only Envoy's pods reach the servers, and only on their gRPC port", () => {
    const policy = findObject(r.tls.objects, "NetworkPolicy", "server");
    const server = findObject(r.tls.objects, "Deployment", "server");
    const envoy = findObject(r.tls.objects, "Deployment", "envoy");
    assert.deepEqual(policy.spec.podSelector.matchLabels, server.spec.selector.matchLabels);
    assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
    assert.equal(policy.spec.ingress.length, 1);
    const [rule] = policy.spec.ingress;
    assert.deepEqual(rule.from, [{ podSelector: { matchLabels: envoy.spec.selector.matchLabels } }]);
    assert.deepEqual(rule.ports, [{ protocol: "TCP", port: DEFAULT_SERVER_PORT }]);
    // Nothing in the rule matches the load Job's or the refusal probe's pods.
    const job = findObject(r.clientTls.objects, "Job", "load");
    assert.notDeepEqual(job.spec.template.metadata.labels, envoy.spec.template.metadata.labels);
  });

  it("has the load Job trust the CA of ConfigMap grpc-lb-ca and call Envoy's Service by the name on its certificate", () => {
    const job = findObject(r.clientTls.objects, "Job", "load");
    const c = only(job);
    const caFile = c.args[c.args.indexOf("--cacert") + 1];
    const mount = c.volumeMounts.find((m: Manifest) => caFile.startsWith(`${m.mountPath}/`));
    const volume = podSpec(job).volumes.find((v: Manifest) => v.name === mount.name);
    assert.equal(volume.configMap.name, "grpc-lb-ca");
    assert.deepEqual(written.get("grpc-lb-ca"), [caFile.split("/").at(-1)]);
    const plain = only(findObject(r.client.objects, "Job", "load"));
    assert.deepEqual(c.args.slice(0, plain.args.length), plain.args);
    assert.equal(c.args.includes("--cert"), false, "a client of Envoy needs no certificate");
  });
});
