import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BenchResult, formatBench } from "../../src/bench/bench.js";
import { resolveTlsCostOptions } from "../../src/bench/tls-cost.js";
import { describeTlsCostRun, formatTlsCost } from "../../src/bench/tls-cost-report.js";
import {
  type HandshakeRun,
  summarizeTlsCost,
  type TlsCostIdle,
  type TlsCostResult,
  type TlsCostRun,
} from "../../src/bench/tls-cost-result.js";
import { labBench } from "../../src/cli/commands/lab/bench.js";
import { UsageError } from "../../src/errors.js";
import type { LabTlsKind } from "../../src/lab/lab-tls.js";
import { captureContext } from "../helpers.js";

const close = (a: number | null | undefined, b: number): boolean => a != null && Math.abs(a - b) < 1e-6;

const run = (o: Partial<TlsCostRun> & Pick<TlsCostRun, "path" | "repeat" | "p50Ms">): TlsCostRun => ({
  calls: 1200,
  failed: 0,
  callsPerSec: 400,
  p99Ms: o.p50Ms * 3,
  envoyCpu: o.path === "direct" ? null : { cpuSec: 0.6, wallMs: 3000 },
  serverCpu: { cpuSec: 1.2, wallMs: 3000 },
  ...o,
});

const handshake = (mode: LabTlsKind, repeat: number, p50Ms: number, envoySec: number): HandshakeRun => ({
  mode,
  repeat,
  connections: 100,
  failed: 0,
  p50Ms,
  p90Ms: p50Ms * 2,
  envoyCpu: { cpuSec: envoySec, wallMs: 1000 },
  clientCpu: { cpuSec: envoySec * 4, wallMs: 1000 },
});

/** 0.01 cores idle for Envoy and 0.02 for the servers: 0.03 s and 0.06 s of a 3 s run. */
const IDLE: TlsCostIdle[] = (["off", "downstream", "tls", "mtls"] as const).map((mode) => ({
  mode,
  envoyCores: 0.01,
  serverCores: 0.02,
}));

const RUNS: TlsCostRun[] = [
  run({ path: "direct", repeat: 0, p50Ms: 1.0 }),
  run({ path: "off", repeat: 0, p50Ms: 1.5 }),
  run({ path: "tls", repeat: 0, p50Ms: 1.7, envoyCpu: { cpuSec: 0.75, wallMs: 3000 } }),
  run({ path: "direct", repeat: 1, p50Ms: 2.0 }),
  run({ path: "off", repeat: 1, p50Ms: 2.4 }),
  run({ path: "tls", repeat: 1, p50Ms: 2.8, envoyCpu: { cpuSec: 0.75, wallMs: 3000 } }),
];
const HANDSHAKES: HandshakeRun[] = [
  handshake("off", 0, 3, 0.03),
  handshake("tls", 0, 6, 0.09),
  handshake("off", 1, 3.2, 0.03),
  handshake("tls", 1, 6.4, 0.09),
];

describe("bench: the TLS cost table", () => {
  it("pairs runs by round, over client-side round robin and over plaintext, net of idle", () => {
    const rows = summarizeTlsCost(RUNS, HANDSHAKES, IDLE);
    // Only modes that ran get a row, in the table's order.
    assert.deepEqual(
      rows.map((r) => r.mode),
      ["off", "tls"],
    );
    const [plain, tls] = rows;
    assert.ok(plain && tls);
    assert.equal(tls.repeats, 2);
    // Round 0: 1.7 - 1.0 and 1.7 - 1.5; round 1: 2.8 - 2.0 and 2.8 - 2.4.
    assert.ok(close(tls.addedOverDirect.p50Ms, 0.75));
    assert.ok(close(tls.addedOverPlaintext.p50Ms, 0.3));
    assert.ok(close(plain.addedOverPlaintext.p50Ms, 0));
    // (0.6 - 0.03) s / 1200 calls = 475 µs; (0.75 - 0.03) / 1200 = 600 µs.
    assert.ok(close(plain.envoyCpuUsPerCall, 475));
    assert.ok(close(tls.envoyCpuUsPerCall, 600));
    // (1.2 - 0.06) s / 1200 calls = 950 µs for the servers.
    assert.ok(close(tls.serverCpuUsPerCall, 950));
    // New connections: median ms, Envoy's CPU net of 0.01 s idle over 1 s, the client's as it is.
    assert.ok(close(tls.newConnection.p50Ms, 6.2));
    assert.ok(close(tls.newConnection.envoyCpuUs, 800));
    assert.ok(close(plain.newConnection.envoyCpuUs, 200));
    assert.ok(close(tls.newConnection.clientCpuUs, 3600));
  });

  it("counts failed calls and failed new connections in the row", () => {
    const rows = summarizeTlsCost(
      [run({ path: "mtls", repeat: 0, p50Ms: 1, failed: 2 })],
      [{ ...handshake("mtls", 0, 5, 0.1), failed: 3 }],
      [],
    );
    assert.equal(rows[0]?.failed, 5);
    // Nothing to pair with: no figure rather than a made-up one.
    assert.ok(Number.isNaN(rows[0]?.addedOverDirect.p50Ms));
  });

  it("prints a row per mode, what a handshake adds, and the machine's load", () => {
    const result: TlsCostResult = {
      machine: {
        cores: 2,
        loadAvgStart: [3.5, 3, 2],
        loadAvgEnd: [3, 3, 2],
        node: "v20.0.0",
        envoy: "1.40.0",
        clockTicksPerSec: 100,
      },
      step: { kind: "rate", rps: 400 },
      stepMs: 3000,
      repeats: 2,
      servers: 3,
      connections: 100,
      idle: IDLE,
      rows: summarizeTlsCost(RUNS, HANDSHAKES, IDLE),
      runs: RUNS,
      handshakes: HANDSHAKES,
    };
    const text = formatTlsCost(result);
    assert.match(
      text,
      /What TLS costs: Envoy 1\.40\.0, Node v20\.0\.0, 2 cores, load average 3\.50 3\.00 2\.00/,
    );
    assert.match(text, /400\/s to 3 servers, one lab per mode; medians of 2 runs of 3000 ms/);
    assert.match(
      text,
      /^TLS both legs +400 +2\.25 +6\.75 +\+0\.75 +\+2\.25 +\+0\.30 +\+0\.90 +600 +950 +6\.20 +\+3\.10 +800 +3600 +0$/m,
    );
    assert.match(text, /^plaintext +400 .* \+0\.00 +200 +1200 +0$/m);
    assert.match(
      text,
      /CPU per TLS handshake \(new connection over plaintext's\): TLS both legs Envoy 600 µs, client 2400 µs/,
    );
    // Header and rows line up: the column header is as wide as a full row.
    const lines = text.split("\n").slice(3, 5);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1, lines.join("\n"));

    // In the bench's JSON as it is, beside a sizing table that was not asked for.
    const bench: BenchResult = { sizing: null, tls: result, proxies: null, ghz: null, scale: null };
    const back = JSON.parse(JSON.stringify(bench)) as BenchResult;
    assert.equal(back.sizing, null);
    assert.deepEqual(
      back.tls?.rows,
      result.rows.map((r) => JSON.parse(JSON.stringify(r))),
    );
    assert.equal(back.tls?.handshakes.length, 4);
    assert.equal(formatBench(bench), text);
  });

  it("says what each run and handshake loop saw", () => {
    assert.match(
      describeTlsCostRun(run({ path: "downstream", repeat: 0, p50Ms: 2, failed: 1 })),
      /^bench: TLS cost, via Envoy, TLS downstream round 1: 1200 calls at 400\/s, p50 2\.00 ms, p99 6\.00 ms, 1 failed, Envoy CPU 0\.60 s, servers CPU 1\.20 s$/,
    );
    assert.match(
      describeTlsCostRun(run({ path: "direct", repeat: 1, p50Ms: 1 })),
      /direct \(plaintext, round_robin\) round 2/,
    );
    assert.match(
      describeTlsCostRun(handshake("mtls", 2, 6, 0.1)),
      /mTLS round 3: 100 new connections, p50 6\.00 ms/,
    );
  });

  it("resolves its defaults once", () => {
    const o = resolveTlsCostOptions();
    assert.deepEqual(o.step, { kind: "rate", rps: 400 });
    assert.equal(o.connections, 200);
    assert.equal(resolveTlsCostOptions({ connections: 5 }).connections, 5);
  });
});

describe("bench: TLS flags", () => {
  it("rejects an unknown --rows and bad TLS numbers before anything starts", async () => {
    for (const argv of [
      ["--rows", "ssl"],
      ["--tls-rate", "0"],
      ["--tls-connections", "x"],
    ]) {
      const { ctx } = captureContext();
      await assert.rejects(labBench.run(argv, ctx), UsageError, argv.join(" "));
    }
  });

  it("names them in its usage", async () => {
    const { ctx, stdout } = captureContext();
    assert.equal(await labBench.run(["--help"], ctx), 0);
    assert.match(stdout(), /--rows all\|sizing\|tls/);
    assert.match(stdout(), /--tls-rate N/);
    assert.match(stdout(), /--tls-connections N/);
  });
});
