import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { presetEnvoyYaml } from "../../src/deploy/generate.js";
import {
  K8S_NAMESPACE,
  kubernetesXdsPreset,
  SERVER_IMAGE,
  XDS_PORT,
  XDS_SERVICE,
} from "../../src/deploy/presets.js";
import {
  assertValidManifests,
  findObject,
  KUBERNETES_VERSIONS,
  kustomize,
  type Manifest,
} from "../deploy-tools.js";

const LAYOUTS = {
  base: "deploy/k8s/base",
  xds: "deploy/k8s/overlays/xds",
  localXds: "deploy/k8s/overlays/local-xds",
};
type Rendered = Record<keyof typeof LAYOUTS, { yaml: string; objects: Manifest[] }>;

const only = (o: Manifest): Manifest => {
  assert.equal(o.spec.template.spec.containers.length, 1);
  return o.spec.template.spec.containers[0];
};
const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
const XDS_OBJECTS = [
  "Deployment/xds-server",
  "PodDisruptionBudget/xds-server",
  "Role/xds-server",
  "RoleBinding/xds-server",
  "Service/xds",
  "ServiceAccount/xds-server",
];

describe("deploy/k8s/overlays/xds (Envoy by EDS over ADS), rendered by kustomize", () => {
  const r = {} as Rendered;
  let tmp = "";
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-xds-"));
    for (const [name, dir] of Object.entries(LAYOUTS)) r[name as keyof Rendered] = await kustomize(dir);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  for (const version of KUBERNETES_VERSIONS) {
    it(`validates against the Kubernetes ${version} schemas, strictly (RBAC and PDB included)`, () =>
      assertValidManifests(tmp, version, { xds: r.xds.yaml, localXds: r.localXds.yaml }));
  }

  it("is base plus the xDS server's objects, all in grpc-lb; local-xds differs only in Envoy's image", () => {
    assert.deepEqual(r.xds.objects.map(key).sort(), [...r.base.objects.map(key), ...XDS_OBJECTS].sort());
    for (const o of r.xds.objects)
      if (o.kind !== "Namespace") assert.equal(o.metadata.namespace, K8S_NAMESPACE, key(o));
    for (const o of r.localXds.objects) {
      const original = structuredClone(findObject(r.xds.objects, o.kind, o.metadata.name));
      if (key(o) === "Deployment/envoy") only(original).image = only(o).image;
      assert.deepEqual(o, original, key(o));
    }
  });

  it("carries the generated ConfigMap: cluster server by EDS, the ADS stream to the xds Service", () => {
    const data = findObject(r.xds.objects, "ConfigMap", "envoy").data;
    assert.equal(data["envoy.yaml"], presetEnvoyYaml(kubernetesXdsPreset));
    const envoy = parse(data["envoy.yaml"]);
    const [server, xds] = envoy.static_resources.clusters;
    assert.equal(server.type, "EDS");
    const address = xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    assert.deepEqual(address, {
      address: `${XDS_SERVICE}.${K8S_NAMESPACE}.svc.cluster.local`,
      port_value: XDS_PORT,
    });
    const service = findObject(r.xds.objects, "Service", XDS_SERVICE);
    assert.equal(service.spec.ports[0].port, XDS_PORT);
    assert.equal(service.spec.clusterIP, undefined, "a cluster IP: kube-proxy picks a ready replica");
  });

  it("lets the xDS server only get, list and watch EndpointSlices of its namespace", () => {
    const role = findObject(r.xds.objects, "Role", "xds-server");
    assert.deepEqual(role.rules, [
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    ]);
    assert.ok(!r.xds.objects.some((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding"));
    const binding = findObject(r.xds.objects, "RoleBinding", "xds-server");
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "xds-server",
    });
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: "xds-server", namespace: K8S_NAMESPACE },
    ]);
    const pods = r.xds.objects.filter((o) => o.kind === "Deployment").map((o) => o.spec.template.spec);
    assert.deepEqual(
      pods.filter((p) => p.automountServiceAccountToken !== false).map((p) => p.serviceAccountName),
      ["xds-server"],
      "only the xDS server gets a token",
    );
  });

  it("runs 2 xDS replicas that never all go at once, ready once they listen (synced), locked down", () => {
    const d = findObject(r.xds.objects, "Deployment", "xds-server");
    assert.equal(d.spec.replicas, 2);
    assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0);
    assert.equal(findObject(r.xds.objects, "PodDisruptionBudget", "xds-server").spec.minAvailable, 1);
    const c = only(d);
    assert.equal(c.image, SERVER_IMAGE);
    assert.deepEqual(c.args.slice(0, 6), ["grpc-lb", "xds-server", "--source", "k8s", "--service", "server"]);
    assert.equal(c.args[c.args.indexOf("--port") + 1], String(XDS_PORT));
    assert.deepEqual(c.readinessProbe.tcpSocket, { port: "grpc" });
    assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
  });

  it("names each Envoy after its pod as the xDS server's node id", () => {
    const c = only(findObject(r.xds.objects, "Deployment", "envoy"));
    assert.deepEqual(c.args.slice(-2), ["--service-node", "$(POD_NAME)"]);
    assert.deepEqual(c.env.find((e: Manifest) => e.name === "POD_NAME").valueFrom, {
      fieldRef: { fieldPath: "metadata.name" },
    });
  });
});
