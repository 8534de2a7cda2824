import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import type { CompareModeResult, CompareReport } from "../../src/compare/report.js";
import { packageRoot } from "../../src/paths.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

/** Debian's chromium, installed by `make chromium` (CI=true or GRPC_LB_ALLOW_INSTALL=1). */
const CHROMIUM = "/usr/bin/chromium";
const CHARTS = ["share", "latency", "kill"] as const;
/**
 * Long enough for the scale-out to be seen: the newcomer joins DNS at SCALE_AT_MS, then comes
 * HAProxy's and Envoy's next DNS refresh (1 s each in the lab) and HAProxy's first health check (1 s).
 */
const DURATION_MS = 5000;
const KILL_AT_MS = 1500;
const SCALE_AT_MS = 2000;
/** From the newcomer joining DNS to its first call through HAProxy or Envoy, at most: refresh + check + slack. */
const JOIN_BUDGET_MS = 1000 + 1000 + 500;
/** Where the browser test leaves its screenshot (build output, not committed). */
const SCREENSHOT = join(packageRoot, "dist", "test-artifacts", "compare-report.png");

describe("grpc-lb lab compare at small scale", () => {
  let dir: string;
  let report: CompareReport;
  let html: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-compare-"));
    const run = spawnCli([
      "lab",
      "compare",
      "--duration-ms",
      String(DURATION_MS),
      "--rate",
      "60",
      "--kill-at-ms",
      String(KILL_AT_MS),
      "--scale-at-ms",
      String(SCALE_AT_MS),
      "--html",
      join(dir, "report.html"),
      "--output",
      join(dir, "report.json"),
    ]);
    const { code } = await run.exit;
    assert.equal(code, 0, `lab compare failed; stderr:\n${run.stderr()}`);
    assert.match(run.lines.join("\n"), /envoy-round_robin/, "the table names every mode");
    report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as CompareReport;
    html = await readFile(join(dir, "report.html"), "utf8");
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const mode = (name: string): CompareModeResult => {
    const m = report.modes.find((x) => x.mode === name);
    assert.ok(m, `mode ${name} in the report (modes: ${report.modes.map((x) => x.mode).join(", ")})`);
    return m;
  };

  it("runs every mode, with a kill and the balancer's CPU in each", () => {
    assert.deepEqual(
      report.modes.map((m) => m.mode),
      [
        "l4",
        "l4-max-age",
        "envoy-round_robin",
        "envoy-least_request",
        "envoy-random",
        "envoy-ring_hash",
        "envoy-maglev",
        "client-round_robin",
        "haproxy",
        "nginx",
        "eds-round_robin",
        "proxyless-round_robin",
      ],
    );
    for (const m of report.modes) {
      assert.ok(
        m.killAtMs !== null && m.killAtMs >= KILL_AT_MS - 50,
        `${m.mode}: server 2 killed mid-run (${m.killAtMs})`,
      );
      assert.ok(
        m.balancerCpuSec > 0,
        `${m.mode}: the balancing layer's CPU was measured (${m.balancerCpuSec})`,
      );
      assert.ok(m.requests.ok > 150, `${m.mode}: calls went through (${m.requests.ok})`);
      assert.equal(m.backends.length, 3, `${m.mode}: every server listed`);
    }
  });

  it("L4 lands unevenly; Envoy round robin spreads over all three and hides the kill", () => {
    const l4 = mode("l4");
    const rr = mode("envoy-round_robin");
    const l4Max = Math.max(...l4.backends.map((b) => b.sharePct));
    // 4 connections over 3 servers, one server per connection: 2/1/1 at best.
    assert.ok(
      l4.backendsUsed < 3 || l4Max >= 45,
      `L4 pins connections: ${l4.backends.map((b) => b.sharePct).join("/")}`,
    );
    assert.equal(rr.backendsUsed, 3, "Envoy round robin reaches every server");
    for (const b of rr.backends)
      assert.ok(b.sharePct > 25 && b.sharePct < 42, `round robin share of ${b.label}: ${b.sharePct}%`);
    assert.ok(l4.cv > rr.cv + 0.15, `L4's cv ${l4.cv} well above round robin's ${rr.cv}`);
    assert.equal(rr.failedAfterKill, 0, "Envoy's health checks, outlier detection and retries hide the kill");
  });

  it("scales out in every mode: HAProxy, Envoy and the xDS modes reach the newcomer, nginx 1.22 never does", (t) => {
    for (const m of report.modes) {
      const s = m.scaleOut;
      assert.ok(s !== undefined && s !== null, `${m.mode}: the scale-out is reported`);
      assert.ok(s.joinedAtMs > 0, `${m.mode}: the newcomer joined (${JSON.stringify(s)})`);
      assert.equal(s.server, 4, `${m.mode}: server 4 is the newcomer`);
    }
    const nginx = mode("nginx").scaleOut;
    assert.ok(nginx);
    assert.equal(nginx.calls, 0, "nginx 1.22 resolved its upstream at start: the newcomer gets no call");
    assert.equal(nginx.firstCallMs, null);
    // Under xDS the newcomer is held out of EDS until it joins, then pushed at once: no DNS refresh.
    for (const name of ["haproxy", "envoy-round_robin", "eds-round_robin", "proxyless-round_robin"]) {
      const s = mode(name).scaleOut;
      assert.ok(s);
      if (s.joinedAtMs + JOIN_BUDGET_MS > DURATION_MS) {
        t.diagnostic(`${name}: joined at ${s.joinedAtMs} ms, too late to judge within the run`);
        continue;
      }
      assert.ok(s.calls > 0, `${name}: the newcomer answered calls (${JSON.stringify(s)})`);
      assert.ok(s.firstCallMs !== null && s.firstCallMs <= JOIN_BUDGET_MS, `${name}: first call in budget`);
    }
    for (const name of ["eds-round_robin", "proxyless-round_robin"]) {
      const m = mode(name);
      const joinedSec = (m.scaleOut?.joinedAtMs ?? 0) / 1000;
      const early = m.perSecond
        .filter((s) => s.second + 1 <= joinedSec)
        .reduce((n, s) => n + (s.backends["server 4 (new)"] ?? 0), 0);
      assert.equal(early, 0, `${name}: the xDS server held the newcomer back until it joined`);
    }
    assert.match(html, /newcomer share/, "the page's table has the scale-out");
  });

  it("renders a self-contained page whose charts show in headless Chromium without a request", async (t) => {
    assert.doesNotMatch(
      html,
      /<script|https?:\/\/(?!www\.w3\.org\/)/i,
      "no script and no URL but SVG namespaces",
    );
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} is missing: 'CI=true make chromium' (as root) installs Debian's chromium`);
      return;
    }
    const profile = await mkdtemp(join(tmpdir(), "grpc-lb-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1200, height: 900 },
    });
    try {
      const requests: string[] = [];
      await context.route("**/*", async (route) => {
        requests.push(route.request().url());
        await route.abort();
      });
      const page = await context.newPage();
      page.on("request", (r) => requests.push(r.url()));
      await page.setContent(html, { waitUntil: "load" });
      for (const id of CHARTS) {
        const svg = page.locator(`#chart-${id} svg`);
        assert.equal(await svg.count(), 1, `chart ${id} has one SVG`);
        assert.ok(await svg.isVisible(), `chart ${id} is visible`);
        const box = await svg.boundingBox();
        assert.ok(
          box && box.width > 100 && box.height > 50,
          `chart ${id} has a size: ${JSON.stringify(box)}`,
        );
        const marks = await svg.locator("path, rect, line").count();
        assert.ok(marks > 10, `chart ${id} draws marks (${marks})`);
      }
      await mkdir(join(packageRoot, "dist", "test-artifacts"), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.ok((await stat(SCREENSHOT)).size > 10_000, "the screenshot was saved");
      assert.deepEqual(requests, [], "the page made no request");
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
