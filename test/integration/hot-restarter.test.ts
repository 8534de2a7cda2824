import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EnvoyAdmin } from "../../src/envoy/admin.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { packageRoot } from "../../src/paths.js";
import { waitFor } from "../../src/util/wait.js";
import { descendants, isAlive } from "../helpers.js";

const RESTARTER = join(packageRoot, "deploy/envoy/hot-restarter.sh");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** An Envoy whose one listener answers every request with `status`: a change shows on the wire. */
const config = (listenPort: number, adminPort: number, status: number): string => `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${adminPort} } }
static_resources:
  listeners:
    - name: probe
      address: { socket_address: { address: 127.0.0.1, port_value: ${listenPort} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: probe
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{ match: { prefix: / }, direct_response: { status: ${status} } }]
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
`;

describe("deploy/envoy/hot-restarter.sh: Envoy's own hot restart as PID 1 of a container", () => {
  let dir = "";
  let restarter: ChildProcess | undefined;
  let stderr = "";
  let listenPort = 0;
  let admin: EnvoyAdmin;
  // A base id of this run's own: the shared memory of a hot restart is named after it.
  const baseId = 40_000 + (process.pid % 20_000);
  const status = async (): Promise<number> =>
    (await fetch(`http://127.0.0.1:${listenPort}/`, { headers: { connection: "close" } })).status;
  const epoch = () => admin.stat("server.hot_restart_epoch");
  const envoys = () => descendants(restarter?.pid ?? 0).filter(isAlive);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-hot-restarter-"));
    listenPort = await freePort();
    const adminPort = await freePort();
    admin = new EnvoyAdmin(`127.0.0.1:${adminPort}`);
    await writeFile(join(dir, "source.yaml"), config(listenPort, adminPort, 200));
    restarter = spawn(
      "bash",
      [
        RESTARTER,
        join(dir, "source.yaml"),
        dir,
        "--base-id",
        String(baseId),
        "--drain-time-s",
        "1",
        "--drain-strategy",
        "immediate",
        "--parent-shutdown-time-s",
        "2",
        "--log-level",
        "error",
      ],
      { env: { ...process.env, ENVOY_BINARY: findEnvoy().path }, stdio: ["ignore", "ignore", "pipe"] },
    );
    restarter.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    await waitFor(
      "epoch 0 to serve",
      async () => ((await status().catch(() => 0)) === 200 ? true : undefined),
      {
        timeoutMs: 20_000,
      },
    );
  });

  after(async () => {
    if (restarter?.exitCode === null) restarter.kill("SIGKILL");
    for (const pid of envoys()) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
    await rm(`/dev/shm/envoy_shared_memory_${baseId * 10}`, { force: true });
  });

  it("runs a copy of the mounted config as epoch 0", async () => {
    assert.equal(
      await readFile(join(dir, "envoy.yaml"), "utf8"),
      await readFile(join(dir, "source.yaml"), "utf8"),
    );
    assert.equal(await epoch(), 0);
  });

  it("SIGHUP: the next epoch serves the changed file on the same port, the old one drains and exits", async () => {
    const [first] = envoys();
    await writeFile(
      join(dir, "envoy.yaml"),
      (await readFile(join(dir, "envoy.yaml"), "utf8")).replace("status: 200", "status: 204"),
    );
    restarter?.kill("SIGHUP");
    await waitFor(
      "epoch 1 to answer 204",
      async () => ((await status().catch(() => 0)) === 204 ? true : undefined),
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(await epoch(), 1);
    await waitFor("epoch 0 to exit", () => (first !== undefined && !isAlive(first) ? true : undefined), {
      timeoutMs: 10_000,
    });
    assert.equal(envoys().length, 1);
    // The restarter says so once it has reaped epoch 0, a moment after the process is gone.
    await waitFor(
      "the restarter to report epoch 0's exit",
      () => (/epoch 0 \(pid \d+\) exited/.test(stderr) ? true : undefined),
      { timeoutMs: 10_000 },
    );
    assert.match(stderr, /epoch 0 \(pid \d+\) exited with status 0/);
  });

  it("SIGHUP with a file that does not validate: refused, the serving epoch goes on", async () => {
    await writeFile(join(dir, "envoy.yaml"), "not_a_field: 1\n");
    restarter?.kill("SIGHUP");
    await waitFor(
      "the refusal",
      () => (/does not validate; epoch 1 .* goes on serving/.test(stderr) ? true : undefined),
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(await status(), 204);
    assert.equal(await epoch(), 1);
    assert.equal(envoys().length, 1);
  });

  it("SIGTERM: every epoch stops and the restarter exits with the serving one's status", async () => {
    const pids = envoys();
    const exited = new Promise<number | null>((resolve) => restarter?.once("exit", (code) => resolve(code)));
    restarter?.kill("SIGTERM");
    assert.equal(await exited, 0);
    for (const pid of pids) assert.equal(isAlive(pid), false, `envoy ${pid} left running`);
  });
});
