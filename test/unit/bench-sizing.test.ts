import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  coresBusy,
  coresPer1000CallsPerSec,
  cpuUsPerCall,
  cpuWindow,
  netCpuSec,
  statCpuTicks,
} from "../../src/bench/cpu-account.js";
import {
  clockTicksPerSec,
  processCpuTicks,
  startCpuWindow,
  startOwnCpuWindow,
} from "../../src/bench/proc-cpu.js";
import { formatSizing } from "../../src/bench/sizing-report.js";
import {
  median,
  type SizingIdle,
  type SizingResult,
  type SizingRun,
  summarizeSizing,
} from "../../src/bench/sizing-result.js";
import { labBench } from "../../src/cli/commands/lab/bench.js";
import { UsageError } from "../../src/errors.js";
import { captureContext } from "../helpers.js";

/** A /proc/PID/stat line whose command name holds a space and a parenthesis, utime 1234, stime 56. */
const STAT =
  "4242 (envoy (w) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 56 0 0 20 0 9 0 100 200000000 3000 18446744073709551615";

describe("bench: CPU accounting", () => {
  it("reads utime + stime after the last ')' of the command name", () => {
    assert.equal(statCpuTicks(STAT), 1290);
  });

  it("rejects a line without utime and stime", () => {
    assert.throws(() => statCpuTicks("4242 (envoy) S 1 2"), /no utime\/stime/);
  });

  it("turns ticks into CPU seconds at the clock's rate", () => {
    assert.deepEqual(cpuWindow(1000, 1250, 100, 5000), { cpuSec: 2.5, wallMs: 5000 });
    assert.deepEqual(cpuWindow(0, 250, 250, 1000), { cpuSec: 1, wallMs: 1000 });
  });

  it("gives the idle cost as cores busy, and subtracts it pro rata to a step's length", () => {
    const idle = coresBusy({ cpuSec: 0.05, wallMs: 5000 });
    assert.equal(idle, 0.01);
    // 3 s of step at 0.01 cores idle: 0.03 s of the 1.23 s is idle cost.
    assert.ok(Math.abs(netCpuSec({ cpuSec: 1.23, wallMs: 3000 }, idle) - 1.2) < 1e-9);
    // 1.2 s over 3000 calls: 400 µs each, 0.4 cores per 1,000 calls/s.
    const us = cpuUsPerCall({ cpuSec: 1.23, wallMs: 3000 }, idle, 3000);
    assert.ok(us !== null && Math.abs(us - 400) < 1e-6);
    assert.ok(Math.abs(coresPer1000CallsPerSec(400) - 0.4) < 1e-12);
  });

  it("never goes below 0, and has no per-call figure without calls", () => {
    assert.equal(netCpuSec({ cpuSec: 0.01, wallMs: 3000 }, 0.01), 0);
    assert.equal(cpuUsPerCall({ cpuSec: 1, wallMs: 3000 }, 0, 0), null);
    assert.equal(coresBusy({ cpuSec: 1, wallMs: 0 }), 0);
  });

  it("reads this process's CPU ticks from /proc, and a window that does not run backwards", () => {
    assert.ok(clockTicksPerSec() > 0);
    assert.ok(processCpuTicks(process.pid) >= 0);
    const w = startCpuWindow(process.pid)();
    assert.ok(w.cpuSec >= 0 && w.wallMs >= 0);
    const own = startOwnCpuWindow();
    let x = 0;
    for (let i = 0; i < 1e6; i++) x += i;
    assert.ok(x > 0 && own().cpuSec > 0);
  });
});

const run = (o: Partial<SizingRun> & Pick<SizingRun, "path" | "repeat" | "p50Ms">): SizingRun => ({
  envoyConcurrency: 1,
  step: { kind: "rate", rps: 200 },
  calls: 600,
  failed: 0,
  callsPerSec: 200,
  p99Ms: o.p50Ms * 4,
  envoyCpu: o.path === "envoy" ? { cpuSec: 0.27, wallMs: 3000 } : null,
  clientCpu: { cpuSec: 0.48, wallMs: 3000 },
  ...o,
});

const IDLE: SizingIdle[] = [{ envoyConcurrency: 1, window: { cpuSec: 0.05, wallMs: 5000 }, cores: 0.01 }];

describe("bench: the sizing table", () => {
  it("takes medians, pairs runs by repeat for what Envoy adds, and reports the spread", () => {
    const runs = [
      run({ path: "direct", repeat: 0, p50Ms: 1.0 }),
      run({ path: "envoy", repeat: 0, p50Ms: 1.5 }),
      run({ path: "envoy", repeat: 1, p50Ms: 3.0 }),
      run({ path: "direct", repeat: 1, p50Ms: 2.8 }),
      run({ path: "direct", repeat: 2, p50Ms: 1.1 }),
      run({ path: "envoy", repeat: 2, p50Ms: 1.4, envoyCpu: { cpuSec: 0.33, wallMs: 3000 } }),
    ];
    const [row, ...rest] = summarizeSizing(runs, IDLE);
    assert.equal(rest.length, 0);
    assert.ok(row);
    assert.equal(row.repeats, 3);
    assert.equal(row.direct.p50Ms, 1.1);
    assert.equal(row.envoy.p50Ms, 1.5);
    // Per repeat: +0.5, +0.2, +0.3: the median is 0.3, not 1.5 - 1.1.
    assert.ok(Math.abs(row.addedP50Ms - 0.3) < 1e-9);
    assert.ok(Math.abs(row.addedP50SpreadMs - 0.3) < 1e-9);
    // (0.27 - 0.03) s / 600 calls = 400 µs; (0.33 - 0.03) / 600 = 500 µs; median of 400, 400, 500.
    assert.ok(row.envoyCpuUsPerCall !== null && Math.abs(row.envoyCpuUsPerCall - 400) < 1e-6);
    assert.ok(Math.abs(row.envoyCpuUsPerCallSpread - 100) < 1e-6);
    assert.ok(
      row.envoyCoresPer1000CallsPerSec !== null && Math.abs(row.envoyCoresPer1000CallsPerSec - 0.4) < 1e-9,
    );
    // The load tool spent 0.48 s on 600 direct calls: 800 µs each, so Envoy costs half a client call.
    assert.ok(row.clientCpuUsPerCall !== null && Math.abs(row.clientCpuUsPerCall - 800) < 1e-6);
    assert.ok(row.envoyPerClientCpu !== null && Math.abs(row.envoyPerClientCpu - 0.5) < 1e-9);
  });

  it("keeps one row per worker count and step, in the order they ran", () => {
    const closed = { kind: "closed", concurrency: 1 } as const;
    const rows = summarizeSizing(
      [
        run({ path: "direct", repeat: 0, p50Ms: 1 }),
        run({ path: "envoy", repeat: 0, p50Ms: 2 }),
        run({ path: "direct", repeat: 0, p50Ms: 1, step: closed }),
        run({ path: "envoy", repeat: 0, p50Ms: 2, step: closed, failed: 2 }),
        run({ path: "direct", repeat: 0, p50Ms: 1, envoyConcurrency: 2 }),
        run({ path: "envoy", repeat: 0, p50Ms: 2, envoyConcurrency: 2 }),
      ],
      IDLE,
    );
    assert.deepEqual(
      rows.map((r) => [r.envoyConcurrency, r.step.kind, r.failed]),
      [
        [1, "rate", 0],
        [1, "closed", 2],
        [2, "rate", 0],
      ],
    );
    // No idle measured for 2 workers: nothing is subtracted (0.27 s / 600 calls).
    assert.ok(Math.abs((rows[2]?.envoyCpuUsPerCall ?? 0) - 450) < 1e-6);
  });

  it("takes the median of an even count as the mean of the middle two", () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it("prints a row per cell with the machine, its load, idle cost and noise", () => {
    const runs = [
      run({ path: "direct", repeat: 0, p50Ms: 1 }),
      run({ path: "envoy", repeat: 0, p50Ms: 1.25 }),
    ];
    const result: SizingResult = {
      machine: {
        cores: 2,
        loadAvgStart: [1.5, 1, 0.5],
        loadAvgEnd: [2, 1, 0.5],
        node: "v20.0.0",
        envoy: "1.40.0",
        clockTicksPerSec: 100,
      },
      stepMs: 3000,
      repeats: 1,
      servers: 3,
      idle: IDLE,
      rows: summarizeSizing(runs, IDLE),
      runs,
    };
    const text = formatSizing(result);
    assert.match(
      text,
      /Envoy 1\.40\.0, Node v20\.0\.0, 2 cores, load average 1\.50 1\.00 0\.50 at the start/,
    );
    assert.match(
      text,
      /^ +1 200\/s +200 +200 +1\.00 +4\.00 +1\.25 +5\.00 +\+0\.25 +\+1\.00 +400 +0\.40 +0\.50 +0$/m,
    );
    assert.match(text, /1 worker 0\.010 cores/);
    assert.match(text, /added p50 varied by up to 0\.00 ms/);
    // Header and rows line up: the second header line is as wide as a row.
    const lines = text.split("\n").slice(3, 5);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1, lines.join("\n"));
  });
});

describe("bench: flags", () => {
  it("rejects a bad list before anything starts", async () => {
    for (const argv of [
      ["--rates", "200,abc"],
      ["--envoy-concurrency", "1,1"],
      ["--rates", ""],
    ]) {
      const { ctx } = captureContext();
      await assert.rejects(labBench.run(argv, ctx), UsageError, argv.join(" "));
    }
  });

  it("prints its usage", async () => {
    const { ctx, stdout } = captureContext();
    assert.equal(await labBench.run(["--help"], ctx), 0);
    assert.match(stdout(), /--envoy-concurrency LIST/);
  });
});
