import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { findEnvoy } from "../../src/envoy/binary.js";
import { L4_CLUSTER_NAME } from "../../src/envoy/l4-proxy.js";
import { startLabCluster } from "../../src/lab/cluster.js";
import type { LabEvent } from "../../src/lab/events.js";
import { DEFAULT_VIRTUAL_IP, resolveLabOptions } from "../../src/lab/options.js";
import { type LabRunReport, runLab } from "../../src/lab/run.js";
import { startLoad } from "../../src/loadgen/engine.js";
import { runLoad } from "../../src/loadgen/run-load.js";
import { formatHostPort } from "../../src/util/address.js";
import { waitFor } from "../../src/util/wait.js";
import { isAlive, killSpawned, pidsIn, spawnCli, waitAllGone } from "../helpers.js";

after(killSpawned);

function collect() {
  const events: LabEvent[] = [];
  const pids = () =>
    events.flatMap((e) => (e.kind === "server-started" || e.kind === "envoy-started" ? [e.pid] : []));
  return { events, pids, onEvent: (e: LabEvent) => void events.push(e) };
}

function listen(host: string, port = 0): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

describe("the local cluster with a real Envoy", () => {
  it("round robin spreads 300 requests over 3 servers exactly 100/100/100", async () => {
    const c = collect();
    const report = await runLab({ servers: 3, requests: 300, concurrency: 1 }, c.onEvent);
    assert.deepEqual(report.requests, { total: 300, ok: 300, failed: 0 });
    assert.deepEqual(Object.values(report.backends), [100, 100, 100]);
    const started = c.events.filter((e) => e.kind === "server-started");
    assert.deepEqual(
      Object.keys(report.backends).sort(),
      started.map((e) => e.id).sort(),
      "every reply came from a server the lab started",
    );
    assert.equal(c.pids().length, 4);
    await waitAllGone(c.pids());
  });

  it("least_request with concurrency still reaches every server", async () => {
    const c = collect();
    const report = await runLab(
      { servers: 3, requests: 300, concurrency: 8, envoy: { policy: "least_request" } },
      c.onEvent,
    );
    assert.equal(report.requests.failed, 0);
    assert.equal(Object.keys(report.backends).length, 3);
    for (const n of Object.values(report.backends)) assert.ok(n > 0);
    await waitAllGone(c.pids());
  });

  it("a lab started without hot restart refuses to reload Envoy, and keeps serving", async () => {
    const cluster = await startLabCluster(resolveLabOptions({ servers: 1 }));
    try {
      await assert.rejects(
        cluster.reloadEnvoy({ policy: "least_request" }),
        /started with hot restart disabled/,
      );
      assert.equal((await runLoad({ target: cluster.listenAddress, requests: 5 })).requests.ok, 5);
    } finally {
      await cluster.stop();
    }
  });

  it("Envoy's own counters agree with the client: one upstream request per call, per host", async () => {
    const c = collect();
    const cluster = await startLabCluster(resolveLabOptions({ servers: 2 }), c.onEvent);
    try {
      // The start's wait sent probe calls through Envoy too: count from here.
      const before = await cluster.requestsPerHost();
      const report = await runLoad({ target: cluster.listenAddress, requests: 40, concurrency: 4 });
      assert.equal(report.requests.ok, 40);
      const after = await cluster.requestsPerHost();
      for (const [id, n] of Object.entries(report.backends)) {
        const address = report.backendAddresses[id] ?? "";
        assert.equal((after[address] ?? 0) - (before[address] ?? 0), n, `Envoy's rq_total for ${id}`);
      }
    } finally {
      await cluster.stop();
    }
    await waitAllGone(c.pids());
  });
});

describe("grpc-lb lab as a command", () => {
  it("prints the JSON report on stdout and progress on stderr, leaving nothing running", async () => {
    const run = spawnCli(["lab", "--servers", "3", "-n", "30", "--json"]);
    const exit = await run.exit;
    assert.equal(exit.code, 0, run.stderr());
    const report = JSON.parse(run.lines.join("\n")) as LabRunReport;
    assert.deepEqual(report.requests, { total: 30, ok: 30, failed: 0 });
    assert.deepEqual(Object.values(report.backends), [10, 10, 10]);
    // Envoy's per-endpoint Prometheus counts, host by host, against the client's replies per server.
    const { envoyHosts } = report;
    assert.ok(envoyHosts, "the cross-check is in the report");
    assert.equal(envoyHosts.agree, true, envoyHosts.detail);
    assert.deepEqual(
      envoyHosts.hosts.map((h) => [h.client, h.envoy]),
      [
        [10, 10],
        [10, 10],
        [10, 10],
      ],
    );
    assert.match(run.stderr(), /envoy sees 3 hosts/);
    const pids = pidsIn(run.stderr());
    assert.equal(pids.length, 4);
    await waitAllGone(pids);
  });

  it("--discovery clusterip pins every request to one server; headless spreads them", async () => {
    // The same run twice; only what DNS answers for 'server' differs.
    const lab = (discovery: string) =>
      spawnCli(["lab", "--discovery", discovery, "--servers", "3", "-n", "60", "-c", "4", "--json"]);
    const runs = { clusterip: lab("clusterip"), headless: lab("headless") };
    for (const run of Object.values(runs)) assert.equal((await run.exit).code, 0, run.stderr());
    const l4 = JSON.parse(runs.clusterip.lines.join("\n")) as LabRunReport;
    const l7 = JSON.parse(runs.headless.lines.join("\n")) as LabRunReport;
    // Envoy's one host is the virtual IP: no per-server counts to hold against the client's.
    assert.equal(l4.envoyHosts, undefined);
    assert.equal(l7.envoyHosts?.agree, true, l7.envoyHosts?.detail);
    assert.equal(l4.requests.ok, 60);
    assert.deepEqual(
      Object.values(l4.backends),
      [60],
      "one HTTP/2 connection through an L4 balancer: one server",
    );
    assert.deepEqual(Object.values(l7.backends), [20, 20, 20], "per-request balancing: every server");
    assert.match(runs.clusterip.stderr(), /'server' -> 127\.77\.255\.254\n/);
    assert.match(runs.clusterip.stderr(), /envoy sees 1 host for 'server'/);
    const pids = pidsIn(runs.clusterip.stderr());
    assert.equal(pids.length, 5, "3 servers, the L4 proxy and Envoy");
    await waitAllGone([...pids, ...pidsIn(runs.headless.stderr())]);
  });

  it("the kube-proxy stand-in follows the servers by name: a new server gets new connections, made ones stay", async () => {
    const lab = await startLabCluster(resolveLabOptions({ servers: 2, topology: "clusterip" }));
    try {
      const [proxy] = lab.topology.proxies();
      assert.ok(proxy);
      const vip = formatHostPort(DEFAULT_VIRTUAL_IP, lab.pool.port);
      const held = startLoad({ target: vip, connections: 1, concurrency: 1, durationMs: 60_000 });
      await waitFor(
        "a first call on the held connection",
        () => (held.progress().ok > 0 ? true : undefined),
        {
          timeoutMs: 10_000,
        },
      );
      const [newcomer] = await lab.pool.add(1);
      assert.ok(newcomer);
      lab.setServerRecords(lab.servers());
      // Its DNS refresh (1 s) picks the newcomer up; the budget allows a few refreshes on a busy machine.
      await waitFor(
        "the L4 proxy to list 3 endpoints",
        async () => ((await proxy.admin.clusterHosts(L4_CLUSTER_NAME)).length === 3 ? true : undefined),
        { timeoutMs: 10_000 },
      );
      // New connections go round robin over the 3 endpoints: the newcomer answers some of 6.
      const fresh = [];
      for (let i = 0; i < 6; i++) fresh.push(await runLoad({ target: vip, requests: 5 }));
      assert.ok(
        fresh.some((r) => (r.backends[newcomer.id] ?? 0) === 5),
        JSON.stringify(fresh.map((r) => r.backends)),
      );
      const before = await held.stop();
      assert.deepEqual(
        Object.keys(before.backends).length,
        1,
        "a connection made before stays on its server",
      );
      assert.equal(before.backends[newcomer.id], undefined);
    } finally {
      await lab.stop();
    }
  });

  it("'lab up' serves until SIGINT, then stops everything and exits 130", async () => {
    const run = spawnCli(["lab", "up", "--servers", "2", "--listen-port", "0", "--admin-port", "0"]);
    const line = await run.line((l) => l.startsWith("Envoy listener:"));
    const target = line.replace("Envoy listener:", "").trim();
    const report = await runLoad({ target, requests: 20 });
    assert.deepEqual(Object.values(report.backends), [10, 10]);
    const pids = pidsIn(run.stderr());
    assert.equal(pids.length, 3);
    assert.ok(pids.every(isAlive));
    run.child.kill("SIGINT");
    assert.equal((await run.exit).code, 130, run.stderr());
    assert.match(run.stderr(), /stopped everything/);
    await waitAllGone(pids);
  });

  for (const signal of ["SIGKILL", "SIGHUP"] as const) {
    it(`'lab up' ended by ${signal} takes every server and Envoy with it`, async () => {
      const run = spawnCli(["lab", "up", "--servers", "2", "--listen-port", "0", "--admin-port", "0"]);
      await run.line((l) => l.startsWith("Envoy listener:"));
      const pids = pidsIn(run.stderr());
      assert.equal(pids.length, 3);
      run.child.kill(signal);
      const exit = await run.exit;
      // SIGKILL leaves no chance to clean up: the kernel's parent-death signal does it.
      // SIGHUP (a closed terminal) is a clean stop.
      if (signal === "SIGHUP") assert.equal(exit.code, 0, run.stderr());
      else assert.equal(exit.signal, "SIGKILL");
      await waitAllGone(pids);
      const workDir = join(
        tmpdir(),
        (await readdir(tmpdir())).find((n) => n.startsWith(`grpc-lb-lab-${run.child.pid}-`)) ?? "",
      );
      if (signal === "SIGKILL") {
        // Left behind by the killed lab; the next lab to start sweeps it.
        assert.ok(existsSync(workDir), "a SIGKILLed lab cannot clean up itself");
        const next = await startLabCluster(resolveLabOptions({ servers: 1 }));
        await next.stop();
      }
      assert.ok(!existsSync(workDir) || workDir === tmpdir(), `${workDir} was removed`);
    });
  }

  for (const args of [
    ["lab", "--servers", "2", "-n", "10000000"],
    ["lab", "scenario", "scale"],
  ]) {
    it(`'${args.join(" ")}' interrupted by SIGINT exits 130 and stops everything`, async () => {
      const run = spawnCli(args);
      // Interrupt once the cluster is serving, mid-run.
      await waitFor("the lab to be ready", () => (/lab: ready/.test(run.stderr()) ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 10,
      });
      run.child.kill("SIGINT");
      const exit = await run.exit;
      assert.equal(exit.code, 130, run.stderr());
      assert.match(`${run.lines.join("\n")}\n${run.stderr()}`, /interrupted/);
      await waitAllGone(pidsIn(run.stderr()));
    });
  }

  it("a second 'lab up' on the ports of a running one fails at once and starts nothing", async () => {
    const first = spawnCli(["lab", "up", "--servers", "1", "--listen-port", "0", "--admin-port", "0"]);
    const listener = (await first.line((l) => l.startsWith("Envoy listener:"))).split(":").at(-1)?.trim();
    const admin = (await first.line((l) => l.startsWith("Envoy admin:"))).split(":").at(-1)?.trim();
    assert.ok(listener && admin);
    const second = spawnCli([
      "lab",
      "up",
      "--servers",
      "1",
      "--listen-port",
      listener,
      "--admin-port",
      admin,
    ]);
    assert.equal((await second.exit).code, 1);
    assert.match(
      second.stderr(),
      new RegExp(`Envoy's listener port 127\\.0\\.0\\.1:${listener} is already in use .*nothing was started`),
    );
    assert.deepEqual(pidsIn(second.stderr()), [], "the second lab started no process");
    // The first one is unharmed and still serves.
    const report = await runLoad({ target: `127.0.0.1:${listener}`, requests: 5 });
    assert.equal(report.requests.ok, 5);
    const pids = pidsIn(first.stderr());
    first.child.kill("SIGTERM");
    assert.equal((await first.exit).code, 0);
    await waitAllGone(pids);
  });

  it("reports Envoy failing to start (a bad --log-path) and leaves nothing running", async () => {
    // The real Envoy, told to log into a directory that does not exist: it exits 1 at start-up.
    const dir = await mkdtemp(join(tmpdir(), "grpc-lb-test-"));
    after(() => rm(dir, { recursive: true, force: true }));
    const wrapper = join(dir, "envoy");
    const real = findEnvoy().path;
    await writeFile(
      wrapper,
      `#!/bin/sh\ncase "$1" in --version) exec "${real}" "$@";; esac\nexec "${real}" "$@" --log-path ${dir}/missing/envoy.log\n`,
      { mode: 0o755 },
    );
    const run = spawnCli(["lab", "--servers", "2"], { ENVOY_BIN: wrapper });
    assert.equal((await run.exit).code, 1);
    assert.match(run.stderr(), /grpc-lb: lab: envoy: exited with code 1 before ready/);
    assert.match(run.stderr(), /missing\/envoy\.log/);
    const pids = pidsIn(run.stderr());
    assert.equal(pids.length, 2, "both servers had started");
    await waitAllGone(pids);
  });

  it("reports a server failing to start (its address taken) and leaves nothing running", async () => {
    // Hold the second server's address:port so that server, and only it, cannot bind.
    const first = await listen("127.77.200.1");
    const port = (first.address() as { port: number }).port;
    first.close();
    const blocker = await listen("127.77.200.2", port);
    after(() => blocker.close());
    const c = collect();
    await assert.rejects(
      startLabCluster(
        resolveLabOptions({ servers: 3, addressBase: "127.77.200.1", serverPort: port }),
        c.onEvent,
      ),
      (e: unknown) => {
        assert.match(String(e), /server 2 \(127\.77\.200\.2\) exited with code 1 before its ready line/);
        assert.match(String(e), new RegExp(`cannot bind 127\\.77\\.200\\.2:${port}: address already in use`));
        return true;
      },
    );
    assert.ok(c.pids().length >= 1, "the other servers had started");
    assert.ok(!c.events.some((e) => e.kind === "envoy-started"), "Envoy was never started");
    await waitAllGone(c.pids());
  });
});
