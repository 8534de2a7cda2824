import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { presetEnvoyYaml } from "../../src/deploy/generate.js";
import { ENVOY_IMAGE, K8S_NAMESPACE, kubernetesPreset, SERVER_IMAGE } from "../../src/deploy/presets.js";
import { K8S_TIMING, k8sBudgets } from "../../src/engines/k8s/timing.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { buildBootstrap } from "../../src/envoy/bootstrap.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { type EnvoyHandle, type EnvoyProcessOptions, startEnvoy } from "../../src/envoy/process.js";
import { resolveServerOptions } from "../../src/server/server.js";
import {
  assertValidManifests,
  findObject,
  KUBERNETES_VERSIONS,
  kubernetesValidateBin,
  kustomize,
  type Manifest,
  runTool,
} from "../deploy-tools.js";

const LAYOUTS = {
  base: "deploy/k8s/base",
  clusterip: "deploy/k8s/overlays/clusterip",
  client: "deploy/k8s/client",
  local: "deploy/k8s/overlays/local",
  localClusterip: "deploy/k8s/overlays/local-clusterip",
};

/** The image the local cluster (make k8s-local-up) runs Envoy from: it has no registry to pull the official one. */
const STANDIN_ENVOY_IMAGE = "grpc-lb-standin/envoy:1.40.0";

type Rendered = Record<keyof typeof LAYOUTS, { yaml: string; objects: Manifest[] }>;

/** The one container of a Deployment or Job. */
function container(workload: Manifest): Manifest {
  const containers = workload.spec.template.spec.containers;
  assert.equal(containers.length, 1, `${workload.kind}/${workload.metadata.name}`);
  return containers[0];
}

function assertLockedDown(workload: Manifest): void {
  const what = `${workload.kind}/${workload.metadata.name}`;
  const pod = workload.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true, what);
  assert.ok(pod.securityContext.runAsUser > 0, what);
  assert.equal(pod.automountServiceAccountToken, false, what);
  const sc = container(workload).securityContext;
  assert.equal(sc.readOnlyRootFilesystem, true, what);
  assert.equal(sc.allowPrivilegeEscalation, false, what);
  assert.deepEqual(sc.capabilities.drop, ["ALL"], what);
  const resources = container(workload).resources;
  for (const key of ["cpu", "memory"]) {
    assert.ok(resources.requests[key] && resources.limits[key], `${what}: ${key} request and limit`);
  }
}

describe("deploy/k8s, rendered by kustomize", () => {
  const rendered = {} as Rendered;
  let tmp = "";
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-"));
    for (const [name, dir] of Object.entries(LAYOUTS))
      rendered[name as keyof Rendered] = await kustomize(dir);
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  for (const version of KUBERNETES_VERSIONS) {
    it(`validates against the Kubernetes ${version} schemas, strictly (unknown fields fail)`, () =>
      assertValidManifests(
        tmp,
        version,
        Object.fromEntries(Object.entries(rendered).map(([name, r]) => [name, r.yaml])),
      ));
  }

  it("and the validator does reject a misspelt field", async () => {
    const file = join(tmp, "broken.yaml");
    await writeFile(file, rendered.base.yaml.replace("readinessProbe:", "readynessProbe:"));
    const run = await runTool(kubernetesValidateBin(), ["--strict", "--quiet", file]);
    assert.notEqual(run.code, 0);
    assert.match(`${run.stdout}${run.stderr}`, /readynessProbe/);
  });

  it("puts everything in the grpc-lb namespace", () => {
    for (const o of [...rendered.base.objects, ...rendered.client.objects]) {
      if (o.kind === "Namespace") assert.equal(o.metadata.name, K8S_NAMESPACE);
      else assert.equal(o.metadata.namespace, K8S_NAMESPACE, `${o.kind}/${o.metadata.name}`);
    }
  });

  it("clusterip differs from base only in the server Service's clusterIP (None vs absent)", () => {
    const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
    assert.deepEqual(rendered.clusterip.objects.map(key).sort(), rendered.base.objects.map(key).sort());
    for (const overlay of rendered.clusterip.objects) {
      const base = structuredClone(findObject(rendered.base.objects, overlay.kind, overlay.metadata.name));
      if (key(overlay) === "Service/server") {
        assert.equal(base.spec.clusterIP, "None");
        assert.equal("clusterIP" in overlay.spec, false);
        delete base.spec.clusterIP;
      }
      assert.deepEqual(overlay, base, key(overlay));
    }
  });

  for (const [overlay, of] of [
    ["local", "base"],
    ["localClusterip", "clusterip"],
  ] as const) {
    it(`${overlay} differs from ${of} only in Envoy's image, a stand-in under a name of its own`, () => {
      const key = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
      assert.deepEqual(rendered[overlay].objects.map(key).sort(), rendered[of].objects.map(key).sort());
      for (const o of rendered[overlay].objects) {
        const original = structuredClone(findObject(rendered[of].objects, o.kind, o.metadata.name));
        if (key(o) === "Deployment/envoy") {
          assert.equal(container(original).image, ENVOY_IMAGE);
          assert.equal(container(o).image, STANDIN_ENVOY_IMAGE);
          container(original).image = STANDIN_ENVOY_IMAGE;
        }
        assert.deepEqual(o, original, key(o));
      }
    });
  }

  it("gives a removed server pod time for Envoy to stop routing to it before it refuses calls", () => {
    const deployment = findObject(rendered.base.objects, "Deployment", "server");
    const args: string[] = container(deployment).args;
    const flag = (name: string) => Number(args[args.indexOf(name) + 1]);
    assert.equal(flag("--drain-delay-ms"), K8S_TIMING.serverDrainDelayMs);
    assert.equal(flag("--grace-ms"), K8S_TIMING.serverGraceMs);
    assert.equal(
      deployment.spec.template.spec.terminationGracePeriodSeconds * 1000,
      K8S_TIMING.terminationGraceMs,
    );
    assert.ok(
      k8sBudgets().removalMs < K8S_TIMING.serverDrainDelayMs,
      `Envoy may route to a terminating pod for ${k8sBudgets().removalMs} ms, longer than its drain delay`,
    );
    // A rolling deploy never has fewer ready pods than replicas.
    assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
  });

  it("makes the server Service headless, on port 50051 named grpc, and Envoy resolves its name", () => {
    const service = findObject(rendered.base.objects, "Service", "server");
    assert.equal(service.spec.clusterIP, "None");
    assert.deepEqual(
      service.spec.ports.map((p: Manifest) => [p.name, p.port]),
      [["grpc", 50051]],
    );
    assert.equal(
      kubernetesPreset.envoy.serverHost,
      `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`,
    );
    const deployment = findObject(rendered.base.objects, "Deployment", "server");
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
  });

  it("runs 3 servers with gRPC health probes on 50051, locked down, given time to drain", () => {
    const deployment = findObject(rendered.base.objects, "Deployment", "server");
    assert.equal(deployment.spec.replicas, 3);
    const c = container(deployment);
    assert.equal(c.image, SERVER_IMAGE);
    assert.equal(c.imagePullPolicy, "IfNotPresent");
    for (const probe of [c.readinessProbe, c.livenessProbe]) assert.deepEqual(probe.grpc, { port: 50051 });
    assertLockedDown(deployment);
    // The pod must outlive the server's drain delay plus its drain grace, or calls are cut off.
    const defaults = resolveServerOptions();
    const flag = (name: string, fallback: number) =>
      c.args.includes(name) ? Number(c.args[c.args.indexOf(name) + 1]) : fallback;
    const drainDelayMs = flag("--drain-delay-ms", defaults.drainDelayMs);
    const graceMs = flag("--grace-ms", defaults.graceMs);
    assert.ok(drainDelayMs > 0, "a drain delay, so Envoy stops sending calls before the server refuses them");
    const preStopMs = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
    const terminationMs = deployment.spec.template.spec.terminationGracePeriodSeconds * 1000;
    assert.ok(
      terminationMs > preStopMs + drainDelayMs + graceMs,
      `terminationGracePeriodSeconds: ${terminationMs} ms <= ${preStopMs} + ${drainDelayMs} + ${graceMs} ms`,
    );
  });

  it("runs the pinned official Envoy with the generated ConfigMap, 2 replicas that never all go at once", () => {
    const configMap = findObject(rendered.base.objects, "ConfigMap", "envoy");
    assert.equal(configMap.data["envoy.yaml"], presetEnvoyYaml(kubernetesPreset));
    const deployment = findObject(rendered.base.objects, "Deployment", "envoy");
    const c = container(deployment);
    assert.equal(c.image, ENVOY_IMAGE);
    assert.match(c.image, /^envoyproxy\/envoy:v1\.40\.\d+$/);
    const volume = deployment.spec.template.spec.volumes.find((v: Manifest) => v.configMap?.name === "envoy");
    assert.ok(volume, "a volume from ConfigMap envoy");
    const mount = c.volumeMounts.find((m: Manifest) => m.name === volume.name);
    assert.equal(mount.readOnly, true);
    assert.equal(`${c.args[c.args.indexOf("-c") + 1]}`, `${mount.mountPath}/envoy.yaml`);
    // Readiness is Envoy's own /ready, asked from inside the pod; liveness is the listener.
    assert.equal(c.readinessProbe.exec.command[0], "/bin/bash");
    assert.match(c.readinessProbe.exec.command[2], /GET \/ready /);
    assert.equal(c.readinessProbe.failureThreshold, 1);
    assert.deepEqual(c.livenessProbe.tcpSocket, { port: kubernetesPreset.envoy.listenPort });
    assert.deepEqual(c.env, [
      {
        name: "ENVOY_ADMIN_PORT",
        value: String(resolveEnvoyConfigOptions(kubernetesPreset.envoy).adminPort),
      },
    ]);
    // Replicas, a rollout that adds before it removes, a soft spread, a disruption budget.
    const spec = deployment.spec;
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    const spread = spec.template.spec.topologySpreadConstraints[0];
    assert.equal(spread.whenUnsatisfiable, "ScheduleAnyway");
    assert.equal(spread.topologyKey, "kubernetes.io/hostname");
    const pdb = findObject(rendered.base.objects, "PodDisruptionBudget", "envoy");
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, spec.selector.matchLabels);
    // The preStop drain fits in the grace period, and connections have an age.
    const drainSeconds = Number(/DRAIN_SECONDS:-(\d+)/.exec(c.lifecycle.preStop.exec.command[2])?.[1]);
    assert.ok(drainSeconds >= 5 && spec.template.spec.terminationGracePeriodSeconds >= drainSeconds + 10);
    assert.ok((kubernetesPreset.envoy.maxConnectionDurationMs ?? 0) > 0);
    assertLockedDown(deployment);
    const service = findObject(rendered.base.objects, "Service", "envoy");
    assert.equal(service.spec.type, "ClusterIP");
    assert.deepEqual(
      service.spec.ports.map((p: Manifest) => p.port),
      [10000],
    );
  });

  it("keeps the load Job out of base and points it at Envoy's Service", () => {
    assert.equal(
      rendered.base.objects.some((o) => o.kind === "Job"),
      false,
    );
    const job = findObject(rendered.client.objects, "Job", "load");
    const c = container(job);
    assert.equal(c.image, SERVER_IMAGE);
    const target = c.args[c.args.indexOf("--target") + 1];
    assert.equal(target, `envoy.${K8S_NAMESPACE}.svc.cluster.local:10000`);
    assert.equal(job.spec.template.spec.restartPolicy, "Never");
    assertLockedDown(job);
  });
});

describe("the Envoy pod's readiness probe and preStop hook, run by bash against a real Envoy", () => {
  let envoy: EnvoyHandle | undefined;
  let dir = "";
  let probe: string[] = [];
  let preStop: string[] = [];
  const run = (command: string[], env: Record<string, string> = {}) =>
    runTool(command[0] ?? "", command.slice(1), dir, {
      ENVOY_ADMIN_PORT: String(envoy?.adminAddress.split(":")[1]),
      ...env,
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-probe-"));
    const c = container(findObject((await kustomize(LAYOUTS.base)).objects, "Deployment", "envoy"));
    probe = c.readinessProbe.exec.command;
    preStop = c.lifecycle.preStop.exec.command;
    envoy = await startEnvoy({
      binary: findEnvoy().path,
      bootstrap: labEnvoyBootstrapFor(),
      workDir: dir,
      concurrency: 1,
      logLevel: "error",
      startTimeoutMs: 20_000,
    });
  });
  after(async () => {
    await envoy?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("is ready while Envoy is LIVE; the preStop hook fails its health check, and it is ready no more", async () => {
    assert.equal((await run(probe)).code, 0);
    const log = join(dir, "prestop.log");
    const hook = await run(preStop, { DRAIN_SECONDS: "0", PRESTOP_LOG: log });
    assert.equal(hook.code, 0, hook.stderr);
    assert.match(await readFile(log, "utf8"), /preStop: POST \/healthcheck\/fail answered 200/);
    assert.equal((await run(probe)).code, 1);
    assert.equal(await envoy?.admin.live(), false, "/ready answers DRAINING");
  });

  it("is not ready when nothing answers on the admin port", async () => {
    assert.notEqual((await run(probe, { ENVOY_ADMIN_PORT: "1" })).code, 0);
  });
});

/** The builder's Envoy on free loopback ports, its servers at localhost: enough for its admin API. */
function labEnvoyBootstrapFor(): EnvoyProcessOptions["bootstrap"] {
  return buildBootstrap(resolveEnvoyConfigOptions({ listenPort: 0, adminPort: 0, serverHost: "localhost" }));
}
