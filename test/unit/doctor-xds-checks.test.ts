import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runChecks } from "../../src/doctor/checks.js";
import { buildView, type Json } from "../../src/doctor/envoy-view.js";
import { scopeOf } from "../../src/doctor/scope.js";
import { CORPUS_DIR } from "../corpus.js";

/** This project's own Envoy fed by EDS (lab up --discovery xds), as captured in the corpus. */
const LAB = join(CORPUS_DIR, "grpc-lb-lab-xds-config-dump");
const read = (file: string): Json => JSON.parse(readFileSync(join(LAB, file), "utf8")) as Json;

/** Doctor's findings on the lab's dump with cluster 'server' changed by `change` and its hosts' flags by `flags`. */
function findings(change: (server: Json) => void = () => {}, flags: (i: number) => Json = () => ({})) {
  const dump = read("config_dump.json");
  const configs = dump.configs as Json[];
  const clusters = configs.find((c) => String(c["@type"]).endsWith(".ClustersConfigDump")) as Json;
  const server = (clusters.static_clusters as Json[])
    .map((c) => c.cluster as Json)
    .find((c) => c.name === "server") as Json;
  change(server);
  const hosts = read("clusters.json");
  for (const c of hosts.cluster_statuses as Json[])
    if (c.name === "server")
      (c.host_statuses as Json[]).forEach((h, i) => {
        h.health_status = { ...(h.health_status as Json), ...flags(i) };
      });
  const view = buildView("1.40.0", dump, hosts, { stats: [] });
  return runChecks(scopeOf(view) ?? assert.fail("no scope"));
}

const ids = (fs: ReturnType<typeof findings>) => fs.map((f) => f.check);
const eds = (server: Json): Json => (server.eds_cluster_config as Json).eds_config as Json;

describe("doctor on an Envoy fed by EDS: this project's own", () => {
  it("finds nothing of the xDS checks on the lab's configuration", () => {
    const got = ids(findings());
    for (const id of [
      "eds-health-from-control-plane",
      "eds-health-without-host-removal",
      "initial-fetch-timeout",
      "hosts-draining",
    ])
      assert.ok(!got.includes(id), `${id} in ${got.join(", ")}`);
  });

  it("eds-health-from-control-plane: no health checks and no outlier detection", () => {
    const f = findings((s) => {
      delete s.health_checks;
      delete s.outlier_detection;
    }).find((x) => x.check === "eds-health-from-control-plane");
    assert.equal(f?.severity, "info");
    assert.equal(f?.subject, "cluster server");
    assert.ok(f?.fix?.patch.outlier_detection);
    assert.ok(!ids(findings((s) => void delete s.health_checks)).includes("eds-health-from-control-plane"));
  });

  it("eds-health-without-host-removal: health checks without ignore_health_on_host_removal", () => {
    const f = findings((s) => void delete s.ignore_health_on_host_removal).find(
      (x) => x.check === "eds-health-without-host-removal",
    );
    assert.equal(f?.severity, "warning");
    assert.deepEqual(f?.fix?.patch, { ignore_health_on_host_removal: true });
  });

  it("initial-fetch-timeout: 0 waits for ever; absent is Envoy's 15 s and no finding", () => {
    const zero = findings((s) => {
      eds(s).initial_fetch_timeout = "0s";
    });
    assert.equal(zero.find((x) => x.check === "initial-fetch-timeout")?.evidence.value, "0s (wait for ever)");
    assert.ok(
      !ids(findings((s) => void delete eds(s).initial_fetch_timeout)).includes("initial-fetch-timeout"),
    );
  });

  it("hosts-draining: DRAINING and pending removal are told apart from unhealthy hosts", () => {
    const one = findings(undefined, (i) => (i === 0 ? { eds_health_status: "DRAINING" } : {}));
    const f = one.find((x) => x.check === "hosts-draining");
    assert.equal(f?.severity, "info");
    assert.match(f?.evidence.value ?? "", /^1 of 3 hosts: 127\.77\.0\.1:\d+ eds DRAINING$/);
    assert.ok(!ids(one).includes("hosts-unhealthy"), "a draining host is not also unhealthy");
    const all = findings(undefined, () => ({ pending_dynamic_removal: true }));
    const g = all.find((x) => x.check === "hosts-draining");
    assert.equal(g?.severity, "warning");
    assert.match(g?.why ?? "", /ignore_health_on_host_removal/);
  });
});
