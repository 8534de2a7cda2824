import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { resolveLabOptions } from "../../src/lab/options.js";
import { startLoad } from "../../src/loadgen/engine.js";
import { runLoad } from "../../src/loadgen/run-load.js";
import { findPeer, locatePeer } from "../../src/peers/binary.js";
import { startPeerCluster } from "../../src/peers/cluster.js";
import { PEER_DRIVERS } from "../../src/peers/drivers.js";
import { haproxyFiles } from "../../src/peers/haproxy/config.js";
import { haproxyServers } from "../../src/peers/haproxy/stats.js";
import { PEER_KINDS, type PeerKind, resolvePeerConfig } from "../../src/peers/options.js";
import { waitForPeerRoutes } from "../../src/peers/ready.js";
import { validatePeerConfig } from "../../src/peers/validate.js";
import { isAlive, killSpawned, pidsIn, spawnCli, waitAllGone } from "../helpers.js";

after(killSpawned);

/**
 * Why a peer's tests cannot run here, or undefined when they must. A missing binary fails the
 * tests where `make peers` was allowed to install it (CI=true or GRPC_LB_ALLOW_INSTALL=1, as
 * root): there its absence is a broken setup, not a reason to skip.
 */
function skipReason(kind: PeerKind): string | undefined {
  const driver = PEER_DRIVERS[kind];
  if (locatePeer(driver) !== undefined) return undefined;
  const allowed =
    process.getuid?.() === 0 && (process.env.CI === "true" || process.env.GRPC_LB_ALLOW_INSTALL === "1");
  return allowed
    ? undefined
    : `${driver.executable} is missing and this machine may not install it: 'CI=true make peers' (as root) installs Debian's ${driver.debianPackage}`;
}

const split = (backends: Record<string, number>): number[] => Object.values(backends).sort((a, b) => a - b);

for (const kind of PEER_KINDS) {
  const skip = skipReason(kind);
  describe(`${kind} as the balancing layer`, { skip }, () => {
    it("its generated configuration passes the binary's own check, and a broken one does not", async () => {
      const driver = PEER_DRIVERS[kind];
      const binary = await findPeer(driver);
      const workDir = await mkdtemp(join(tmpdir(), `grpc-lb-${kind}-check-`));
      try {
        const config = resolvePeerConfig({
          listenPort: 18080,
          serverPort: 50051,
          dns: { host: "127.0.0.1", port: 5353 },
          addresses: ["127.77.0.1"],
          workDir,
        });
        const path = driver.files(workDir).config;
        await writeFile(path, driver.render(config, "test"));
        const good = await validatePeerConfig(driver, binary.path, path, workDir);
        assert.ok(good.ok, good.output);
        await appendFile(path, "\nno_such_directive on;\n");
        const bad = await validatePeerConfig(driver, binary.path, path, workDir);
        assert.equal(bad.ok, false);
        assert.match(bad.output, /no_such_directive/);
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    });

    it(`grpc-lb lab --proxy ${kind} sends 100 calls to 3 servers: 33/33/34, and leaves nothing running`, async () => {
      const run = spawnCli(["lab", "--proxy", kind, "--servers", "3", "--requests", "100"]);
      const exit = await run.exit;
      assert.equal(exit.code, 0, run.stderr());
      const out = run.lines.join("\n");
      assert.match(out, new RegExp(`^through ${kind}$`, "m"));
      assert.match(out, /3 backends answered 100 of 100 requests: 33\/33\/34/);
      const pids = pidsIn(run.stderr());
      assert.equal(pids.length, 4, `3 servers and ${kind}: ${run.stderr()}`);
      await waitAllGone(pids);
    });

    it("a server killed with SIGKILL costs no failed call: the proxy retries on the survivors", async () => {
      const lab = await startPeerCluster(kind, resolveLabOptions({ servers: 3 }));
      try {
        const [victim] = lab.servers();
        assert.ok(victim);
        const statsPath = haproxyFiles(dirname(lab.peer.configPath)).stats;
        const callsBefore = kind === "haproxy" ? await haproxyServers(statsPath) : [];
        await lab.pool.kill(victim);
        // Right after the kill: the proxy still holds the dead server (HAProxy until its check
        // fails twice, nginx until a call fails), so calls reach it and must be retried.
        const report = await runLoad({ target: lab.listenAddress, requests: 100, concurrency: 1 });
        assert.deepEqual(report.requests, { total: 100, ok: 100, failed: 0 }, JSON.stringify(report.errors));
        assert.deepEqual(split(report.backends), [50, 50]);
        const dead = `${victim.host}:${victim.port}`;
        assert.ok(!Object.values(report.backendAddresses).includes(dead));
        if (kind === "haproxy") {
          // HAProxy's own counters agree: each survivor took 50 calls of the run.
          const before = new Map(callsBefore.map((s) => [s.slot, s.calls]));
          const survivors = (await haproxyServers(statsPath))
            .filter((s) => s.address !== "" && s.address !== dead)
            .map((s) => s.calls - (before.get(s.slot) ?? 0));
          assert.deepEqual(survivors, [50, 50]);
        }
      } finally {
        await lab.stop();
      }
      assert.equal(isAlive(lab.peer.process.pid), false);
    });

    it("a server killed under load (4 calls in flight) costs only calls sent to it around the kill", async () => {
      const lab = await startPeerCluster(kind, resolveLabOptions({ servers: 3 }));
      try {
        const [victim] = lab.servers();
        assert.ok(victim);
        let killed: Promise<void> | undefined;
        let finished = 0;
        const run = startLoad({
          target: lab.listenAddress,
          requests: 400,
          concurrency: 4,
          onCall: () => {
            if (++finished === 100) killed = lab.pool.kill(victim);
          },
        });
        const report = await run.done;
        await killed;
        // Measured: HAProxy (retry-on empty-response) lost 0-1 call of 9 runs, nginx (which cannot
        // replay a call it sent) 0-4 of 11. Only calls sent to the victim around the kill may fail:
        // the 4 in flight, and a few sent on its connections before the proxy saw them close.
        const bound = kind === "haproxy" ? 4 : 8;
        assert.ok(
          report.requests.failed <= bound,
          `failed ${report.requests.failed}: ${JSON.stringify(report.errors)}`,
        );
        assert.equal(report.requests.ok + report.requests.failed, 400);
        const dead = `${victim.host}:${victim.port}`;
        const victimId = Object.entries(report.backendAddresses).find(([, a]) => a === dead)?.[0] ?? "";
        // Before the kill it had a third of 100 calls, give or take those in flight; none after.
        assert.ok((report.backends[victimId] ?? 0) <= 40, JSON.stringify(report.backends));
      } finally {
        await lab.stop();
      }
    });

    it("a fourth server joins DNS: HAProxy spreads over four, nginx keeps the three it resolved at start", async () => {
      const lab = await startPeerCluster(kind, resolveLabOptions({ servers: 3 }));
      try {
        const [added] = await lab.addServers(1);
        assert.ok(added);
        const all = new Set(lab.servers().map((s) => `${s.host}:${s.port}`));
        if (kind === "haproxy") await waitForPeerRoutes(lab.peer, all, 30_000);
        const report = await runLoad({ target: lab.listenAddress, requests: 100, concurrency: 1 });
        assert.equal(report.requests.failed, 0);
        const newcomer = Object.values(report.backendAddresses).includes(`${added.host}:${added.port}`);
        if (kind === "haproxy") {
          assert.ok(newcomer);
          assert.deepEqual(split(report.backends), [25, 25, 25, 25]);
        } else {
          assert.equal(newcomer, false, "nginx 1.22 resolves its upstream only at start");
          assert.deepEqual(split(report.backends), [33, 33, 34]);
        }
      } finally {
        await lab.stop();
      }
    });
  });
}

describe("lab --proxy refuses what it cannot do, before starting anything", () => {
  for (const [args, message] of [
    [["--proxy", "traefik"], /--proxy must be one of envoy, haproxy, nginx, got 'traefik'/],
    [["--proxy", "nginx", "--tls"], /--tls shapes Envoy's lab; with --proxy nginx use the defaults/],
    [["--proxy", "haproxy", "--envoys", "2", "--policy", "random"], /--envoys, --policy shape Envoy's lab/],
  ] as const) {
    it(`grpc-lb lab ${args.join(" ")}: exit code 2`, async () => {
      const run = spawnCli(["lab", ...args]);
      const exit = await run.exit;
      assert.equal(exit.code, 2, run.stderr());
      assert.match(run.stderr(), message);
      assert.deepEqual(pidsIn(run.stderr()), []);
    });
  }
});
